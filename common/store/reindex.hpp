// Rebuilding the cache index from the blobs alone (cachectl reindex; automatic when an older
// index schema is found). See reindex.cpp for how manifests are recognised.
//
// Thread safety: runs inside one exclusive index session; other tools wait (or time out).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "store/blob_store.hpp"
#include "store/index.hpp"
#include "util/result.hpp"

namespace strata::store {

struct ReindexReport {
  std::size_t blobs = 0;
  std::size_t manifests = 0;  // image manifests recorded
  std::size_t indexes = 0;    // indexes / manifest lists recorded
  std::size_t images = 0;     // (reference, platform) records rebuilt from index.json
  std::vector<std::string> warnings;  // what was skipped and why
};

Result<ReindexReport> reindex(const BlobStore& blobs, const Index& index);

}  // namespace strata::store
