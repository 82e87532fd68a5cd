// BlobStore: the content-addressed files of the cache dir, blobs/<algorithm>/<hex>.
//
// Contract: a file under blobs/ is always complete and matches its name. Writers stream into
// ingest/<host>-<pid>-<random> on the same file system while holding an flock on it, and
// commit() verifies digest and size, fsyncs, renames into blobs/ and fsyncs the directory; so a
// crash or kill at any point leaves at most a temp file in ingest/, never a partial blob. A temp
// file whose flock can be taken and that has not been modified for a grace period belongs to a
// dead writer (list_stale_ingests) and may be removed by gc.
//
// Thread safety: a BlobStore is immutable after open(); all its const methods may be called
// concurrently from any number of threads (the warmer downloads several layers at once) and
// processes. A BlobWriter is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.hpp"
#include "store/clock.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::store {

// What a writer is expected to produce; either part may be unknown.
struct BlobExpectation {
  std::optional<digest::Digest> digest;
  std::optional<std::uint64_t> size;
};

struct CommittedBlob {
  digest::Digest digest;
  std::uint64_t size = 0;
  bool already_present = false;  // another writer got there first; our temp was dropped
};

class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  // Aborts (removes the temp file) unless commit() succeeded.
  ~BlobWriter();

  // Appends data. On any error (no_space with a message that says so, io) the temp file is
  // removed and the writer is dead: further calls fail with the same kind.
  Result<void> write(const void* data, std::size_t size);
  Result<void> write(std::string_view data) { return write(data.data(), data.size()); }
  std::uint64_t bytes_written() const { return m_bytes; }
  // The digest of what was written so far, in the expectation's algorithm (sha256 without one).
  digest::Digest digest_so_far() const { return m_hasher.peek(); }
  digest::Algorithm algorithm() const { return m_hasher.algorithm(); }

  // Verifies against the expectation (corrupt on mismatch, temp removed), makes the blob
  // durable and visible. If the blob already exists the temp file is simply dropped.
  Result<CommittedBlob> commit();
  // Removes the temp file now. Idempotent.
  void abort();

  const std::string& temp_path() const { return m_temp_path; }

 private:
  friend class BlobStore;
  BlobWriter(std::string root, std::string temp_path, util::Fd fd, BlobExpectation expect);
  Error abort_with(Error error);

  std::string m_root;
  std::string m_temp_path;
  util::Fd m_fd;
  BlobExpectation m_expect;
  digest::Hasher m_hasher;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_synced = 0;  // bytes handed to writeback by sync_file_range
  bool m_done = false;
  std::optional<Error> m_failed;
};

struct StaleIngest {
  std::string path;
  std::uint64_t size = 0;
  TimePoint modified;
};

// blobs/<alg>/<hex> under a cache dir root.
std::string blob_path(const std::string& root, const digest::Digest& digest);

class BlobStore {
 public:
  // Opens the store rooted at the cache dir `root`, creating blobs/sha256/ and ingest/.
  static Result<BlobStore> open(std::string root, Clock clock = system_clock());

  const std::string& root() const { return m_root; }
  // blobs/<alg>/<hex> under root; the file may not exist.
  std::string path(const digest::Digest& digest) const;
  bool has(const digest::Digest& digest) const;
  // not_found when absent.
  Result<std::uint64_t> size(const digest::Digest& digest) const;
  // Opens a blob for reading. not_found when absent.
  Result<util::Fd> open_blob(const digest::Digest& digest) const;
  // Reads a whole (small) blob: manifests, configs. corrupt if larger than max_size.
  Result<std::string> read(const digest::Digest& digest, std::size_t max_size = 4u << 20) const;

  // Starts a writer. Errors: io/no_space creating the temp file.
  Result<BlobWriter> writer(BlobExpectation expect = {}) const;
  // Convenience: writes a whole in-memory blob (manifests, configs).
  Result<CommittedBlob> put(std::string_view data, BlobExpectation expect = {}) const;

  // Re-hashes a blob: corrupt if its content does not match its name.
  Result<void> verify(const digest::Digest& digest) const;
  // Removes a blob (prune/gc; the caller has already removed index entries). Missing is fine.
  Result<void> remove(const digest::Digest& digest) const;
  // Every blob present (any algorithm), in no particular order. Names that are not digests are
  // skipped.
  Result<std::vector<digest::Digest>> list() const;

  // Temp files of dead writers: unlocked and not modified for at least `grace`.
  Result<std::vector<StaleIngest>> list_stale_ingests(std::chrono::milliseconds grace) const;
  // Removes a stale temp file if it is still unlocked (a live writer keeps its file).
  // Returns whether it was removed.
  Result<bool> remove_stale_ingest(const std::string& path) const;

  TimePoint now() const { return m_clock(); }

 private:
  friend class BlobWriter;
  BlobStore(std::string root, Clock clock) : m_root(std::move(root)), m_clock(std::move(clock)) {}

  std::string m_root;
  Clock m_clock;
};

}  // namespace strata::store
