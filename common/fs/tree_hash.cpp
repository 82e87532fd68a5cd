#include "fs/tree_hash.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <vector>

#include "fs/file_meta.hpp"
#include "fs/tree_capture.hpp"
#include "fs/walker.hpp"
#include "util/fd.hpp"

namespace strata::fs {
namespace {

Result<util::Fd> open_in_root(int root_fd, const std::string& rel, std::uint64_t flags, const std::string& display) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == ENOSYS) return fail(ErrorKind::unsupported, "openat2 is not available: cannot resolve " + display);
    return fail_errno("open " + display, errno);
  }
  return util::Fd(static_cast<int>(fd));
}

class TreeHasher {
 public:
  explicit TreeHasher(std::string root) : m_root(std::move(root)), m_buffer(256 * 1024) {}

  Result<void> hash_entry(int parent_fd, const std::string& name, const std::string& path, const struct stat& st) {
    const FileMeta meta = FileMeta::from_stat(st);
    std::string payload_header;
    std::string payload;
    const std::string display = m_root + "/" + path;
    switch (meta.type()) {
      case FileType::symlink: {
        payload.resize(static_cast<std::size_t>(st.st_size) + 1);
        for (;;) {
          ssize_t n = ::readlinkat(parent_fd, name.c_str(), payload.data(), payload.size());
          if (n < 0) return fail_errno("readlink " + display, errno);
          if (static_cast<std::size_t>(n) < payload.size()) {
            payload.resize(static_cast<std::size_t>(n));
            break;
          }
          payload.resize(payload.size() * 2);
        }
        break;
      }
      case FileType::char_device:
      case FileType::block_device:
        payload = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
        break;
      default: break;
    }
    std::string header = path;
    header.push_back('\0');
    header.append(to_string(meta.type()));
    header.push_back('\0');
    char perm[16];
    std::snprintf(perm, sizeof perm, "%o", meta.permissions());
    header.append(perm);
    header.push_back('\0');
    header.append(std::to_string(meta.uid));
    header.push_back('\0');
    header.append(std::to_string(meta.gid));
    header.push_back('\0');
    if (meta.is_regular()) {
      util::Fd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd) return fail_errno("open " + display, errno);
      struct stat now;
      if (::fstat(fd.get(), &now) != 0) return fail_errno("stat " + display, errno);
      header.append(std::to_string(now.st_size));
      header.push_back('\0');
      m_hasher.update(header);
      std::uint64_t remaining = static_cast<std::uint64_t>(now.st_size);
      while (remaining > 0) {
        ssize_t n = ::read(fd.get(), m_buffer.data(), std::min<std::uint64_t>(m_buffer.size(), remaining));
        if (n < 0) {
          if (errno == EINTR) continue;
          return fail_errno("read " + display, errno);
        }
        // A file that shrank while being hashed would make the record ambiguous.
        if (n == 0) return fail(ErrorKind::conflict, display + " changed while it was hashed");
        m_hasher.update(m_buffer.data(), static_cast<std::size_t>(n));
        remaining -= static_cast<std::uint64_t>(n);
      }
      return {};
    }
    header.append(std::to_string(payload.size()));
    header.push_back('\0');
    header.append(payload);
    m_hasher.update(header);
    return {};
  }

  Result<void> hash_path(int root_fd, const std::string& rel) {
    std::string path = TRY(normalize_image_path(rel));
    std::size_t slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    util::Fd parent_fd = TRY(open_in_root(root_fd, parent, O_PATH | O_DIRECTORY, m_root + "/" + parent));
    struct stat st;
    if (::fstatat(parent_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return fail_errno("stat " + m_root + "/" + path, errno);
    }
    TRY(hash_entry(parent_fd.get(), name, path, st));
    if (!S_ISDIR(st.st_mode)) return {};

    util::Fd dir_fd(::openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd) return fail_errno("open directory " + m_root + "/" + path, errno);
    std::optional<Error> failure;
    std::string child_path;
    std::string child_name;
    WalkOptions options;
    options.one_filesystem = false;
    TRY(walk_at(dir_fd.get(), m_root + "/" + path, options, [&](const WalkEntry& e) {
      child_path.assign(path).append("/").append(e.path);
      child_name.assign(e.name);
      auto r = hash_entry(e.parent_fd, child_name, child_path, e.st);
      if (!r) {
        failure = std::move(r.error());
        return WalkAction::stop;
      }
      return WalkAction::proceed;
    }));
    if (failure) return fail(std::move(*failure));
    return {};
  }

  digest::Digest finish() { return m_hasher.finish(); }

 private:
  std::string m_root;
  std::vector<char> m_buffer;
  digest::Hasher m_hasher;
};

}  // namespace

Result<digest::Digest> hash_tree_entries(const std::string& root, const std::vector<std::string>& paths) {
  util::Fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return fail_errno("open directory " + root, errno);
  TreeHasher hasher(root);
  for (const std::string& p : paths) TRY_CTX(hasher.hash_path(root_fd.get(), p), "hash of " + root);
  return hasher.finish();
}

}  // namespace strata::fs
