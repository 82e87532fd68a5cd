#include "build/image_state.hpp"

#include "image/media_types.hpp"

namespace strata::build {

namespace media = image::media;

std::string_view to_string(ManifestFormat format) { return format == ManifestFormat::docker ? "docker" : "oci"; }

std::string layer_media_type(ManifestFormat format, archive::Compression compression) {
  if (format == ManifestFormat::docker) {
    switch (compression) {
      case archive::Compression::none: return std::string(media::docker_layer);
      case archive::Compression::gzip: return std::string(media::docker_layer_gzip);
      case archive::Compression::zstd: return std::string(media::docker_layer_zstd);
    }
  }
  switch (compression) {
    case archive::Compression::none: return std::string(media::oci_layer);
    case archive::Compression::gzip: return std::string(media::oci_layer_gzip);
    case archive::Compression::zstd: return std::string(media::oci_layer_zstd);
  }
  return std::string(media::oci_layer_gzip);
}

std::string manifest_media_type(ManifestFormat format) {
  return std::string(format == ManifestFormat::docker ? media::docker_manifest : media::oci_manifest);
}

std::string config_media_type(ManifestFormat format) {
  return std::string(format == ManifestFormat::docker ? media::docker_config : media::oci_config);
}

namespace {

Result<std::string> map_layer_type(std::string_view type, ManifestFormat to) {
  struct Pair {
    std::string_view docker, oci;
  };
  static constexpr Pair k_pairs[] = {
      {media::docker_layer_gzip, media::oci_layer_gzip},
      {media::docker_layer, media::oci_layer},
      {media::docker_layer_zstd, media::oci_layer_zstd},
      {media::docker_layer_foreign, media::oci_layer_nondist_gzip},
  };
  for (const auto& p : k_pairs) {
    if (type == p.docker || type == p.oci) return std::string(to == ManifestFormat::docker ? p.docker : p.oci);
  }
  if (to == ManifestFormat::oci && (type == media::oci_layer_nondist || type == media::oci_layer_nondist_zstd))
    return std::string(type);
  return fail(ErrorKind::unsupported,
              "layer media type " + std::string(type) + " has no " + std::string(to_string(to)) + " equivalent");
}

}  // namespace

Result<void> convert_format(ImageState& state, ManifestFormat format) {
  if (state.format == format) return {};
  for (auto& layer : state.layers) layer.descriptor.media_type = TRY(map_layer_type(layer.descriptor.media_type, format));
  state.format = format;
  return {};
}

}  // namespace strata::build
