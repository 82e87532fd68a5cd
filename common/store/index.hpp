// Index: the RocksDB database in cache-dir/index/ that records what the cache holds (images,
// manifests, blobs, layer-cache entries, stats). Key schema: index_codec.cpp. Concurrency
// design: docs/cache-dir.md.
//
// Every access is a short session. read() takes a shared flock on cache-dir/index.lock and opens
// the database read-only; write() takes the lock exclusively and opens it read-write. Both wait
// up to IndexOptions::lock_timeout and then fail with conflict ("cache dir is busy"). The
// database is closed and the lock released when the session object is destroyed, so tools never
// keep the index open between operations: hold a session for milliseconds, not minutes.
//
// A WriteSession stages its changes (reads inside it see them) and applies them atomically and
// durably (one WriteBatch, sync) in commit(); destroying it without commit() discards them. When
// image records changed, commit() also rewrites cache-dir/index.json (the OCI layout view) from
// the committed records while the lock is still held.
//
// Invariant kept by callers: the index never references a blob that is not present. Write blobs
// (BlobStore) before recording them; delete records before deleting blobs.
//
// Schema: a database with a newer schema version is refused (unsupported) by every session; an
// older one is refused by normal sessions and accepted by write(WriteMode::rebuild), whose
// caller must clear() and rebuild it (reindex does; CacheDir::open does it automatically).
//
// Thread safety: an Index may be shared by the threads of a process (copies share one in-process
// lock, needed because NFS turns flock into per-process locks). Sessions are not thread-safe and
// a thread must not open a write session while it holds another session of the same cache dir
// (it would wait for itself until the timeout).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace strata::store {

struct IndexOptions {
  std::chrono::milliseconds lock_timeout{30'000};
  Clock clock = system_clock();
};

enum class WriteMode { normal, rebuild };

enum class SchemaState { empty, current, older, newer };

namespace detail {
struct SessionState;
}

// The read API shared by both kinds of session. Lookups of absent records fail with not_found.
class IndexView {
 public:
  IndexView(IndexView&&) noexcept;
  IndexView& operator=(IndexView&&) noexcept;
  ~IndexView();

  Result<ImageRecord> image(std::string_view reference, std::string_view platform) const;
  Result<std::vector<ImageRecord>> images_of(std::string_view reference) const;  // all platforms
  Result<std::vector<ImageRecord>> images() const;
  Result<ManifestRecord> manifest(const digest::Digest& d) const;
  Result<std::vector<ManifestRecord>> manifests() const;
  Result<BlobRecord> blob(const digest::Digest& d) const;
  Result<std::vector<BlobRecord>> blobs() const;
  Result<LayerCacheRecord> layer_cache(std::string_view key) const;
  Result<std::vector<LayerCacheRecord>> layer_cache_entries() const;
  Result<std::uint64_t> stat(std::string_view tool, std::string_view name) const;  // 0 if absent
  Result<std::vector<StatCounter>> stats() const;
  // Schema version of the database (0 when it is empty / does not exist yet).
  int schema_version() const;

 protected:
  explicit IndexView(std::unique_ptr<detail::SessionState> state);
  std::unique_ptr<detail::SessionState> m_state;
};

class ReadSession : public IndexView {
 private:
  friend class Index;
  using IndexView::IndexView;
};

class WriteSession : public IndexView {
 public:
  Result<void> put_image(const ImageRecord& r);
  Result<void> delete_image(std::string_view reference, std::string_view platform);
  Result<void> put_manifest(const ManifestRecord& r);
  Result<void> delete_manifest(const digest::Digest& d);
  Result<void> put_blob(const BlobRecord& r);
  Result<void> delete_blob(const digest::Digest& d);
  Result<void> put_layer_cache(const LayerCacheRecord& r);
  Result<void> delete_layer_cache(std::string_view key);
  Result<void> add_stat(std::string_view tool, std::string_view name, std::uint64_t delta);

  // Use bookkeeping with the index's clock: last_used = now, count + 1. not_found if absent.
  Result<void> touch_image(std::string_view reference, std::string_view platform);
  Result<void> touch_blob(const digest::Digest& d);
  Result<void> hit_layer_cache(std::string_view key);

  // Deletes every record (reindex). The schema version is rewritten by commit().
  Result<void> clear();
  // Applies everything atomically and durably, then regenerates index.json if image records
  // changed. The session stays open (further changes need another commit()).
  Result<void> commit();

  TimePoint now() const;

  // For migration tests only: commit() writes this schema version instead of the current one
  // (nullopt: no version key at all, as a pre-versioning database).
  void override_schema_version_for_testing(std::optional<int> version);

 private:
  friend class Index;
  using IndexView::IndexView;
};

class Index {
 public:
  // Prepares cache_dir/index/ (the database itself is created by the first write session).
  static Result<Index> open(std::string cache_dir, IndexOptions options = {});

  Result<ReadSession> read() const;
  Result<WriteSession> write(WriteMode mode = WriteMode::normal) const;
  // Looks at the schema version under a shared lock.
  Result<SchemaState> schema_state() const;

  const std::string& cache_dir() const { return m_cache_dir; }
  std::string db_path() const { return m_cache_dir + "/index"; }
  const IndexOptions& options() const { return m_options; }

 private:
  Index(std::string cache_dir, IndexOptions options);
  Result<std::unique_ptr<detail::SessionState>> open_session(bool write, WriteMode mode, bool check_schema) const;

  std::string m_cache_dir;
  IndexOptions m_options;
  std::shared_ptr<std::shared_timed_mutex> m_mutex;
};

}  // namespace strata::store
