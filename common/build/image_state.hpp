// The image a build stage is working on: its config and the layer blobs under it, in order.
// A stage starts from its base image's state (an image fetched into a blob store, an earlier
// stage's result, or scratch) and every filesystem-changing step appends one layer.
//
// Manifest format: the built image follows its base image (Docker schema2 or OCI). FROM scratch
// gives OCI, as buildah does (kaniko writes Docker schema2 there); a zstd-compressed build is
// always OCI, because Docker schema2 has no standard zstd layer type. See docs/executor.md.
//
// Plain values; safe to share between threads once built.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "archive/compression.hpp"
#include "digest/digest.hpp"
#include "image/config.hpp"
#include "image/descriptor.hpp"
#include "image/reference.hpp"
#include "util/result.hpp"

namespace strata::build {

enum class ManifestFormat { docker, oci };
std::string_view to_string(ManifestFormat format);

struct LayerBlob {
  image::Descriptor descriptor;  // as it goes into the manifest (media type, digest, size)
  digest::Digest diff_id;        // sha256 of the uncompressed tar
  std::string path;              // the blob file on disk (a blob store's blobs/<alg>/<hex>)
};

struct ImageState {
  ManifestFormat format = ManifestFormat::oci;
  image::ImageConfig config;      // config.diff_ids are rewritten from `layers` at assembly
  std::vector<LayerBlob> layers;  // lowest first
  // Where the base image came from (registry + repository), for cross-repository blob mounts
  // on push; nullopt for scratch.
  std::optional<image::Reference> base_reference;
  // The platform-specific manifest digest of the base image (not the tag, not the index): the
  // origin of the stage's layer-cache keys. Set by ImageSource; nullopt for scratch.
  std::optional<digest::Digest> base_manifest;
};

// The layer media type for a compression in a format.
std::string layer_media_type(ManifestFormat format, archive::Compression compression);
std::string manifest_media_type(ManifestFormat format);
std::string config_media_type(ManifestFormat format);

// Switches an image (typically a Docker schema2 base) to `format`, mapping each layer's media
// type to its equivalent. Errors: unsupported for a layer type without an equivalent (Docker
// foreign layers going to OCI are mapped to OCI non-distributable ones).
Result<void> convert_format(ImageState& state, ManifestFormat format);

}  // namespace strata::build
