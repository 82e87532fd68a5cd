// Content descriptors: what manifests and indexes point at (OCI image-spec descriptor.md; Docker
// schema2 uses the same fields). A Descriptor read from JSON has been validated: its digest is a
// supported digest and its size is within [0, k_max_descriptor_size].
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.hpp"
#include "image/platform.hpp"

namespace strata::image {

// 4 TiB: far above any real layer, low enough that size arithmetic never overflows.
inline constexpr std::int64_t k_max_descriptor_size = std::int64_t{1} << 42;

struct Descriptor {
  std::string media_type;
  digest::Digest digest;
  std::int64_t size = 0;
  std::vector<std::string> urls;                   // foreign layers only
  std::map<std::string, std::string> annotations;  // sorted, as Go writes maps
  std::optional<Platform> platform;                // index entries
  std::string artifact_type;                       // OCI 1.1 artifacts

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

}  // namespace strata::image
