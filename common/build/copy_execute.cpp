// Writing a CopyPlan into the build root.
//
// Every path is reached through archive::RootDir: the parent directory of each object is opened
// with RESOLVE_IN_ROOT semantics (symlinks in the image, absolute or with "..", resolve inside
// the root) and the object itself is created relative to that descriptor without following its
// final component. So `/app -> /etc` in the image makes `COPY f /app/` write the root's /etc/f,
// never the host's.
//
// Per object: remove what is there (a directory may only be merged into, never replaced), create,
// then owner, xattrs, mode, times, in that order because chown clears setuid/setgid and file
// capabilities. Directory times are set last, deepest first, since creating children moves them.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

#include "build/add_archive.hpp"
#include "build/copy.hpp"
#include "build/copy_internal.hpp"
#include "build/copy_path.hpp"
#include "util/log.hpp"

namespace strata::build {
namespace {

timespec ts_of(std::int64_t ns) { return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}; }

Result<void> copy_data(int in, int out, const std::string& what) {
  bool plain = false;
  std::vector<char> buf;
  for (;;) {
    if (!plain) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) return {};
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM)
        return fail_errno("copy " + what, errno);
      plain = true;
      buf.resize(256 * 1024);
    }
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what, errno);
    }
    if (n == 0) return {};
    const char* p = buf.data();
    while (n > 0) {
      ssize_t put = ::write(out, p, static_cast<std::size_t>(n));
      if (put < 0) {
        if (errno == EINTR) continue;
        return fail_errno("write " + what, errno);
      }
      p += put;
      n -= put;
    }
  }
}

bool wanted_xattr(std::string_view name) {
  return name.starts_with("user.") || name == "security.capability";
}

class Writer {
 public:
  Writer(const CopyPlan& plan, const archive::RootDir& dst, const std::vector<SourceRoot>& roots)
      : m_plan(plan), m_dst(dst), m_roots(roots) {}

  Result<CopyStats> run() {
    std::string dest = TRY(resolve_dest(m_plan.destination()));
    if (m_plan.destination_is_dir()) TRY(mkdir_p(dest));
    for (const auto& item : m_plan.items()) TRY_CTX(write_item(item, dest), "\"" + item.display + "\"");
    TRY(apply_dir_times());
    return m_stats;
  }

 private:
  // The destination as it resolves inside the root when it exists (a symlink in the image is
  // followed in-root, as BuildKit's fs.RootPath does); the lexical path otherwise.
  Result<std::string> resolve_dest(const std::string& rel) {
    if (rel.empty()) return rel;
    int fd = m_dst.open_raw(rel, O_PATH);
    if (fd < 0) return rel;
    util::Fd guard(fd);
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    char buf[PATH_MAX + 1];
    ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
    if (n < 0) return fail_errno("readlink " + link, errno);
    std::string abs(buf, static_cast<std::size_t>(n));
    std::string root = m_root_real;
    if (abs == root) return std::string();
    if (root == "/") return abs.substr(1);
    if (abs.starts_with(root + "/")) return abs.substr(root.size() + 1);
    return fail(ErrorKind::internal, "destination \"/" + rel + "\" resolved outside the root: " + abs);
  }

  bool is_dir_in_root(const std::string& rel) {
    int fd = m_dst.open_raw(rel, O_PATH | O_DIRECTORY);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }

  // mkdir -p inside the root; new directories are 0755 and owned by the --chown owner (fsutil's
  // MkdirAll chowns what it creates). A dangling symlink on the way is followed the way the
  // kernel would inside the root: its target is created instead.
  Result<void> mkdir_p(const std::string& rel, int depth = 0) {
    if (rel.empty()) return {};
    if (depth > 40) return fail(ErrorKind::invalid_argument, "too many levels of symbolic links at \"/" + rel + "\"");
    int fd = m_dst.open_raw(rel, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
      ::close(fd);
      return {};
    }
    if (fd != -ENOENT) return fail_errno("create directory \"/" + rel + "\"", -fd);
    auto [parent, base] = archive::split_parent(rel);
    TRY(mkdir_p(std::string(parent), depth + 1));
    util::Fd pfd = TRY(m_dst.open_dir(parent, archive::CreateParents::no));
    std::string name(base);
    if (::mkdirat(pfd.get(), name.c_str(), 0755) != 0) {
      if (errno != EEXIST) return fail_errno("create directory \"/" + rel + "\"", errno);
      struct stat st;
      if (::fstatat(pfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat \"/" + rel + "\"", errno);
      if (S_ISDIR(st.st_mode)) return {};
      if (!S_ISLNK(st.st_mode)) return fail(ErrorKind::invalid_argument, "\"/" + rel + "\" exists and is not a directory");
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(pfd.get(), name.c_str(), target.data(), target.size());
      if (n < 0) return fail_errno("readlink \"/" + rel + "\"", errno);
      target.resize(static_cast<std::size_t>(n));
      std::string next = target.starts_with("/") ? normalize_source(target)
                                                 : normalize_source(std::string(parent) + "/" + target);
      return mkdir_p(next, depth + 1);
    }
    util::Fd made(::openat(pfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!made) return fail_errno("open \"/" + rel + "\"", errno);
    const Owner& o = m_plan.owner();
    if (::fchown(made.get(), o.uid, o.gid) != 0) return fail_errno("chown \"/" + rel + "\"", errno);
    if (::fchmod(made.get(), 0755) != 0) return fail_errno("chmod \"/" + rel + "\"", errno);
    ++m_stats.dirs;
    return {};
  }

  Result<void> write_item(const CopyItem& item, const std::string& dest) {
    if (item.kind == ItemKind::archive) {
      TRY(mkdir_p(dest));
      const SourceRoot& root = m_roots[item.root_index];
      util::Fd file = TRY(root.dir().open(item.source_rel, O_RDONLY | O_NOFOLLOW));
      TRY(extract_archive(file.get(), item.display, m_dst, dest));
      ++m_stats.files;
      return {};
    }
    std::string target;
    bool top_is_child = false;
    if (!item.parents_rel.empty()) {
      TRY(mkdir_p(dest));
      std::string at = dest;
      m_parent_dirs = true;  // their xattrs are not carried: they are not under source_rel
      for (const auto& p : item.parent_dirs) {
        at = join_rel(dest, p.rel);
        TRY(write_entry(item, p, at, /*keep_meta=*/false, nullptr));
      }
      m_parent_dirs = false;
      target = join_rel(dest, item.parents_rel);
      top_is_child = true;
    } else if (item.is_dir) {
      target = dest;
    } else if (m_plan.destination_is_dir() || is_dir_in_root(dest)) {
      target = join_rel(dest, item.name);
    } else {
      target = dest;
    }
    if (!target.empty()) {
      auto [parent, base] = archive::split_parent(target);
      TRY(mkdir_p(std::string(parent)));
    }
    std::vector<std::string> written(item.entries.size());
    for (std::size_t i = 0; i < item.entries.size(); ++i) {
      const CopyEntry& e = item.entries[i];
      std::string path = join_rel(target, e.rel);
      written[i] = path;
      if (path.empty()) continue;  // the root itself: merged, its metadata kept
      bool keep_meta = e.rel.empty() && !top_is_child;
      const std::string* link_to = e.hardlink_of >= 0 ? &written[static_cast<std::size_t>(e.hardlink_of)] : nullptr;
      TRY(write_entry(item, e, path, keep_meta, link_to));
    }
    return {};
  }

  // `keep_meta`: an existing directory at the top of a copy keeps its own metadata.
  Result<void> write_entry(const CopyItem& item, const CopyEntry& e, const std::string& path, bool keep_meta,
                           const std::string* link_to) {
    auto [parent, base] = archive::split_parent(path);
    int dir = TRY(parent_fd(std::string(parent)));
    std::string name(base);
    const char* n = name.c_str();
    struct stat cur;
    bool exists = ::fstatat(dir, n, &cur, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT) return fail_errno("stat \"/" + path + "\"", errno);
    bool is_dir = e.type == fs::FileType::directory;
    if (exists && S_ISDIR(cur.st_mode) != is_dir) {
      if (S_ISDIR(cur.st_mode))
        return fail(ErrorKind::invalid_argument, "cannot replace directory \"/" + path + "\" with a file");
      if (!keep_meta || !is_dir) {
        if (::unlinkat(dir, n, 0) != 0) return fail_errno("remove \"/" + path + "\"", errno);
        exists = false;
      } else {
        return fail(ErrorKind::invalid_argument, "cannot copy a directory to non-directory \"/" + path + "\"");
      }
    } else if (exists && !is_dir) {
      if (::unlinkat(dir, n, 0) != 0) return fail_errno("remove \"/" + path + "\"", errno);
      exists = false;
    }

    util::Fd obj;  // an open descriptor when the object has one
    switch (e.type) {
      case fs::FileType::directory:
        if (exists && keep_meta) return {};
        if (!exists && ::mkdirat(dir, n, 0700) != 0) return fail_errno("mkdir \"/" + path + "\"", errno);
        obj = util::Fd(::openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!obj) return fail_errno("open \"/" + path + "\"", errno);
        m_dir_times[path] = e.mtime_ns;
        if (!exists) ++m_stats.dirs;
        break;
      case fs::FileType::regular: {
        if (link_to) {
          auto [lp, lb] = archive::split_parent(*link_to);
          util::Fd ldir = TRY(m_dst.open_dir(lp, archive::CreateParents::no));
          if (::linkat(ldir.get(), std::string(lb).c_str(), dir, n, 0) != 0)
            return fail_errno("hardlink \"/" + path + "\"", errno);
          ++m_stats.links;
          return {};
        }
        obj = util::Fd(::openat(dir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!obj) return fail_errno("create \"/" + path + "\"", errno);
        if (item.kind == ItemKind::inline_file) {
          const std::string& c = item.inline_content;
          std::size_t off = 0;
          while (off < c.size()) {
            ssize_t put = ::write(obj.get(), c.data() + off, c.size() - off);
            if (put < 0) {
              if (errno == EINTR) continue;
              return fail_errno("write \"/" + path + "\"", errno);
            }
            off += static_cast<std::size_t>(put);
          }
        } else {
          TRY(open_source(item, e));
          TRY(copy_data(m_src.get(), obj.get(), "\"/" + path + "\""));
        }
        ++m_stats.files;
        m_stats.bytes += e.size;
        break;
      }
      case fs::FileType::symlink:
        if (::symlinkat(e.link_target.c_str(), dir, n) != 0) return fail_errno("symlink \"/" + path + "\"", errno);
        ++m_stats.links;
        break;
      case fs::FileType::char_device:
      case fs::FileType::block_device:
      case fs::FileType::fifo: {
        mode_t type = e.type == fs::FileType::fifo ? S_IFIFO : e.type == fs::FileType::char_device ? S_IFCHR : S_IFBLK;
        if (::mknodat(dir, n, type | 0600, static_cast<dev_t>(e.rdev)) != 0) return fail_errno("mknod \"/" + path + "\"", errno);
        ++m_stats.files;
        break;
      }
      default:
        return {};  // sockets cannot be copied; BuildKit skips them too
    }

    const Owner& o = e.owner;
    int rc = obj ? ::fchown(obj.get(), o.uid, o.gid) : ::fchownat(dir, n, o.uid, o.gid, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return fail_errno("chown \"/" + path + "\"", errno);
    if (obj && item.kind == ItemKind::tree && !m_parent_dirs) TRY(copy_xattrs(item, e, obj.get(), path));
    if (e.type != fs::FileType::symlink) {
      rc = obj ? ::fchmod(obj.get(), e.mode) : ::fchmodat(dir, n, e.mode, 0);
      if (rc != 0) return fail_errno("chmod \"/" + path + "\"", errno);
    }
    if (e.type != fs::FileType::directory) {
      timespec times[2] = {ts_of(e.atime_ns), ts_of(e.mtime_ns)};
      if (::utimensat(dir, n, times, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("set times of \"/" + path + "\"", errno);
    }
    return {};
  }

  Result<void> open_source(const CopyItem& item, const CopyEntry& e) {
    const SourceRoot& root = m_roots[item.root_index];
    std::string rel = join_rel(item.source_rel, e.rel);
    int fd = root.dir().open_raw(rel, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return fail_errno("open source \"/" + rel + "\"", -fd);
    m_src = util::Fd(fd);
    return {};
  }

  Result<void> copy_xattrs(const CopyItem& item, const CopyEntry& e, int dst_fd, const std::string& path) {
    const SourceRoot& root = m_roots[item.root_index];
    std::string rel = join_rel(item.source_rel, e.rel);
    int fd = root.dir().open_raw(rel, O_RDONLY | O_NOFOLLOW | (e.type == fs::FileType::directory ? O_DIRECTORY : 0));
    if (fd < 0) return {};  // a parent dir of --parents resolved elsewhere; nothing to carry
    util::Fd src(fd);
    char names[65536];
    ssize_t len = ::flistxattr(src.get(), names, sizeof names);
    if (len <= 0) return {};
    for (ssize_t off = 0; off < len;) {
      std::string_view key(names + off);
      off += static_cast<ssize_t>(key.size()) + 1;
      if (!wanted_xattr(key)) continue;
      std::string k(key);
      char value[65536];
      ssize_t vlen = ::fgetxattr(src.get(), k.c_str(), value, sizeof value);
      if (vlen < 0) continue;
      if (::fsetxattr(dst_fd, k.c_str(), value, static_cast<std::size_t>(vlen), 0) != 0) {
        int err = errno;
        if (err == ENOTSUP || err == EPERM) {
          log::warn("copy: cannot set xattr", {{"path", "/" + path}, {"xattr", k}, {"error", std::strerror(err)}});
          continue;
        }
        return fail_errno("set xattr " + k + " on \"/" + path + "\"", err);
      }
    }
    return {};
  }

  Result<int> parent_fd(const std::string& parent) {
    if (m_cached_valid && m_cached_parent == parent) return m_cached.get();
    m_cached = TRY(m_dst.open_dir(parent, archive::CreateParents::no));
    m_cached_parent = parent;
    m_cached_valid = true;
    return m_cached.get();
  }

  Result<void> apply_dir_times() {
    std::vector<std::pair<std::string, std::int64_t>> dirs(m_dir_times.begin(), m_dir_times.end());
    auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::stable_sort(dirs.begin(), dirs.end(), [&](const auto& a, const auto& b) { return depth(a.first) > depth(b.first); });
    m_cached_valid = false;
    for (const auto& [rel, ns] : dirs) {
      auto [parent, base] = archive::split_parent(rel);
      util::Fd dir = TRY(m_dst.open_dir(parent, archive::CreateParents::no));
      timespec times[2] = {ts_of(ns), ts_of(ns)};
      if (::utimensat(dir.get(), std::string(base).c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("set times of \"/" + rel + "\"", errno);
    }
    return {};
  }

 public:
  std::string m_root_real;

 private:
  const CopyPlan& m_plan;
  const archive::RootDir& m_dst;
  const std::vector<SourceRoot>& m_roots;
  CopyStats m_stats;
  std::map<std::string, std::int64_t> m_dir_times;
  util::Fd m_src;
  util::Fd m_cached;
  std::string m_cached_parent;
  bool m_cached_valid = false;
  bool m_parent_dirs = false;
};

}  // namespace

Result<CopyStats> execute_copy(const CopyPlan& plan, const std::string& build_root) {
  SourceRoot dst = TRY(SourceRoot::open_tree(build_root));
  static const std::vector<SourceRoot> k_none;
  Writer writer(plan, dst.dir(), plan.m_roots ? plan.m_roots->roots : k_none);
  writer.m_root_real = dst.real_path();
  return writer.run();
}

}  // namespace strata::build
