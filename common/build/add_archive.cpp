#include "build/add_archive.hpp"

#include <archive.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "archive/archive_error.hpp"
#include "archive/extractor.hpp"

namespace strata::build {
namespace {

constexpr std::size_t k_block = 128 * 1024;

// libarchive's "raw" format with every filter: a decompressor for gzip/bzip2/xz/zstd/plain.
class RawDecompressor final : public archive::Source {
 public:
  RawDecompressor(int fd, std::string name)
      : m_fd(fd), m_name(std::move(name)), m_archive(archive_read_new(), &archive_read_free),
        m_buffer(new char[k_block]) {}

  Result<void> open() {
    ::archive* a = m_archive.get();
    if (!a) return fail(ErrorKind::internal, "cannot allocate a libarchive reader");
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open(a, this, nullptr, &RawDecompressor::read_cb, nullptr) != ARCHIVE_OK)
      return fail(error("open"));
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      m_eof = true;
      return {};
    }
    if (rc < ARCHIVE_WARN) return fail(error("read header"));
    return {};
  }

  Result<std::size_t> read(void* buf, std::size_t n) override {
    if (m_eof) return std::size_t{0};
    la_ssize_t got = archive_read_data(m_archive.get(), buf, n);
    if (got < 0) return fail(error("decompress"));
    if (got == 0) m_eof = true;
    return static_cast<std::size_t>(got);
  }

 private:
  static la_ssize_t read_cb(::archive* a, void* self_ptr, const void** buffer) {
    auto* self = static_cast<RawDecompressor*>(self_ptr);
    for (;;) {
      ssize_t n = ::pread(self->m_fd, self->m_buffer.get(), k_block, self->m_offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        archive_set_error(a, errno, "read %s: %s", self->m_name.c_str(), std::strerror(errno));
        return -1;
      }
      self->m_offset += n;
      *buffer = self->m_buffer.get();
      return n;
    }
  }

  Error error(std::string_view what) {
    return archive::detail::archive_error(m_archive.get(), m_name + ": " + std::string(what), ErrorKind::corrupt);
  }

  int m_fd;
  std::string m_name;
  std::unique_ptr<::archive, int (*)(::archive*)> m_archive;
  std::unique_ptr<char[]> m_buffer;
  off_t m_offset = 0;
  bool m_eof = false;
};

bool valid_tar_header(const unsigned char* h) {
  // The checksum field (148..155) is octal, space/NUL terminated; the sum counts it as spaces.
  std::uint64_t stored = 0;
  bool digits = false;
  for (int i = 148; i < 156; ++i) {
    unsigned char c = h[i];
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + (c - '0');
      digits = true;
    } else if (c == ' ' || c == 0) {
      if (digits) break;
    } else {
      return false;
    }
  }
  if (!digits) return false;
  std::uint64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (int i = 0; i < 512; ++i) {
    unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
    unsigned_sum += c;
    signed_sum += static_cast<signed char>(c);
  }
  return stored == unsigned_sum || static_cast<std::int64_t>(stored) == signed_sum;
}

}  // namespace

Result<std::unique_ptr<archive::Source>> open_any_decompressed(int fd, std::string name) {
  auto src = std::make_unique<RawDecompressor>(fd, std::move(name));
  TRY(src->open());
  return std::unique_ptr<archive::Source>(std::move(src));
}

Result<bool> is_tar_archive(int fd) {
  auto src = open_any_decompressed(fd, "archive probe");
  if (!src) return false;  // not decodable: a plain file
  unsigned char header[512];
  std::size_t have = 0;
  while (have < sizeof header) {
    auto got = (*src)->read(header + have, sizeof header - have);
    if (!got) return false;
    if (*got == 0) break;
    have += *got;
  }
  if (have < sizeof header) return false;
  return valid_tar_header(header);
}

Result<void> extract_archive(int fd, const std::string& name, const archive::RootDir& root,
                             const std::string& dest_rel) {
  util::Fd dest = TRY(root.open_dir(dest_rel, archive::CreateParents::yes));
  // The destination was resolved inside the build root; extracting below its /proc link keeps
  // every entry under it whatever symlinks the image holds.
  std::string dest_path = "/proc/self/fd/" + std::to_string(dest.get());
  auto plain = TRY(open_any_decompressed(fd, name));
  archive::ExtractOptions options;
  TRY_CTX(archive::apply_layer(*plain, dest_path, options), "ADD " + name);
  return {};
}

}  // namespace strata::build
