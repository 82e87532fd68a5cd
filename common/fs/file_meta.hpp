// FileMeta: the subset of struct stat that snapshots compare and cache keys hash, packed small
// because a snapshot keeps one per file of the image (100k+ entries).
//
// Thread safety: plain values.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string_view>

namespace strata::fs {

enum class FileType : std::uint8_t { regular, directory, symlink, char_device, block_device, fifo, socket, unknown };

std::string_view to_string(FileType type);

inline FileType file_type_of(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return FileType::regular;
    case S_IFDIR: return FileType::directory;
    case S_IFLNK: return FileType::symlink;
    case S_IFCHR: return FileType::char_device;
    case S_IFBLK: return FileType::block_device;
    case S_IFIFO: return FileType::fifo;
    case S_IFSOCK: return FileType::socket;
    default: return FileType::unknown;
  }
}

struct FileMeta {
  std::uint64_t ino = 0;
  std::uint64_t dev = 0;
  std::uint64_t rdev = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint32_t mode = 0;  // type and permission bits, as st_mode
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t nlink = 0;

  FileType type() const { return file_type_of(mode); }
  bool is_dir() const { return (mode & S_IFMT) == S_IFDIR; }
  bool is_regular() const { return (mode & S_IFMT) == S_IFREG; }
  std::uint32_t permissions() const { return mode & 07777; }

  static FileMeta from_stat(const struct stat& st) {
    FileMeta m;
    m.ino = st.st_ino;
    m.dev = st.st_dev;
    m.rdev = st.st_rdev;
    m.size = static_cast<std::uint64_t>(st.st_size);
    m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    m.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    m.mode = st.st_mode;
    m.uid = st.st_uid;
    m.gid = st.st_gid;
    m.nlink = static_cast<std::uint32_t>(st.st_nlink);
    return m;
  }
};

}  // namespace strata::fs
