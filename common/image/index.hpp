// Indexes: Docker manifest lists and OCI image indexes, one type for both, and the choice of a
// platform's manifest from one (containerd's rules, see image/platform.hpp).
//
// As for Manifest: parsing validates and never throws; the caller keeps the original bytes;
// serialize() writes compact JSON in containers/image field order (schemaVersion, mediaType,
// artifactType, manifests, subject, annotations). A plain value, safe to share between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/descriptor.hpp"
#include "image/platform.hpp"
#include "util/result.hpp"

namespace strata::image {

struct Index {
  int schema_version = 2;
  std::string media_type;  // effective type
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  // Parses an index (a plain manifest is invalid_argument). Errors as Manifest::parse.
  static Result<Index> parse(std::string_view bytes, std::string_view content_type = {});

  bool is_docker() const;
  std::string serialize() const;
};

// The entry of `index` to use on `wanted`: an exact os/arch/variant match first, then the best
// fallback variant (arm v7 → v6 → v5, amd64 v3 → v2 → v1; arm64 v8 equals no variant); among
// equals, the first in index order. Entries without a platform never match.
// Errors: not_found listing what the index offers
// ("no image for linux/s390x in index; available: linux/amd64, linux/arm64/v8").
Result<Descriptor> select_platform(const Index& index, const Platform& wanted);

}  // namespace strata::image
