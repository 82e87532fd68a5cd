#include "build/image_assembly.hpp"

namespace strata::build {

std::uint64_t AssembledImage::total_size() const {
  std::uint64_t n = config_bytes.size();
  for (const auto& l : layers) n += static_cast<std::uint64_t>(l.descriptor.size);
  return n;
}

Result<AssembledImage> assemble_image(ImageState state, const AssembleOptions& options) {
  auto& config = state.config;
  if (!options.platform.os.empty()) config.os = options.platform.os;
  if (!options.platform.architecture.empty()) {
    config.architecture = options.platform.architecture;
    config.variant = options.platform.variant;
  }
  config.rootfs_type = "layers";
  config.diff_ids.clear();
  for (const auto& l : state.layers) config.diff_ids.push_back(l.diff_id);
  if (options.reproducible) {
    config.created = std::string(k_epoch);
    for (auto& h : config.history) h.created.clear();
  } else {
    config.created = options.created;
  }
  std::size_t non_empty = 0;
  for (const auto& h : config.history) non_empty += !h.empty_layer;
  // Base images without history (or with partial history) are common; only a build whose own
  // entries disagree with its layers is a bug.
  if (!config.history.empty() && non_empty > state.layers.size()) {
    return fail(ErrorKind::internal, "history has " + std::to_string(non_empty) + " layer entries for " +
                                         std::to_string(state.layers.size()) + " layers");
  }

  AssembledImage out;
  out.format = state.format;
  out.config_bytes = config.serialize();
  out.config_digest = digest::sha256(out.config_bytes);
  out.manifest.schema_version = 2;
  out.manifest.media_type = manifest_media_type(state.format);
  out.manifest.config.media_type = config_media_type(state.format);
  out.manifest.config.digest = out.config_digest;
  out.manifest.config.size = static_cast<std::int64_t>(out.config_bytes.size());
  for (const auto& l : state.layers) out.manifest.layers.push_back(l.descriptor);
  out.manifest_bytes = out.manifest.serialize();
  out.manifest_digest = digest::sha256(out.manifest_bytes);
  out.manifest_media_type = out.manifest.media_type;
  out.layers = std::move(state.layers);
  out.base_reference = std::move(state.base_reference);
  return out;
}

}  // namespace strata::build
