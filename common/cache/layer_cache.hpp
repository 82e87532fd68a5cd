// LayerCache: the build engine's one entry point to the layer cache. For each layer-producing
// step the engine computes a StepKey (KeyChain::next), asks lookup(); on a hit it appends the
// returned layer instead of running the step; on a miss it runs the step and hands the layer to
// store(). finish() waits for background pushes and returns the report (docs/caching.md).
//
// Lookup order: the local cache dir (--cache-dir) first, then the cache repo (manifest HEAD of
// the tag, then GET manifest + config, TTL check, then the layer into the local store — or into
// the fallback store when there is no cache dir — recording the entry so the next build on this
// node hits locally). Unlike kaniko, every step is looked up even after a miss: keys depend on
// inputs only, so later steps may still hit.
//
// Failures of the cache never fail the build: a lookup error is a miss (reason "lookup failed:
// ..."), a store error is logged and reported, a push error is collected and reported by
// finish(); each is logged as a warning.
//
// Leases: with a cache dir, every key is added to a lease (store/lease.hpp) before it is looked
// up, and the lease lives until the LayerCache is destroyed (or share_lease()'s owner lets go), so a
// concurrent `cachectl prune` never deletes an entry this build found, between the lookup and
// the push of the image that uses its layer. A lease that cannot be written is a warning.
//
// Ownership: the CacheDir, the fallback BlobStore and the repo's registry client must outlive the
// LayerCache; layer paths returned by lookup() stay valid while they do (blobs are never removed
// by the cache itself, and the lease keeps `cachectl prune` off). Thread safety: lookup()/store()
// may be called from any thread (calls are serialised internally except for the I/O of pushes,
// which runs on the push worker).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "cache/cache_key.hpp"
#include "cache/cache_repo.hpp"
#include "cache/entry.hpp"
#include "cache/local_store.hpp"
#include "cache/push_queue.hpp"
#include "cache/report.hpp"
#include "store/cache_dir.hpp"

namespace strata::cache {

struct CacheOptions {
  bool enabled = false;                              // --cache
  std::chrono::milliseconds ttl = std::chrono::hours(336);  // --cache-ttl
  bool run_layers = true;                            // --cache-run-layers
  bool copy_layers = false;                          // --cache-copy-layers (COPY and ADD)
  // --compressed-caching: when false the engine writes cached steps' layers uncompressed
  // (Compression::none) to save CPU; the cache stores whatever layer it is given.
  bool compressed = true;
  bool push = true;                                  // false: --no-push-cache
  std::set<std::string> exclude_args;                // --cache-key-exclude-arg
  int push_workers = 1;
};

struct CacheHit {
  LayerFile layer;     // append this layer (descriptor, diff_id, blob file) instead of running
  std::string source;  // "local" or "remote"
};

class LayerCache {
 public:
  // local: the cache dir, or nullptr. repo: the cache repo, or nullptr. fallback: where layers
  // fetched from the repo go when there is no cache dir (the engine's work store); may be null
  // when local is set. clock: for TTLs and entry creation times (tests inject).
  LayerCache(CacheOptions options, const store::CacheDir* local, std::unique_ptr<CacheRepo> repo,
             const store::BlobStore* fallback = nullptr, store::Clock clock = store::system_clock());
  LayerCache(const LayerCache&) = delete;
  LayerCache& operator=(const LayerCache&) = delete;
  ~LayerCache();

  bool enabled() const { return m_options.enabled && (m_local || m_repo); }
  // Whether steps of this kind are looked up and stored (enabled, and --cache-run-layers /
  // --cache-copy-layers). Metadata steps never are (they have no layer), but still go through
  // the KeyChain.
  bool caches(StepKind kind) const;
  KeyOptions key_options() const { return KeyOptions{m_options.exclude_args}; }
  const CacheOptions& options() const { return m_options; }

  // Looks the step up (see the order above). stage/index locate the step in the report.
  std::optional<CacheHit> lookup(const StepKey& key, std::size_t stage, std::size_t index);
  // A hit the engine cannot use (e.g. its layer's media type does not fit the image being built):
  // the step's record becomes a miss with this reason, and the engine runs the step.
  void reject(const StepKey& key, std::string reason);
  // Records a step that is not cached (its kind is off, or it made no layer) in the report.
  void skip(const StepKey& key, std::size_t stage, std::size_t index, std::string reason);
  // After a miss: the step ran and produced layer. Stores it in the cache dir and queues the push
  // to the repo (unless --no-push-cache). The layer file must stay until finish() returns when
  // there is no cache dir (the push reads it).
  void store(const StepKey& key, const LayerFile& layer);

  // Waits for queued pushes and completes the report. Call once, before the work dir goes.
  CacheReport finish();
  // Grows `lease` (shared with the base-image fetcher of the same build) instead of a lease of
  // the cache's own. Call before the first lookup.
  void share_lease(std::shared_ptr<store::LeaseSet> lease) { m_lease = std::move(lease); }

 private:
  StepRecord& record_for(const std::string& key);
  void explain_miss(const StepKey& key, StepRecord& rec);
  std::optional<CacheHit> lookup_remote(const StepKey& key, StepRecord& rec);
  void lease_key(const std::string& key);

  CacheOptions m_options;
  const store::CacheDir* m_local;
  std::optional<LocalLayerStore> m_local_store;
  std::unique_ptr<CacheRepo> m_repo;
  const store::BlobStore* m_fallback;
  store::Clock m_clock;
  std::mutex m_mutex;
  CacheReport m_report;
  std::unique_ptr<PushQueue> m_pushes;
  bool m_finished = false;
  std::shared_ptr<store::LeaseSet> m_lease;
  bool m_lease_failed = false;
};

}  // namespace strata::cache
