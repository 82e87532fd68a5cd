// The final image of a build as bytes: the config JSON (diff_ids from the layers, platform
// fields, created) and the manifest in the image's format, with their digests. Outputs
// (push, docker-archive tar, OCI layout) only copy these bytes and the layer blobs.
//
// --reproducible: config.created is the epoch ("1970-01-01T00:00:00Z") and history entries
// carry no timestamps, so two builds of the same inputs give the same manifest digest (layer
// mtimes are pinned by the layer writer's MtimePolicy::set).
// Thread safety: pure.
#pragma once

#include <string>
#include <vector>

#include "build/image_state.hpp"
#include "digest/digest.hpp"
#include "image/manifest.hpp"
#include "image/platform.hpp"
#include "util/result.hpp"

namespace strata::build {

struct AssembledImage {
  ManifestFormat format = ManifestFormat::oci;
  std::string config_bytes;
  digest::Digest config_digest;
  std::string manifest_bytes;
  digest::Digest manifest_digest;
  std::string manifest_media_type;
  image::Manifest manifest;
  std::vector<LayerBlob> layers;
  std::optional<image::Reference> base_reference;

  std::uint64_t total_size() const;  // config + layers, compressed
};

struct AssembleOptions {
  image::Platform platform;  // os/architecture/variant of the config
  std::string created;       // RFC 3339; ignored when reproducible
  bool reproducible = false;
};

// Errors: internal when the history does not match the layers.
Result<AssembledImage> assemble_image(ImageState state, const AssembleOptions& options);

inline constexpr std::string_view k_epoch = "1970-01-01T00:00:00Z";

}  // namespace strata::build
