// The executor's layer cache (--cache and friends, docs/caching.md): the flags turned into a
// cache::LayerCache over the cache dir (--cache-dir) and the cache repo (--cache-repo, default
// <first destination>/cache, or oci:PATH), and the end of it: waiting for the entry pushes, the
// summary line and the --cache-report file.
//
// Local entries live in --cache-dir when it exists or was given explicitly (then it is created);
// a missing default /cache means no local entries. The cache repo is used unless there is no
// destination and no --cache-repo. Either may be absent; with neither the cache is off (warned).
//
// Ownership: the BuildCache owns the cache dir, the fallback store and the LayerCache; the
// registry client passed in must outlive it. One per build; not thread-safe itself (the
// LayerCache inside is).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/layer_cache.hpp"
#include "flags.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "store/cache_dir.hpp"
#include "util/result.hpp"

namespace strata::executor {

class BuildCache {
 public:
  // Errors: usage errors for bad --cache-* values (exit 2); io opening a cache dir given
  // explicitly. Returns a BuildCache whose cache() is null when --cache is off.
  static Result<std::unique_ptr<BuildCache>> open(const Flags& flags, std::chrono::milliseconds ttl,
                                                  registry::Client* client,
                                                  const std::vector<image::Reference>& destinations,
                                                  const std::string& work_dir);

  cache::LayerCache* cache() { return m_cache.get(); }

  // Waits for queued pushes, logs the summary line and writes --cache-report. Call once, after
  // the image's outputs are written (or the build failed), before the work dir is removed.
  // Errors: those of writing the report.
  Result<void> finish();

 private:
  BuildCache() = default;
  std::string m_report_path;
  std::optional<store::CacheDir> m_dir;
  std::unique_ptr<store::BlobStore> m_fallback;
  std::unique_ptr<cache::LayerCache> m_cache;
  bool m_finished = false;
};

}  // namespace strata::executor
