#include "archive/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "archive/archive_error.hpp"
#include "util/fd.hpp"
#include "util/strings.hpp"

namespace strata::archive {
namespace {

constexpr std::size_t k_copy_buffer = 256 * 1024;

struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP) return out;
    return fail_errno("list xattrs of " + path, errno);
  }
  std::string names(static_cast<std::size_t>(size), '\0');
  size = ::llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) return fail_errno("list xattrs of " + path, errno);
  names.resize(static_cast<std::size_t>(size));
  for (std::size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (name.empty()) continue;
    ssize_t vsize = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vsize < 0) {
      if (errno == ENODATA) continue;  // removed meanwhile
      return fail_errno("read xattr " + name + " of " + path, errno);
    }
    std::string value(static_cast<std::size_t>(vsize), '\0');
    vsize = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vsize < 0) return fail_errno("read xattr " + name + " of " + path, errno);
    value.resize(static_cast<std::size_t>(vsize));
    out.emplace_back(std::move(name), std::move(value));
  }
  std::sort(out.begin(), out.end());  // deterministic layers whatever the file system's order
  return out;
}

}  // namespace

Result<std::string> normalize_layer_path(std::string_view path) {
  auto parts = util::path_components(path);
  if (std::find(parts.begin(), parts.end(), "..") != parts.end())
    return fail(ErrorKind::invalid_argument, "layer path \"" + std::string(path) + "\" contains \"..\"");
  std::string out = util::join_components(parts);
  if (out.empty()) return fail(ErrorKind::invalid_argument, "layer path \"" + std::string(path) + "\" names the root");
  return out;
}

TarWriter::TarWriter(Sink& out, const WriterOptions& options)
    : m_out(out), m_options(options), m_archive(archive_write_new(), &archive_write_free) {}

TarWriter::~TarWriter() = default;

long TarWriter::write_callback(::archive* a, void* self_ptr, const void* buffer, std::size_t n) {
  auto* self = static_cast<TarWriter*>(self_ptr);
  auto written = self->m_out.write(buffer, n);
  if (!written) {
    self->m_sink_error = written.error();
    archive_set_error(a, EIO, "%s", written.error().message().c_str());
    return -1;
  }
  return static_cast<long>(n);
}

Error TarWriter::error(std::string_view what) {
  if (m_sink_error) return *m_sink_error;
  return detail::archive_error(m_archive.get(), what, ErrorKind::internal);
}

Result<std::unique_ptr<TarWriter>> TarWriter::open(Sink& out, const WriterOptions& options) {
  std::unique_ptr<TarWriter> writer(new TarWriter(out, options));
  ::archive* a = writer->m_archive.get();
  if (!a) return fail(ErrorKind::internal, "tar: cannot allocate a libarchive writer");
  // No padding of the last 10 KiB block: layers end after the two zero blocks, as Go writes them.
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open(a, writer.get(), nullptr, &TarWriter::write_callback, nullptr) != ARCHIVE_OK)
    return fail(writer->error("tar: open writer"));
  return writer;
}

std::int64_t TarWriter::apply_policy(std::int64_t mtime) const {
  switch (m_options.mtime_policy) {
    case MtimePolicy::preserve: return mtime;
    case MtimePolicy::clamp: return std::min(mtime, m_options.epoch);
    case MtimePolicy::set: return m_options.epoch;
  }
  return mtime;
}

Result<void> TarWriter::write_header(TarEntry entry) {
  if (m_finished) return fail(ErrorKind::internal, "tar: entry added after finish");
  std::string name = TRY(normalize_layer_path(entry.path));
  if (entry.type == EntryType::directory) name += '/';
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  if (!e) return fail(ErrorKind::internal, "tar: cannot allocate an entry");
  archive_entry_copy_pathname(e.get(), name.c_str());
  unsigned type = AE_IFREG;
  switch (entry.type) {
    case EntryType::regular: case EntryType::hardlink: type = AE_IFREG; break;
    case EntryType::directory: type = AE_IFDIR; break;
    case EntryType::symlink: type = AE_IFLNK; break;
    case EntryType::char_device: type = AE_IFCHR; break;
    case EntryType::block_device: type = AE_IFBLK; break;
    case EntryType::fifo: type = AE_IFIFO; break;
    case EntryType::socket: return fail(ErrorKind::invalid_argument, "tar: sockets cannot be archived: " + name);
  }
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode & 07777));
  archive_entry_set_uid(e.get(), entry.uid);
  archive_entry_set_gid(e.get(), entry.gid);
  archive_entry_set_mtime(e.get(), apply_policy(entry.mtime), 0);
  archive_entry_set_size(e.get(), entry.type == EntryType::regular ? static_cast<la_int64_t>(entry.size) : 0);
  if (entry.type == EntryType::symlink) archive_entry_copy_symlink(e.get(), entry.link_target.c_str());
  if (entry.type == EntryType::hardlink) {
    std::string target = TRY(normalize_layer_path(entry.link_target));
    archive_entry_copy_hardlink(e.get(), target.c_str());
  }
  if (entry.type == EntryType::char_device || entry.type == EntryType::block_device) {
    archive_entry_set_rdevmajor(e.get(), entry.dev_major);
    archive_entry_set_rdevminor(e.get(), entry.dev_minor);
  }
  for (const auto& [key, value] : entry.xattrs)
    archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
  if (archive_write_header(m_archive.get(), e.get()) < ARCHIVE_WARN) return fail(error("tar: header of " + name));
  ++m_entries;
  return {};
}

Result<void> TarWriter::write_data(const void* data, std::size_t n, std::string_view name) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    la_ssize_t put = archive_write_data(m_archive.get(), p, n);
    if (put <= 0) return fail(error("tar: data of " + std::string(name)));
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return {};
}

Result<void> TarWriter::add_path(const std::string& disk_path, std::string_view tar_path) {
  struct stat st;
  if (::lstat(disk_path.c_str(), &st) != 0) return fail_errno("lstat " + disk_path, errno);
  if (S_ISSOCK(st.st_mode)) return {};
  TarEntry e;
  e.path = std::string(tar_path);
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime = st.st_mtim.tv_sec;
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto key = std::make_pair(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
    auto it = m_links.find(key);
    if (it != m_links.end()) {
      e.type = EntryType::hardlink;
      e.link_target = it->second;
      return write_header(std::move(e));
    }
    m_links.emplace(key, TRY(normalize_layer_path(tar_path)));
  }
  e.xattrs = TRY(read_xattrs(disk_path));
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: e.type = EntryType::directory; return write_header(std::move(e));
    case S_IFIFO: e.type = EntryType::fifo; return write_header(std::move(e));
    case S_IFCHR:
    case S_IFBLK:
      e.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
      e.dev_major = ::major(st.st_rdev);
      e.dev_minor = ::minor(st.st_rdev);
      return write_header(std::move(e));
    case S_IFLNK: {
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlink(disk_path.c_str(), target.data(), target.size());
      if (n < 0) return fail_errno("readlink " + disk_path, errno);
      target.resize(static_cast<std::size_t>(n));
      e.type = EntryType::symlink;
      e.link_target = std::move(target);
      return write_header(std::move(e));
    }
    default: break;
  }
  int raw = ::open(disk_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) return fail_errno("open " + disk_path, errno);
  util::Fd fd(raw);
  struct stat fst;
  if (::fstat(fd.get(), &fst) != 0) return fail_errno("fstat " + disk_path, errno);
  if (!S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino)
    return fail(ErrorKind::io, disk_path + " changed while being archived");
  e.type = EntryType::regular;
  e.size = static_cast<std::uint64_t>(fst.st_size);
  TRY(write_header(e));
  FdSource source(fd.get(), disk_path);
  std::vector<char> buf(k_copy_buffer);
  std::uint64_t left = e.size;
  while (left > 0) {
    std::size_t got = TRY(source.read(buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()))));
    if (got == 0) return fail(ErrorKind::io, disk_path + " shrank while being archived");
    TRY(write_data(buf.data(), got, e.path));
    left -= got;
  }
  return {};
}

Result<void> TarWriter::add_hardlink(std::string_view tar_path, std::string_view target_tar_path, const TarEntry& meta) {
  TarEntry e = meta;
  e.path = std::string(tar_path);
  e.type = EntryType::hardlink;
  e.link_target = std::string(target_tar_path);
  e.size = 0;
  return write_header(std::move(e));
}

Result<void> TarWriter::add_entry(const TarEntry& entry, std::string_view content) {
  if (entry.type != EntryType::regular && !content.empty())
    return fail(ErrorKind::invalid_argument, "tar: content given for non-file entry " + entry.path);
  TarEntry e = entry;
  e.size = entry.type == EntryType::regular ? content.size() : 0;
  TRY(write_header(e));
  return write_data(content.data(), content.size(), e.path);
}

Result<void> TarWriter::add_entry(const TarEntry& entry, Source& content) {
  if (entry.type != EntryType::regular) return add_entry(entry, std::string_view());
  TRY(write_header(entry));
  std::vector<char> buf(k_copy_buffer);
  std::uint64_t left = entry.size;
  while (left > 0) {
    std::size_t got = TRY(content.read(buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()))));
    if (got == 0)
      return fail(ErrorKind::invalid_argument, "tar: content of " + entry.path + " ended " + std::to_string(left) + " bytes early");
    TRY(write_data(buf.data(), got, entry.path));
    left -= got;
  }
  return {};
}

Result<void> TarWriter::add_whiteout(std::string_view deleted_path) {
  std::string path = TRY(normalize_layer_path(deleted_path));
  std::size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  TarEntry e;
  e.path = parent + std::string(k_whiteout_prefix) + name;
  e.mode = 0;
  e.mtime = m_options.mtime_policy == MtimePolicy::preserve ? 0 : m_options.epoch;
  return add_entry(e);
}

Result<void> TarWriter::add_opaque(std::string_view dir_path) {
  std::string dir = TRY(normalize_layer_path(dir_path));
  TarEntry e;
  e.path = dir + "/" + std::string(k_opaque_whiteout);
  e.mode = 0;
  e.mtime = m_options.mtime_policy == MtimePolicy::preserve ? 0 : m_options.epoch;
  return add_entry(e);
}

Result<void> TarWriter::finish() {
  if (m_finished) return fail(ErrorKind::internal, "tar: finish called twice");
  m_finished = true;
  if (archive_write_close(m_archive.get()) != ARCHIVE_OK) return fail(error("tar: close"));
  return {};
}

}  // namespace strata::archive
