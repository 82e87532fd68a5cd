#include "fs/walker.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "util/fd.hpp"

namespace strata::fs {
namespace {

// The kernel's record layout for getdents64(2); glibc's struct dirent64 has the same shape but
// its wrapper is not declared by every libc we might build against.
struct LinuxDirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// The names of one directory, kept per depth and reused, so that a walk allocates only when a
// directory is larger than any seen before at its depth.
struct Level {
  std::string names;                   // NUL-terminated names, back to back
  std::vector<std::uint32_t> offsets;  // start of each name in names
};

class Walker {
 public:
  Walker(const WalkOptions& options, const WalkCallback& callback)
      : m_options(options), m_callback(callback), m_buffer(64 * 1024) {}

  Result<void> run(const std::string& root) {
    util::Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("open directory " + root, errno);
    return run(fd.get(), root);
  }

  Result<void> run(int root_fd, const std::string& display) {
    struct stat st;
    if (::fstat(root_fd, &st) != 0) return fail_errno("stat " + display, errno);
    if (!S_ISDIR(st.st_mode)) return fail(ErrorKind::invalid_argument, display + ": not a directory");
    m_root = display;
    m_root_dev = st.st_dev;
    m_path.reserve(4096);
    TRY(walk_dir(root_fd, 1));
    return {};
  }

 private:
  std::string describe(std::string_view rel) const {
    return rel.empty() ? m_root : m_root + "/" + std::string(rel);
  }

  Result<void> read_names(int dir_fd, Level& level) {
    level.names.clear();
    level.offsets.clear();
    for (;;) {
      long n = ::syscall(SYS_getdents64, dir_fd, m_buffer.data(), m_buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("read directory " + describe(m_path), errno);
      }
      if (n == 0) break;
      for (long pos = 0; pos < n;) {
        auto* d = reinterpret_cast<LinuxDirent64*>(m_buffer.data() + pos);
        pos += d->d_reclen;
        const char* name = d->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        level.offsets.push_back(static_cast<std::uint32_t>(level.names.size()));
        level.names.append(name, std::strlen(name) + 1);
      }
    }
    const char* base = level.names.data();
    std::sort(level.offsets.begin(), level.offsets.end(),
              [base](std::uint32_t a, std::uint32_t b) { return std::strcmp(base + a, base + b) < 0; });
    return {};
  }

  // Returns false when the callback asked to stop.
  Result<bool> walk_dir(int dir_fd, int depth) {
    if (m_levels.size() < static_cast<std::size_t>(depth)) m_levels.emplace_back();
    Level& level = m_levels[depth - 1];
    TRY(read_names(dir_fd, level));
    const std::size_t base_len = m_path.size();
    for (std::uint32_t off : level.offsets) {
      const char* name = level.names.data() + off;
      std::size_t name_len = std::strlen(name);
      if (base_len != 0) m_path.push_back('/');
      m_path.append(name, name_len);
      struct stat st;
      if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        int err = errno;
        if (err == ENOENT) {
          m_path.resize(base_len);
          continue;
        }
        return fail_errno("stat " + describe(m_path), err);
      }
      bool mount_point = st.st_dev != m_root_dev;
      WalkEntry entry{m_path, std::string_view(name, name_len), st, dir_fd, depth, mount_point};
      WalkAction action = m_callback(entry);
      if (action == WalkAction::stop) return false;
      if (action == WalkAction::proceed && S_ISDIR(st.st_mode) && !(mount_point && m_options.one_filesystem)) {
        util::Fd child(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) {
          int err = errno;
          if (err != ENOENT && err != ENOTDIR && err != ELOOP) return fail_errno("open directory " + describe(m_path), err);
        } else {
          bool go_on = TRY(walk_dir(child.get(), depth + 1));
          if (!go_on) return false;
        }
      }
      m_path.resize(base_len);
    }
    return true;
  }

  const WalkOptions& m_options;
  const WalkCallback& m_callback;
  std::vector<char> m_buffer;
  std::deque<Level> m_levels;  // deque: growing it keeps references to shallower levels valid
  std::string m_root;
  std::string m_path;
  dev_t m_root_dev = 0;
};

}  // namespace

Result<void> walk(const std::string& root, const WalkOptions& options, const WalkCallback& callback) {
  Walker walker(options, callback);
  return walker.run(root);
}

Result<void> walk_at(int root_fd, const std::string& display_name, const WalkOptions& options,
                     const WalkCallback& callback) {
  Walker walker(options, callback);
  return walker.run(root_fd, display_name);
}

int path_compare(std::string_view a, std::string_view b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char ca = static_cast<unsigned char>(a[i]);
    unsigned char cb = static_cast<unsigned char>(b[i]);
    if (ca == cb) continue;
    if (ca == '/') return -1;
    if (cb == '/') return 1;
    return ca < cb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool path_less(std::string_view a, std::string_view b) { return path_compare(a, b) < 0; }

bool path_is_under(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace strata::fs
