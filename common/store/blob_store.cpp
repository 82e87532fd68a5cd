#include "store/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store/file_ops.hpp"

namespace strata::store {

namespace {

constexpr const char* k_ingest_dir = "ingest";

Error write_error(const std::string& root, const std::string& what, int err, std::uint64_t written) {
  if (err == ENOSPC || err == EDQUOT)
    return Error(ErrorKind::no_space,
                 "no space left in cache dir " + root + " while " + what + " (" + std::to_string(written) +
                     " bytes written): free space or prune the cache (cachectl prune)");
  return errno_error(what + " in cache dir " + root, err);
}

}  // namespace

BlobWriter::BlobWriter(std::string root, std::string temp_path, util::Fd fd, BlobExpectation expect)
    : m_root(std::move(root)),
      m_temp_path(std::move(temp_path)),
      m_fd(std::move(fd)),
      m_expect(std::move(expect)),
      m_hasher(m_expect.digest ? m_expect.digest->algorithm() : digest::Algorithm::sha256) {}

BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&& other) noexcept {
  if (this != &other) {
    abort();
    m_root = std::move(other.m_root);
    m_temp_path = std::move(other.m_temp_path);
    m_fd = std::move(other.m_fd);
    m_expect = std::move(other.m_expect);
    m_hasher = std::move(other.m_hasher);
    m_bytes = other.m_bytes;
    m_synced = other.m_synced;
    m_done = other.m_done;
    m_failed = std::move(other.m_failed);
    other.m_done = true;
  }
  return *this;
}

BlobWriter::~BlobWriter() { abort(); }

void BlobWriter::abort() {
  if (m_done || m_temp_path.empty()) return;
  m_done = true;
  // Unlink while we still hold the flock so that gc never sees a half-removed file as live.
  ::unlink(m_temp_path.c_str());
  m_fd.reset();
}

Error BlobWriter::abort_with(Error error) {
  abort();
  m_failed = error;
  return error;
}

Result<void> BlobWriter::write(const void* data, std::size_t size) {
  if (m_failed) return fail(*m_failed);
  if (m_done) return fail(ErrorKind::internal, "write to a finished blob writer " + m_temp_path);
  const char* p = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(m_fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(abort_with(write_error(m_root, "writing " + m_temp_path, errno, m_bytes)));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  m_hasher.update(data, size);
  m_bytes += size;
  // Start writeback of every full 8 MiB behind us (RocksDB's bytes_per_sync idea): the fsync in
  // commit() then waits for the tail only, and a large blob never piles up as dirty pages.
  constexpr std::uint64_t k_sync_chunk = 8u << 20;
  if (m_bytes - m_synced >= k_sync_chunk) {
    std::uint64_t upto = m_bytes - m_bytes % k_sync_chunk;
    (void)::sync_file_range(m_fd.get(), static_cast<off64_t>(m_synced), static_cast<off64_t>(upto - m_synced),
                            SYNC_FILE_RANGE_WRITE);
    m_synced = upto;
  }
  if (m_expect.size && m_bytes > *m_expect.size)
    return fail(abort_with(Error(ErrorKind::corrupt, "blob " + (m_expect.digest ? m_expect.digest->str() : std::string("?")) +
                                                        " is larger than the expected " +
                                                        std::to_string(*m_expect.size) + " bytes")));
  return {};
}

Result<CommittedBlob> BlobWriter::commit() {
  if (m_failed) return fail(*m_failed);
  if (m_done) return fail(ErrorKind::internal, "commit of a finished blob writer " + m_temp_path);
  const std::string& root = m_root;
  digest::Digest got = m_hasher.finish();
  if (m_expect.size && m_bytes != *m_expect.size) {
    auto e = Error(ErrorKind::corrupt, "blob " + (m_expect.digest ? m_expect.digest->str() : got.str()) +
                                           ": size mismatch: expected " + std::to_string(*m_expect.size) +
                                           " bytes, got " + std::to_string(m_bytes));
    return fail(abort_with(std::move(e)));
  }
  if (m_expect.digest && got != *m_expect.digest) {
    auto e = Error(ErrorKind::corrupt, "blob digest mismatch: expected " + m_expect.digest->str() + ", got " +
                                           got.str() + " (" + std::to_string(m_bytes) + " bytes)");
    return fail(abort_with(std::move(e)));
  }
  if (::fsync(m_fd.get()) != 0) {
    auto e = write_error(root, "syncing " + m_temp_path, errno, m_bytes);
    return fail(abort_with(std::move(e)));
  }
  const std::string final_path = blob_path(m_root, got);
  if (got.algorithm() != digest::Algorithm::sha256) {
    if (auto r = make_dirs(final_path.substr(0, final_path.rfind('/'))); !r) return fail(abort_with(r.error()));
  }
  CommittedBlob out{got, m_bytes, false};
  if (::access(final_path.c_str(), F_OK) == 0) {
    out.already_present = true;
    abort();
    return out;
  }
  // Two writers of the same blob may both get here; the second rename replaces identical bytes,
  // which readers cannot tell apart (open descriptors keep the old inode).
  if (::rename(m_temp_path.c_str(), final_path.c_str()) != 0) {
    auto e = write_error(root, "renaming " + m_temp_path + " to " + final_path, errno, m_bytes);
    return fail(abort_with(std::move(e)));
  }
  m_done = true;
  m_fd.reset();
  TRY(fsync_dir(final_path.substr(0, final_path.rfind('/'))));
  return out;
}

Result<BlobStore> BlobStore::open(std::string root, Clock clock) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  TRY(make_dirs(root + "/blobs/sha256"));
  TRY(make_dirs(root + "/" + k_ingest_dir));
  return BlobStore(std::move(root), std::move(clock));
}

std::string blob_path(const std::string& root, const digest::Digest& d) {
  return root + "/blobs/" + std::string(d.algorithm_name()) + "/" + d.hex();
}

std::string BlobStore::path(const digest::Digest& d) const { return blob_path(m_root, d); }

bool BlobStore::has(const digest::Digest& d) const { return ::access(path(d).c_str(), F_OK) == 0; }

Result<std::uint64_t> BlobStore::size(const digest::Digest& d) const {
  struct stat st {};
  if (::stat(path(d).c_str(), &st) != 0) return fail_errno("blob " + d.str(), errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<util::Fd> BlobStore::open_blob(const digest::Digest& d) const {
  util::Fd fd(::open(path(d).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("opening blob " + d.str() + " in " + m_root, errno);
  return fd;
}

Result<std::string> BlobStore::read(const digest::Digest& d, std::size_t max_size) const {
  return read_file(path(d), max_size);
}

Result<BlobWriter> BlobStore::writer(BlobExpectation expect) const {
  std::string temp = m_root + "/" + k_ingest_dir + "/" + unique_name();
  util::Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail(write_error(m_root, "creating " + temp, errno, 0));
  // Cannot fail against anyone: the name is fresh. It is what tells gc we are alive.
  auto locked = try_lock(fd.get(), LockMode::exclusive);
  if (!locked || !*locked) {
    ::unlink(temp.c_str());
    return fail(ErrorKind::io, "cannot lock new ingest file " + temp);
  }
  return BlobWriter(m_root, std::move(temp), std::move(fd), std::move(expect));
}

Result<CommittedBlob> BlobStore::put(std::string_view data, BlobExpectation expect) const {
  auto w = TRY(writer(std::move(expect)));
  TRY(w.write(data));
  return w.commit();
}

Result<void> BlobStore::verify(const digest::Digest& d) const {
  auto got = TRY(digest::hash_file(path(d), d.algorithm()));
  if (got != d) return fail(ErrorKind::corrupt, "blob " + d.str() + " in " + m_root + " hashes to " + got.str());
  return {};
}

Result<void> BlobStore::remove(const digest::Digest& d) const {
  if (::unlink(path(d).c_str()) != 0 && errno != ENOENT) return fail_errno("removing blob " + d.str(), errno);
  return {};
}

Result<std::vector<digest::Digest>> BlobStore::list() const {
  std::vector<digest::Digest> out;
  for (auto [alg, name] : {std::pair{digest::Algorithm::sha256, "sha256"}, std::pair{digest::Algorithm::sha512, "sha512"}}) {
    auto names = list_dir(m_root + "/blobs/" + name);
    if (!names) {
      if (names.error().kind() == ErrorKind::not_found) continue;
      return fail(names.error());
    }
    for (const auto& n : *names)
      if (auto d = digest::Digest::from_hex(alg, n)) out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<StaleIngest>> BlobStore::list_stale_ingests(std::chrono::milliseconds grace) const {
  const std::string dir = m_root + "/" + k_ingest_dir;
  auto names = TRY(list_dir(dir));
  const TimePoint now = m_clock();
  std::vector<StaleIngest> out;
  for (const auto& n : names) {
    std::string p = dir + "/" + n;
    util::Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) continue;  // committed or aborted meanwhile
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) continue;
    TimePoint mtime = from_unix_ms(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000);
    if (now - mtime < grace) continue;
    auto free = TRY(try_lock(fd.get(), LockMode::exclusive));
    if (!free) continue;  // a live writer that is merely slow
    out.push_back({p, static_cast<std::uint64_t>(st.st_size), mtime});
  }
  return out;
}

Result<bool> BlobStore::remove_stale_ingest(const std::string& p) const {
  util::Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    return fail_errno("opening " + p, errno);
  }
  if (!TRY(try_lock(fd.get(), LockMode::exclusive))) return false;
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return fail_errno("removing " + p, errno);
  return true;
}

}  // namespace strata::store
