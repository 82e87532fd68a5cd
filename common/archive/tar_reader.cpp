#include "archive/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <string>

#include "archive/archive_error.hpp"

namespace strata::archive {
namespace {

constexpr std::size_t k_buffer_size = 256 * 1024;

EntryType entry_type(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) return EntryType::hardlink;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR: return EntryType::directory;
    case AE_IFLNK: return EntryType::symlink;
    case AE_IFCHR: return EntryType::char_device;
    case AE_IFBLK: return EntryType::block_device;
    case AE_IFIFO: return EntryType::fifo;
    case AE_IFSOCK: return EntryType::socket;
    default: return EntryType::regular;
  }
}

}  // namespace

TarReader::TarReader(Source& in, const ReaderLimits& limits)
    : m_in(in), m_limits(limits), m_archive(archive_read_new(), &archive_read_free),
      m_buffer(new char[k_buffer_size]) {}

TarReader::~TarReader() = default;

long TarReader::read_callback(::archive* a, void* self_ptr, const void** buffer) {
  auto* self = static_cast<TarReader*>(self_ptr);
  auto got = self->m_in.read(self->m_buffer.get(), k_buffer_size);
  if (!got) {
    self->m_source_error = got.error();
    archive_set_error(a, EIO, "%s", got.error().message().c_str());
    return -1;
  }
  *buffer = self->m_buffer.get();
  return static_cast<long>(*got);
}

Error TarReader::error(std::string_view what) {
  if (m_source_error) return *m_source_error;
  return detail::archive_error(m_archive.get(), what, ErrorKind::corrupt);
}

Result<std::unique_ptr<TarReader>> TarReader::open(Source& in, const ReaderLimits& limits) {
  std::unique_ptr<TarReader> reader(new TarReader(in, limits));
  ::archive* a = reader->m_archive.get();
  if (!a) return fail(ErrorKind::internal, "tar: cannot allocate a libarchive reader");
  if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
      archive_read_open(a, reader.get(), nullptr, &TarReader::read_callback, nullptr) != ARCHIVE_OK)
    return fail(reader->error("tar: open"));
  return reader;
}

Result<std::optional<TarEntry>> TarReader::next() {
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(m_archive.get(), &e);
  if (rc == ARCHIVE_EOF) return std::optional<TarEntry>();
  std::string where = "tar: after entry \"" + m_current + "\" (#" + std::to_string(m_entries) + ")";
  if (rc < ARCHIVE_WARN) return fail(error(where));
  if (++m_entries > m_limits.max_entries)
    return fail(ErrorKind::corrupt, where + ": more than " + std::to_string(m_limits.max_entries) + " entries");

  TarEntry out;
  const char* path = archive_entry_pathname(e);
  if (!path || !*path) return fail(ErrorKind::corrupt, where + ": entry without a name");
  out.path = path;
  m_current = out.path.substr(0, 200);
  if (out.path.size() > m_limits.max_path_bytes)
    return fail(ErrorKind::corrupt, "tar: entry \"" + m_current + "...\": name longer than " +
                                        std::to_string(m_limits.max_path_bytes) + " bytes");
  out.type = entry_type(e);
  out.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777;
  out.uid = archive_entry_uid(e);
  out.gid = archive_entry_gid(e);
  out.mtime = archive_entry_mtime(e);
  out.mtime_nsec = static_cast<std::uint32_t>(archive_entry_mtime_nsec(e));
  if (out.type == EntryType::regular) out.size = static_cast<std::uint64_t>(archive_entry_size(e));
  if (out.type == EntryType::hardlink) out.link_target = archive_entry_hardlink(e);
  if (out.type == EntryType::symlink) {
    const char* target = archive_entry_symlink(e);
    out.link_target = target ? target : "";
  }
  if (out.type == EntryType::char_device || out.type == EntryType::block_device) {
    out.dev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(e));
    out.dev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(e));
  }
  std::size_t header_bytes = out.path.size() + out.link_target.size();
  if (archive_entry_xattr_reset(e) > 0) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      header_bytes += std::strlen(name) + size;
      if (header_bytes > m_limits.max_header_bytes) break;
      out.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
  }
  if (header_bytes > m_limits.max_header_bytes)
    return fail(ErrorKind::corrupt, "tar: entry \"" + m_current + "\": header metadata larger than " +
                                        std::to_string(m_limits.max_header_bytes) + " bytes");
  return std::optional<TarEntry>(std::move(out));
}

Result<TarReader::Block> TarReader::read_block() {
  Block block;
  la_int64_t offset = 0;
  int rc = archive_read_data_block(m_archive.get(), &block.data, &block.size, &offset);
  if (rc == ARCHIVE_EOF) return Block{};
  if (rc < ARCHIVE_WARN) return fail(error("tar: reading data of \"" + m_current + "\""));
  block.offset = offset;
  return block;
}

}  // namespace strata::archive
