// LocalLayerStore: layer-cache entries in a cache dir (docs/cache-dir.md), next to the warmer's
// images, so builds on one node (or on nodes sharing the volume) hit without a registry.
//
// An entry is: its layer, config and OCI manifest as blobs (BlobRecords + a ManifestRecord, so
// cachectl's prune/du see what it holds), and a LayerCacheRecord under its key. Blobs are
// committed before the records that name them (the index invariant).
//
// TTL: an entry is used only while now - last_used <= ttl; last_used starts at creation and a hit
// refreshes it (WriteSession::hit_layer_cache), so popular entries do not expire on a schedule.
// An entry whose blobs have vanished (pruned under us) is reported incomplete, never used.
//
// Thread safety: const methods may be called concurrently (each opens its own short index
// session; BlobStore is thread-safe). The CacheDir must outlive the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/entry.hpp"
#include "store/cache_dir.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace strata::cache {

enum class LocalStatus { hit, absent, expired, incomplete };
std::string_view to_string(LocalStatus status);

enum class Refresh { yes, no };

struct LocalLookup {
  LocalStatus status = LocalStatus::absent;
  std::optional<store::LayerCacheRecord> record;  // set unless absent
  LayerFile layer;                                 // set on a hit: the blob in the cache dir
  std::chrono::milliseconds age{0};                // now - last_used (before the refresh)
};

class LocalLayerStore {
 public:
  explicit LocalLayerStore(const store::CacheDir& dir) : m_dir(dir) {}

  // Finds the entry for key. On a hit with Refresh::yes, records the hit (last_used = now,
  // hits + 1). Errors: those of the index (conflict when the cache dir stays busy).
  Result<LocalLookup> lookup(std::string_view key, std::chrono::milliseconds ttl, Refresh refresh = Refresh::yes) const;

  // Stores an entry whose layer is the file at layer_path (streamed into the blob store and
  // verified against entry.layer's digest and size). Errors: corrupt, io, no_space.
  Result<store::LayerCacheRecord> put(const EntryImage& entry, const std::string& layer_path) const;
  // Stores an entry whose layer blob is already in the blob store (fetched from a repo).
  // not_found if it is not.
  Result<store::LayerCacheRecord> record(const EntryImage& entry) const;

  // The entry image (manifest + config) of a stored record. Errors: not_found, corrupt.
  Result<EntryImage> entry_image(const store::LayerCacheRecord& record) const;

  // Configs of stored entries with this step text and platform, most recently used first, at
  // most `limit` (for explaining a miss). Entries whose config cannot be read are skipped.
  Result<std::vector<EntryConfig>> entries_for_step(std::string_view step, std::string_view platform,
                                                    std::size_t limit = 8) const;

  const store::CacheDir& dir() const { return m_dir; }

 private:
  const store::CacheDir& m_dir;
};

}  // namespace strata::cache
