#include "run/root_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "util/strings.hpp"

namespace strata::run {
namespace {

constexpr int k_max_links = 40;

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
  auto parts = util::path_components(path);
  if (front) {
    out.insert(out.begin(), parts.begin(), parts.end());
  } else {
    out.insert(out.end(), parts.begin(), parts.end());
  }
}

}  // namespace

std::string join_root(const std::string& root, std::string_view rel) {
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (rel.empty()) return base;
  if (base == "/") return "/" + std::string(rel);
  return base + "/" + std::string(rel);
}

Result<RootPath> resolve_in_root(const std::string& root, std::string_view path) {
  if (path.find('\0') != std::string_view::npos) {
    return fail(ErrorKind::invalid_argument, "path contains a NUL byte");
  }
  std::deque<std::string> todo;
  split_into(path, todo, false);
  std::vector<std::string> done;
  int links = 0;
  // Index in `done` of the first component that does not exist; '..' back above it makes the
  // walk real again.
  constexpr std::size_t k_none = static_cast<std::size_t>(-1);
  std::size_t missing_at = k_none;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      if (missing_at != k_none && done.size() <= missing_at) missing_at = k_none;
      continue;
    }
    done.push_back(part);
    if (missing_at != k_none) continue;
    std::string host = join_root(root, util::join_components(done));
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT) {
        missing_at = done.size() - 1;
        continue;
      }
      if (err == ENOTDIR) {
        return fail(ErrorKind::conflict, "'" + std::string(path) + "' in " + root +
                                             ": a component is not a directory");
      }
      return fail_errno("lstat " + host, err);
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > k_max_links) {
      return fail_errno("resolve '" + std::string(path) + "' in " + root, ELOOP);
    }
    std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
    ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    if (n < 0) return fail_errno("readlink " + host, errno);
    target.resize(static_cast<std::size_t>(n));
    done.pop_back();
    if (!target.empty() && target[0] == '/') done.clear();
    split_into(target, todo, true);
  }
  RootPath out;
  out.rel = util::join_components(done);
  out.host = join_root(root, out.rel);
  out.exists = missing_at == k_none;
  return out;
}

Result<RootPath> Placeholders::make_dirs(const std::string& root, std::string_view path,
                                        std::optional<std::pair<uid_t, gid_t>> owner) {
  // Created one component at a time, re-resolving, so that a symlink met half-way is followed
  // inside the root rather than by mkdir.
  RootPath resolved = TRY(resolve_in_root(root, path));
  while (!resolved.exists) {
    std::string_view rel = resolved.rel;
    std::string prefix;
    RootPath step;
    std::size_t pos = 0;
    do {
      std::size_t slash = rel.find('/', pos);
      if (slash == std::string_view::npos) slash = rel.size();
      prefix = std::string(rel.substr(0, slash));
      pos = slash + 1;
      step = TRY(resolve_in_root(root, prefix));
    } while (step.exists && pos <= rel.size());
    if (::mkdir(step.host.c_str(), 0755) != 0) {
      if (errno != EEXIST) return fail_errno("mkdir " + step.host, errno);
    } else if (owner && ::lchown(step.host.c_str(), owner->first, owner->second) != 0) {
      return fail_errno("chown " + step.host, errno);
    }
    resolved = TRY(resolve_in_root(root, path));
  }
  struct stat st;
  if (::stat(resolved.host.c_str(), &st) != 0) return fail_errno("stat " + resolved.host, errno);
  if (!S_ISDIR(st.st_mode)) {
    return fail(ErrorKind::conflict, "'" + std::string(path) + "' exists and is not a directory");
  }
  return resolved;
}

Result<RootPath> Placeholders::ensure(std::string_view path, NodeKind kind) {
  RootPath resolved = TRY(resolve_in_root(m_root, path));
  if (resolved.exists) {
    struct stat st;
    if (::stat(resolved.host.c_str(), &st) != 0) return fail_errno("stat " + resolved.host, errno);
    bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir != (kind == NodeKind::directory)) {
      return fail(ErrorKind::conflict,
                  "mount point '" + std::string(path) + "' exists as a " + (is_dir ? "directory" : "file") +
                      " but a " + (kind == NodeKind::directory ? "directory" : "file") + " is mounted on it");
    }
    return resolved;
  }
  // Walk the normalized relative path; everything past the first missing component is created.
  std::string_view rel = resolved.rel;
  std::size_t pos = 0;
  bool first_created = true;
  while (pos <= rel.size()) {
    std::size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string prefix(rel.substr(0, slash));
    bool last = slash == rel.size();
    pos = slash + 1;
    std::string host = join_root(m_root, prefix);
    struct stat st;
    if (::lstat(host.c_str(), &st) == 0) continue;
    if (first_created) {
      std::string parent_rel = prefix.rfind('/') == std::string::npos ? "" : prefix.substr(0, prefix.rfind('/'));
      struct stat pst;
      if (::stat(join_root(m_root, parent_rel).c_str(), &pst) == 0) {
        m_touched.push_back({parent_rel, pst.st_atim, pst.st_mtim});
      }
      first_created = false;
    }
    if (!last || kind == NodeKind::directory) {
      if (::mkdir(host.c_str(), 0755) != 0) return fail_errno("mkdir " + host, errno);
      // mkdir honours the umask; mount points must be traversable by any step user.
      ::chmod(host.c_str(), 0755);
      m_kinds.push_back(NodeKind::directory);
    } else {
      int fd = ::open(host.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return fail_errno("create " + host, errno);
      ::close(fd);
      m_kinds.push_back(NodeKind::file);
    }
    m_created.push_back(prefix);
  }
  resolved.exists = true;
  return resolved;
}

void Placeholders::cleanup() {
  bool all_removed = true;
  for (std::size_t i = m_created.size(); i-- > 0;) {
    std::string host = join_root(m_root, m_created[i]);
    int rc = m_kinds[i] == NodeKind::directory ? ::rmdir(host.c_str()) : ::unlink(host.c_str());
    if (rc != 0 && errno != ENOENT) all_removed = false;
  }
  if (all_removed) {
    for (auto it = m_touched.rbegin(); it != m_touched.rend(); ++it) {
      timespec times[2] = {it->atime, it->mtime};
      ::utimensat(AT_FDCWD, join_root(m_root, it->rel).c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }
  m_created.clear();
  m_kinds.clear();
  m_touched.clear();
}

}  // namespace strata::run
