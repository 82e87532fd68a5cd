// Image manifests: Docker schema2 (application/vnd.docker.distribution.manifest.v2+json) and
// OCI image manifests (application/vnd.oci.image.manifest.v1+json), one type for both.
//
// Parsing validates (schemaVersion 2, digests, sizes, known layer media types for images) and
// never throws. A Manifest does not keep the bytes it came from: the caller holds them and
// hashes those, because re-serialising is not guaranteed to reproduce them. serialize() is for
// manifests Strata writes: compact JSON in containers/image field order (schemaVersion,
// mediaType, artifactType, config, layers, subject, annotations).
// Manifest is a plain value, safe to share between threads once built.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/descriptor.hpp"
#include "util/result.hpp"

namespace strata::image {

struct Manifest {
  int schema_version = 2;
  std::string media_type;  // the effective type (set even when an OCI manifest omits the field)
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  // Parses a manifest (not an index: that is invalid_argument, use parse_manifest_any).
  // content_type is the HTTP Content-Type, used only when the JSON has no mediaType.
  // Errors: corrupt (bad JSON or fields), unsupported (schema1, unknown media types).
  static Result<Manifest> parse(std::string_view bytes, std::string_view content_type = {});

  bool is_docker() const;
  // An image (config is an image config), as opposed to an OCI artifact.
  bool is_image() const;
  std::int64_t total_size() const;  // config + layers, as compressed in the registry

  std::string serialize() const;
};

}  // namespace strata::image
