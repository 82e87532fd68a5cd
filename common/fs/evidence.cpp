#include "fs/evidence.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/digest.hpp"
#include "util/fd.hpp"

namespace strata::fs {

Result<std::string> read_xattrs(const std::string& path) {
  std::vector<char> names;
  for (;;) {
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n < 0) {
      if (errno == ENOTSUP) return std::string();
      return fail_errno("list xattrs of " + path, errno);
    }
    if (n == 0) return std::string();
    names.resize(static_cast<std::size_t>(n));
    n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<std::size_t>(n));
      break;
    }
    if (errno != ERANGE) return fail_errno("list xattrs of " + path, errno);
  }
  std::vector<std::string_view> sorted;
  for (std::size_t pos = 0; pos < names.size();) {
    std::string_view name(names.data() + pos);
    pos += name.size() + 1;
    if (!name.empty()) sorted.push_back(name);
  }
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  std::string value;
  for (std::string_view name : sorted) {
    std::string cname(name);
    for (;;) {
      ssize_t n = ::lgetxattr(path.c_str(), cname.c_str(), nullptr, 0);
      if (n < 0) {
        if (errno == ENODATA) break;  // removed between list and get
        return fail_errno("read xattr " + cname + " of " + path, errno);
      }
      value.resize(static_cast<std::size_t>(n));
      n = ::lgetxattr(path.c_str(), cname.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<std::size_t>(n));
        out.append(name);
        out.push_back('\0');
        out.append(std::to_string(value.size()));
        out.push_back('\0');
        out.append(value);
        break;
      }
      if (errno != ERANGE) return fail_errno("read xattr " + cname + " of " + path, errno);
    }
  }
  return out;
}

Result<Evidence> read_evidence(const std::string& path, const FileMeta& meta, std::uint64_t* bytes_hashed) {
  Evidence evidence;
  evidence.ino = meta.ino;
  evidence.xattrs = TRY(read_xattrs(path));
  if (meta.is_regular()) {
    // O_NOFOLLOW|O_NONBLOCK: if the entry was swapped for a symlink or a fifo since the walk,
    // fail instead of reading something else or hanging.
    util::Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return fail_errno("open " + path, errno);
    digest::Hasher hasher;
    std::vector<char> buffer(256 * 1024);
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("read " + path, errno);
      }
      if (n == 0) break;
      hasher.update(buffer.data(), static_cast<std::size_t>(n));
    }
    if (bytes_hashed != nullptr) *bytes_hashed += hasher.bytes();
    evidence.content = hasher.finish().hex();
  }
  return evidence;
}

}  // namespace strata::fs
