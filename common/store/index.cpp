// The only code of the project that includes RocksDB. rocksdb::Status becomes an Error in
// status_error() and nowhere else.
#include "store/index.hpp"

#include <unistd.h>

#include <cstdarg>
#include <mutex>
#include <optional>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "store/file_ops.hpp"
#include "store/index_codec.hpp"
#include "store/oci_layout.hpp"

namespace strata::store {

namespace {

Error status_error(const rocksdb::Status& s, std::string_view what) {
  ErrorKind kind = ErrorKind::internal;
  bool retryable = false;
  if (s.IsNotFound() || s.IsPathNotFound()) kind = ErrorKind::not_found;
  else if (s.IsCorruption()) kind = ErrorKind::corrupt;
  else if (s.IsNoSpace()) kind = ErrorKind::no_space;
  else if (s.IsIOError()) kind = ErrorKind::io;
  else if (s.IsBusy() || s.IsTryAgain()) kind = ErrorKind::conflict, retryable = true;
  else if (s.IsTimedOut()) kind = ErrorKind::timeout, retryable = true;
  else if (s.IsInvalidArgument()) kind = ErrorKind::invalid_argument;
  else if (s.IsNotSupported()) kind = ErrorKind::unsupported;
  return Error(kind, std::string(what) + ": " + s.ToString(), retryable);
}

// RocksDB writes an info LOG per open by default; a session per operation would fill the cache
// dir with them, and nobody reads them.
class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

rocksdb::Options session_options(bool create) {
  rocksdb::Options o;
  o.create_if_missing = create;
  o.compression = rocksdb::kNoCompression;  // small JSON values; compression costs more than it saves
  o.info_log = std::make_shared<NullLogger>();
  o.keep_log_file_num = 1;
  o.max_open_files = 64;
  o.max_file_opening_threads = 1;
  o.max_background_jobs = 2;
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
  o.skip_stats_update_on_db_open = true;
  o.enable_thread_tracking = false;
  o.write_buffer_size = 8u << 20;
  // A write session's commit flushes the memtable once it holds more than k_flush_bytes (see
  // commit()), so the WAL every open replays stays small; opening read-write must then not turn
  // each small leftover WAL into a new L0 file either.
  o.avoid_flush_during_recovery = true;
  return o;
}

// Above this, commit() flushes the memtable to an SST file: every session, read-only ones
// included, replays the live WAL into a memtable when it opens the database, so an unflushed
// 40 MB batch (a reindex, a first fill) made every later open take seconds.
constexpr std::uint64_t k_flush_bytes = 1u << 20;
// Sessions are too short for background compaction to finish (closing cancels it), so commit()
// compacts in the foreground once this many L0 files pile up; reads then look in few files.
constexpr std::uint64_t k_compact_l0_files = 6;

std::string schema_message(const std::string& db, int found) {
  return "cache index " + db + " has schema version " + std::to_string(found) + ", this strata uses " +
         std::to_string(codec::k_schema_version);
}

template <class T>
using Decoder = Result<T> (*)(std::string_view, std::string_view);

}  // namespace

namespace detail {

struct SessionState {
  std::shared_ptr<std::shared_timed_mutex> mutex;
  std::shared_lock<std::shared_timed_mutex> shared_lock;
  std::unique_lock<std::shared_timed_mutex> unique_lock;
  util::Fd file_lock;
  std::string cache_dir;
  std::string db_path;
  Clock clock;
  std::unique_ptr<rocksdb::DB> db;  // null: read session on a cache dir without a database yet
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch;
  int schema = 0;
  bool images_changed = false;
  std::optional<std::optional<int>> schema_override;

  ~SessionState() {
    batch.reset();
    if (db) (void)db->Close();  // nothing to do about a failed close: commit() already synced
    db.reset();
  }

  Result<std::optional<std::string>> get(const std::string& key) const {
    if (!db) return std::optional<std::string>();
    std::string value;
    rocksdb::Status s = batch ? batch->GetFromBatchAndDB(db.get(), rocksdb::ReadOptions(), key, &value)
                              : db->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return fail(status_error(s, "reading " + db_path));
    return std::optional<std::string>(std::move(value));
  }

  template <class F>
  Result<void> scan(std::string_view prefix, F&& fn) const {
    if (!db) return {};
    // A scan reads a whole range once: read ahead, and keep its blocks out of the block cache.
    rocksdb::ReadOptions ro;
    ro.readahead_size = 4 << 20;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    if (batch) it.reset(batch->NewIteratorWithBase(it.release()));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (key.substr(0, prefix.size()) != prefix) break;
      TRY(fn(key, std::string_view(it->value().data(), it->value().size())));
    }
    if (!it->status().ok()) return fail(status_error(it->status(), "scanning " + db_path));
    return {};
  }

  template <class T>
  Result<std::vector<T>> collect(std::string_view prefix, Decoder<T> decode) const {
    std::vector<T> out;
    TRY(scan(prefix, [&](std::string_view k, std::string_view v) -> Result<void> {
      out.push_back(TRY(decode(k, v)));
      return {};
    }));
    return out;
  }

  template <class T>
  Result<T> lookup(const std::string& key, Decoder<T> decode, std::string_view what) const {
    auto v = TRY(get(key));
    if (!v) return fail(ErrorKind::not_found, std::string(what) + " is not in the cache index");
    return decode(key, *v);
  }

  // Flushes a big memtable and compacts a pile of L0 files (see k_flush_bytes).
  Result<void> keep_small() {
    std::uint64_t mem = 0;
    if (db->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &mem) && mem > k_flush_bytes) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      auto s = db->Flush(fo);
      if (!s.ok()) return fail(status_error(s, "flushing " + db_path));
    }
    std::uint64_t l0 = 0;
    if (db->GetIntProperty(rocksdb::DB::Properties::kNumFilesAtLevelPrefix + std::string("0"), &l0) &&
        l0 >= k_compact_l0_files) {
      rocksdb::CompactRangeOptions co;
      auto s = db->CompactRange(co, nullptr, nullptr);
      if (!s.ok()) return fail(status_error(s, "compacting " + db_path));
    }
    return {};
  }

  Result<void> put(const std::string& key, const std::string& value) {
    auto s = batch->Put(key, value);
    if (!s.ok()) return fail(status_error(s, "staging a write to " + db_path));
    return {};
  }
  Result<void> del(const std::string& key) {
    auto s = batch->Delete(key);
    if (!s.ok()) return fail(status_error(s, "staging a delete in " + db_path));
    return {};
  }
};

}  // namespace detail

std::vector<digest::Digest> ManifestRecord::references() const {
  std::vector<digest::Digest> out;
  if (config) out.push_back(*config);
  out.insert(out.end(), layers.begin(), layers.end());
  out.insert(out.end(), manifests.begin(), manifests.end());
  return out;
}

// ---- IndexView ----

IndexView::IndexView(std::unique_ptr<detail::SessionState> state) : m_state(std::move(state)) {}
IndexView::IndexView(IndexView&&) noexcept = default;
IndexView& IndexView::operator=(IndexView&&) noexcept = default;
IndexView::~IndexView() = default;

int IndexView::schema_version() const { return m_state->schema; }

Result<ImageRecord> IndexView::image(std::string_view reference, std::string_view platform) const {
  return m_state->lookup<ImageRecord>(codec::image_key(reference, platform), codec::decode_image,
                                      "image " + std::string(reference) + " (" + std::string(platform) + ")");
}
Result<std::vector<ImageRecord>> IndexView::images_of(std::string_view reference) const {
  return m_state->collect<ImageRecord>(codec::image_prefix(reference), codec::decode_image);
}
Result<std::vector<ImageRecord>> IndexView::images() const {
  return m_state->collect<ImageRecord>(codec::k_image_prefix, codec::decode_image);
}
Result<ManifestRecord> IndexView::manifest(const digest::Digest& d) const {
  return m_state->lookup<ManifestRecord>(codec::manifest_key(d), codec::decode_manifest, "manifest " + d.str());
}
Result<std::vector<ManifestRecord>> IndexView::manifests() const {
  return m_state->collect<ManifestRecord>(codec::k_manifest_prefix, codec::decode_manifest);
}
Result<BlobRecord> IndexView::blob(const digest::Digest& d) const {
  return m_state->lookup<BlobRecord>(codec::blob_key(d), codec::decode_blob, "blob " + d.str());
}
Result<std::vector<BlobRecord>> IndexView::blobs() const {
  return m_state->collect<BlobRecord>(codec::k_blob_prefix, codec::decode_blob);
}
Result<LayerCacheRecord> IndexView::layer_cache(std::string_view key) const {
  return m_state->lookup<LayerCacheRecord>(codec::layer_cache_key(key), codec::decode_layer_cache,
                                           "layer cache entry " + std::string(key));
}
Result<std::vector<LayerCacheRecord>> IndexView::layer_cache_entries() const {
  return m_state->collect<LayerCacheRecord>(codec::k_layer_cache_prefix, codec::decode_layer_cache);
}
Result<std::uint64_t> IndexView::stat(std::string_view tool, std::string_view name) const {
  auto key = codec::stat_key(tool, name);
  auto v = TRY(m_state->get(key));
  if (!v) return std::uint64_t{0};
  return TRY(codec::decode_stat(key, *v)).value;
}
Result<std::vector<StatCounter>> IndexView::stats() const {
  return m_state->collect<StatCounter>(codec::k_stat_prefix, codec::decode_stat);
}

// ---- WriteSession ----

namespace {

Result<void> check_name(std::string_view what, std::string_view value) {
  if (value.empty()) return fail(ErrorKind::invalid_argument, std::string(what) + " is empty");
  if (value.find('\0') != std::string_view::npos)
    return fail(ErrorKind::invalid_argument, std::string(what) + " contains a NUL byte");
  return {};
}

Result<void> check_digest(std::string_view what, const digest::Digest& d) {
  if (!d.valid()) return fail(ErrorKind::invalid_argument, std::string(what) + " has no digest");
  return {};
}

}  // namespace

TimePoint WriteSession::now() const { return m_state->clock(); }

void WriteSession::override_schema_version_for_testing(std::optional<int> version) {
  m_state->schema_override = version;
}

Result<void> WriteSession::put_image(const ImageRecord& r) {
  TRY(check_name("image reference", r.reference));
  TRY(check_name("image platform", r.platform));
  TRY(check_digest("image record " + r.reference, r.manifest));
  m_state->images_changed = true;
  return m_state->put(codec::image_key(r.reference, r.platform), codec::encode(r));
}
Result<void> WriteSession::delete_image(std::string_view reference, std::string_view platform) {
  m_state->images_changed = true;
  return m_state->del(codec::image_key(reference, platform));
}
Result<void> WriteSession::put_manifest(const ManifestRecord& r) {
  TRY(check_digest("manifest record", r.digest));
  return m_state->put(codec::manifest_key(r.digest), codec::encode(r));
}
Result<void> WriteSession::delete_manifest(const digest::Digest& d) { return m_state->del(codec::manifest_key(d)); }
Result<void> WriteSession::put_blob(const BlobRecord& r) {
  TRY(check_digest("blob record", r.digest));
  return m_state->put(codec::blob_key(r.digest), codec::encode(r));
}
Result<void> WriteSession::delete_blob(const digest::Digest& d) { return m_state->del(codec::blob_key(d)); }
Result<void> WriteSession::put_layer_cache(const LayerCacheRecord& r) {
  TRY(check_name("layer cache key", r.key));
  TRY(check_digest("layer cache entry " + r.key, r.manifest));
  return m_state->put(codec::layer_cache_key(r.key), codec::encode(r));
}
Result<void> WriteSession::delete_layer_cache(std::string_view key) {
  return m_state->del(codec::layer_cache_key(key));
}
Result<void> WriteSession::add_stat(std::string_view tool, std::string_view name, std::uint64_t delta) {
  TRY(check_name("stat tool", tool));
  TRY(check_name("stat name", name));
  std::uint64_t v = TRY(stat(tool, name));
  return m_state->put(codec::stat_key(tool, name), codec::encode_counter(v + delta));
}

Result<void> WriteSession::touch_image(std::string_view reference, std::string_view platform) {
  ImageRecord r = TRY(image(reference, platform));
  r.last_used = now();
  ++r.use_count;
  // Only use bookkeeping changed: index.json does not depend on it, so do not rewrite it.
  return m_state->put(codec::image_key(r.reference, r.platform), codec::encode(r));
}
Result<void> WriteSession::touch_blob(const digest::Digest& d) {
  BlobRecord r = TRY(blob(d));
  r.last_used = now();
  ++r.use_count;
  return put_blob(r);
}
Result<void> WriteSession::hit_layer_cache(std::string_view key) {
  LayerCacheRecord r = TRY(layer_cache(key));
  r.last_used = now();
  ++r.hits;
  return put_layer_cache(r);
}

Result<void> WriteSession::clear() {
  std::vector<std::string> keys;
  TRY(m_state->scan("", [&](std::string_view k, std::string_view) -> Result<void> {
    keys.emplace_back(k);
    return {};
  }));
  for (const auto& k : keys) TRY(m_state->del(k));
  m_state->images_changed = true;
  return {};
}

Result<void> WriteSession::commit() {
  auto& st = *m_state;
  if (!st.schema_override) {
    TRY(st.put(std::string(codec::k_schema_key), std::to_string(codec::k_schema_version)));
  } else if (*st.schema_override) {
    TRY(st.put(std::string(codec::k_schema_key), std::to_string(**st.schema_override)));
  } else {
    TRY(st.del(std::string(codec::k_schema_key)));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = st.db->Write(wo, st.batch->GetWriteBatch());
  if (!s.ok()) return fail(status_error(s, "committing to " + st.db_path));
  st.batch->Clear();
  TRY(st.keep_small());
  st.schema = st.schema_override ? st.schema_override->value_or(-1) : codec::k_schema_version;
  if (st.images_changed) {
    st.images_changed = false;
    auto images = TRY(this->images());
    TRY_CTX(write_index_json(st.cache_dir, images), "regenerating the OCI index.json");
  }
  return {};
}

// ---- Index ----

Index::Index(std::string cache_dir, IndexOptions options)
    : m_cache_dir(std::move(cache_dir)),
      m_options(std::move(options)),
      m_mutex(std::make_shared<std::shared_timed_mutex>()) {}

Result<Index> Index::open(std::string cache_dir, IndexOptions options) {
  while (cache_dir.size() > 1 && cache_dir.back() == '/') cache_dir.pop_back();
  TRY(make_dirs(cache_dir));
  if (!options.clock) options.clock = system_clock();
  return Index(std::move(cache_dir), std::move(options));
}

Result<std::unique_ptr<detail::SessionState>> Index::open_session(bool write, WriteMode mode, bool check_schema) const {
  auto st = std::make_unique<detail::SessionState>();
  st->mutex = m_mutex;
  st->cache_dir = m_cache_dir;
  st->db_path = db_path();
  st->clock = m_options.clock;
  const auto timeout = m_options.lock_timeout;
  const std::string busy = "cache dir is busy: " + m_cache_dir + " is used by another thread of this process";
  if (write) {
    st->unique_lock = std::unique_lock(*m_mutex, std::defer_lock);
    if (!st->unique_lock.try_lock_for(timeout)) return fail(ErrorKind::conflict, busy, true);
  } else {
    st->shared_lock = std::shared_lock(*m_mutex, std::defer_lock);
    if (!st->shared_lock.try_lock_for(timeout)) return fail(ErrorKind::conflict, busy, true);
  }
  st->file_lock = TRY(lock_path(m_cache_dir + "/index.lock", write ? LockMode::exclusive : LockMode::shared, timeout));

  const bool exists = ::access((st->db_path + "/CURRENT").c_str(), F_OK) == 0;
  rocksdb::DB* raw = nullptr;
  if (write) {
    auto s = rocksdb::DB::Open(session_options(true), st->db_path, &raw);
    if (!s.ok()) return fail(status_error(s, "opening cache index " + st->db_path));
    st->db.reset(raw);
    st->batch = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0, true);
  } else if (exists) {
    auto s = rocksdb::DB::OpenForReadOnly(session_options(false), st->db_path, &raw);
    if (!s.ok()) return fail(status_error(s, "opening cache index " + st->db_path + " read-only"));
    st->db.reset(raw);
  }

  if (st->db) {
    auto v = TRY(st->get(std::string(codec::k_schema_key)));
    if (v) {
      st->schema = TRY(codec::decode_schema_version(*v));
    } else {
      std::unique_ptr<rocksdb::Iterator> it(st->db->NewIterator(rocksdb::ReadOptions()));
      it->SeekToFirst();
      const bool any = it->Valid();
      st->schema = any ? -1 : 0;
    }
  }
  if (!check_schema) return st;
  if (st->schema > codec::k_schema_version)
    return fail(ErrorKind::unsupported, schema_message(st->db_path, st->schema) +
                                            ": it was written by a newer strata; upgrade, or use another cache dir");
  const bool older = st->schema != 0 && st->schema < codec::k_schema_version;
  if (older && !(write && mode == WriteMode::rebuild))
    return fail(ErrorKind::unsupported,
                schema_message(st->db_path, st->schema) + ": rebuild it with `cachectl reindex`");
  return st;
}

Result<ReadSession> Index::read() const {
  auto st = TRY(open_session(false, WriteMode::normal, true));
  return ReadSession(std::move(st));
}

Result<WriteSession> Index::write(WriteMode mode) const {
  auto st = TRY(open_session(true, mode, true));
  return WriteSession(std::move(st));
}

Result<SchemaState> Index::schema_state() const {
  auto st = TRY(open_session(false, WriteMode::normal, false));
  if (st->schema == 0) return SchemaState::empty;
  if (st->schema == codec::k_schema_version) return SchemaState::current;
  return st->schema > codec::k_schema_version ? SchemaState::newer : SchemaState::older;
}

}  // namespace strata::store
