// Layer application. Order of operations per entry, and why:
//   1. The name is cleaned (leading "/" stripped, ".." resolved lexically; climbing out is an
//      error) and checked against the ignore list.
//   2. Whiteouts: ".wh..wh..opq" empties its directory of everything this layer did not create
//      (recursively: a directory of this layer merged over a lower one loses the lower children);
//      ".wh.NAME" removes NAME unless this layer created it.
//   3. The parent directory is opened inside the root (missing parents created 0755), and what
//      exists at the name is removed unless both are directories (a directory over a directory
//      merges, taking the new metadata).
//   4. The object is created relative to the parent fd (O_EXCL|O_NOFOLLOW, mknodat, symlinkat,
//      linkat with a target resolved inside the root), then: content, lchown, xattrs, chmod,
//      times. chown clears setuid/setgid and security.capability, and writing clears
//      capabilities, hence that order. Directory times are applied at the end, deepest first,
//      since creating children changes them.
#include "archive/extractor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <unordered_set>

#include "util/log.hpp"

namespace strata::archive {
namespace {

std::string join(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string out(parent);
  out += '/';
  out += name;
  return out;
}

class Applier {
 public:
  Applier(const RootDir& root, const ExtractOptions& options) : m_root(root), m_options(options) {}

  Result<void> init() {
    for (const auto& p : m_options.ignore_paths) {
      std::string clean = TRY_CTX(clean_entry_path(p), "ignore path");
      if (!clean.empty()) m_ignored.push_back(std::move(clean));
    }
    return {};
  }

  Result<void> apply(TarReader& reader, const TarEntry& e, ExtractStats& stats) {
    std::string rel = TRY(clean_entry_path(e.path));
    if (rel.empty() || ignored(rel) || e.type == EntryType::socket) {
      ++stats.skipped;
      return {};
    }
    auto [parent, base] = split_parent(rel);
    if (base.starts_with(k_whiteout_prefix)) {
      ++stats.whiteouts;
      if (base == k_opaque_whiteout) return make_opaque(std::string(parent));
      std::string_view name = base.substr(k_whiteout_prefix.size());
      if (name.empty() || name == "." || name == "..")
        return fail(ErrorKind::corrupt, "invalid whiteout name");
      return whiteout(std::string(parent), std::string(name));
    }
    int dir = TRY(parent_fd(std::string(parent)));
    std::string name(base);
    TRY(clear_existing(dir, name, e, rel));
    TRY(create(reader, dir, name, e, rel));
    m_added.insert(rel);
    return {};
  }

  Result<void> apply_dir_times() {
    std::vector<std::pair<std::string, timespec>> dirs(m_dir_times.begin(), m_dir_times.end());
    auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::stable_sort(dirs.begin(), dirs.end(), [&](const auto& a, const auto& b) { return depth(a.first) > depth(b.first); });
    m_cache_valid = false;
    for (const auto& [rel, ts] : dirs) {
      auto [parent, base] = split_parent(rel);
      int fd = m_root.open_raw(parent, O_PATH | O_DIRECTORY);
      if (fd < 0) continue;  // removed later in the layer
      util::Fd dir(fd);
      struct stat st;
      std::string name(base);
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
      timespec times[2] = {ts, ts};
      if (::utimensat(dir.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("set times of \"" + rel + "\"", errno);
    }
    return {};
  }

 private:
  bool ignored(std::string_view rel) const {
    for (const auto& p : m_ignored) {
      if (rel == p || (rel.size() > p.size() && rel.starts_with(p) && rel[p.size()] == '/')) return true;
    }
    return false;
  }

  // The last parent stays open: layers list a directory's files together. Anything removed may
  // have been on the cached route, so removals drop the cache.
  Result<int> parent_fd(const std::string& parent) {
    if (m_cache_valid && m_cached_parent == parent) return m_cached_fd.get();
    m_cache_valid = false;
    m_cached_fd = TRY(m_root.open_dir(parent, CreateParents::yes));
    m_cached_parent = parent;
    m_cache_valid = true;
    return m_cached_fd.get();
  }

  Result<void> make_opaque(const std::string& dir_rel) {
    m_cache_valid = false;
    int fd = m_root.open_raw(dir_rel, O_PATH | O_DIRECTORY);
    if (fd == -ENOENT || fd == -ENOTDIR) return {};
    if (fd < 0) return fail_errno("open opaque directory \"" + dir_rel + "\"", -fd);
    util::Fd dir(fd);
    return remove_lower(dir.get(), dir_rel);
  }

  Result<void> remove_lower(int dirfd, const std::string& dir_rel) {
    for (const auto& child : TRY(list_dir_at(dirfd))) {
      std::string child_rel = join(dir_rel, child);
      if (ignored(child_rel)) continue;
      if (!m_added.contains(child_rel)) {
        TRY(remove_all_at(dirfd, child));
        continue;
      }
      int sub = ::openat(dirfd, child.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;  // a non-directory of this layer
      util::Fd subdir(sub);
      TRY(remove_lower(subdir.get(), child_rel));
    }
    return {};
  }

  Result<void> whiteout(const std::string& parent, const std::string& name) {
    std::string target = join(parent, name);
    if (ignored(target) || m_added.contains(target)) return {};
    m_cache_valid = false;
    int fd = m_root.open_raw(parent, O_PATH | O_DIRECTORY);
    if (fd == -ENOENT || fd == -ENOTDIR) return {};
    if (fd < 0) return fail_errno("open \"" + parent + "\" for whiteout", -fd);
    util::Fd dir(fd);
    return remove_all_at(dir.get(), name);
  }

  Result<void> clear_existing(int dir, const std::string& name, const TarEntry& e, const std::string& rel) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return {};
      return fail_errno("stat \"" + rel + "\"", errno);
    }
    if (e.type == EntryType::directory && S_ISDIR(st.st_mode)) return {};
    if (S_ISDIR(st.st_mode)) m_cache_valid = false;
    return remove_all_at(dir, name);
  }

  Result<void> create(TarReader& reader, int dir, const std::string& name, const TarEntry& e, const std::string& rel) {
    const char* n = name.c_str();
    switch (e.type) {
      case EntryType::regular: return create_file(reader, dir, name, e);
      case EntryType::directory: {
        if (::mkdirat(dir, n, 0700) != 0 && errno != EEXIST) return fail_errno("mkdir", errno);
        int fd = ::openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return fail_errno("open directory", errno);
        util::Fd d(fd);
        TRY(set_owner_xattrs_mode(d.get(), dir, name, e));
        m_dir_times[rel] = timespec{e.mtime, static_cast<long>(e.mtime_nsec)};
        return {};
      }
      case EntryType::symlink:
        if (::symlinkat(e.link_target.c_str(), dir, n) != 0) return fail_errno("symlink", errno);
        TRY(set_owner_xattrs_mode(-1, dir, name, e));
        return set_times(dir, name, e);
      case EntryType::hardlink: return create_hardlink(dir, name, e, rel);
      case EntryType::char_device:
      case EntryType::block_device:
      case EntryType::fifo: {
        mode_t type = e.type == EntryType::fifo ? S_IFIFO : e.type == EntryType::char_device ? S_IFCHR : S_IFBLK;
        if (::mknodat(dir, n, type | 0600, makedev(e.dev_major, e.dev_minor)) != 0) return fail_errno("mknod", errno);
        TRY(set_owner_xattrs_mode(-1, dir, name, e));
        return set_times(dir, name, e);
      }
      case EntryType::socket: return {};
    }
    return {};
  }

  Result<void> create_file(TarReader& reader, int dir, const std::string& name, const TarEntry& e) {
    int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail_errno("create", errno);
    util::Fd file(fd);
    std::uint64_t end = 0;
    for (;;) {
      auto block = TRY(reader.read_block());
      if (block.size == 0 && block.data == nullptr) break;
      const char* p = static_cast<const char*>(block.data);
      std::size_t left = block.size;
      auto offset = static_cast<off_t>(block.offset);
      while (left > 0) {
        ssize_t put = ::pwrite(file.get(), p, left, offset);
        if (put < 0) {
          if (errno == EINTR) continue;
          return fail_errno("write", errno);
        }
        p += put;
        left -= static_cast<std::size_t>(put);
        offset += put;
      }
      end = std::max<std::uint64_t>(end, static_cast<std::uint64_t>(offset));
    }
    if (end < e.size && ::ftruncate(file.get(), static_cast<off_t>(e.size)) != 0) return fail_errno("truncate", errno);
    TRY(set_owner_xattrs_mode(file.get(), dir, name, e));
    timespec times[2] = {{e.mtime, static_cast<long>(e.mtime_nsec)}, {e.mtime, static_cast<long>(e.mtime_nsec)}};
    if (::futimens(file.get(), times) != 0) return fail_errno("set times", errno);
    if (::close(file.release()) != 0) return fail_errno("close", errno);
    return {};
  }

  Result<void> create_hardlink(int dir, const std::string& name, const TarEntry& e, const std::string& rel) {
    auto target = clean_entry_path(e.link_target);
    if (!target) return fail(ErrorKind::corrupt, "hardlink target \"" + e.link_target + "\" escapes the root");
    if (target->empty()) return fail(ErrorKind::corrupt, "hardlink to the root directory");
    if (*target == rel) return {};
    if (ignored(*target)) return fail(ErrorKind::corrupt, "hardlink target \"" + *target + "\" is in an ignored path");
    auto [tparent, tbase] = split_parent(*target);
    int fd = m_root.open_raw(tparent, O_PATH | O_DIRECTORY);
    if (fd < 0) return fail(ErrorKind::corrupt, "hardlink target \"" + *target + "\" not found");
    util::Fd tdir(fd);
    std::string tname(tbase);
    if (::linkat(tdir.get(), tname.c_str(), dir, name.c_str(), 0) != 0) {
      int err = errno;
      if (err == ENOENT) return fail(ErrorKind::corrupt, "hardlink target \"" + *target + "\" not found");
      return fail_errno("link to \"" + *target + "\"", err);
    }
    return {};
  }

  // `fd` is an open (not O_PATH) descriptor of the object, or -1 to go by (dir, name) without
  // following a final symlink.
  Result<void> set_owner_xattrs_mode(int fd, int dir, const std::string& name, const TarEntry& e) {
    if (m_options.ownership == Ownership::preserve) {
      int rc = fd >= 0 ? ::fchown(fd, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid))
                       : ::fchownat(dir, name.c_str(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW);
      if (rc != 0) return fail_errno("chown", errno);
    }
    for (const auto& [key, value] : e.xattrs) {
      int rc = 0;
      if (fd >= 0) {
        rc = ::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0);
      } else {
        // No fd for symlinks, devices and fifos: go through the parent's /proc/self/fd link, which
        // names the directory already resolved inside the root, and never follow `name` itself.
        std::string path = "/proc/self/fd/" + std::to_string(dir) + "/" + name;
        rc = ::lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0);
      }
      if (rc != 0) {
        int err = errno;
        if (err == ENOTSUP || err == EPERM) {
          log::warn("layer: cannot set xattr", {{"path", name}, {"xattr", key}, {"error", std::strerror(err)}});
          continue;
        }
        return fail_errno("set xattr " + key, err);
      }
    }
    if (e.type == EntryType::symlink) return {};
    int rc = fd >= 0 ? ::fchmod(fd, e.mode & 07777) : ::fchmodat(dir, name.c_str(), e.mode & 07777, 0);
    if (rc != 0) return fail_errno("chmod", errno);
    return {};
  }

  Result<void> set_times(int dir, const std::string& name, const TarEntry& e) {
    timespec times[2] = {{e.mtime, static_cast<long>(e.mtime_nsec)}, {e.mtime, static_cast<long>(e.mtime_nsec)}};
    if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("set times", errno);
    return {};
  }

  const RootDir& m_root;
  const ExtractOptions& m_options;
  std::vector<std::string> m_ignored;
  std::unordered_set<std::string> m_added;
  std::map<std::string, timespec> m_dir_times;
  std::string m_cached_parent;
  util::Fd m_cached_fd;
  bool m_cache_valid = false;
};

}  // namespace

Result<ExtractStats> apply_layer(Source& blob, const std::string& root_path, const ExtractOptions& options) {
  RootDir root = TRY(RootDir::open(root_path, options.resolve));
  Applier applier(root, options);
  TRY(applier.init());

  ExtractStats stats;
  HashingSource compressed(blob);
  auto plain = TRY(open_decompressed(compressed, options.decompress, &stats.compression));
  HashingSource tar(*plain);
  auto reader = TRY(TarReader::open(tar, options.limits));
  for (;;) {
    auto entry = TRY(reader->next());
    if (!entry) break;
    ++stats.entries;
    auto applied = applier.apply(*reader, *entry, stats);
    if (!applied) {
      Error err = applied.error();
      return fail(err.context("layer entry \"" + entry->path.substr(0, 256) + "\""));
    }
  }
  TRY(applier.apply_dir_times());
  // The digests cover the whole blob, including the tar's end padding libarchive does not read.
  NullSink drain;
  TRY(copy_stream(tar, drain));
  TRY(copy_stream(compressed, drain));
  stats.uncompressed_size = tar.bytes();
  stats.compressed_size = compressed.bytes();
  stats.diff_id = tar.digest();
  stats.digest = compressed.digest();
  return stats;
}

}  // namespace strata::archive
