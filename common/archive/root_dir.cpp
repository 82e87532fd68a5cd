#include "archive/root_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>
#include <memory>

#include "util/strings.hpp"

namespace strata::archive {
namespace {

constexpr int k_max_symlinks = 40;  // as the kernel's MAXSYMLINKS

long sys_openat2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = flags;
  how.resolve = resolve;
  return ::syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
  auto parts = util::path_components(path);
  if (front) out.insert(out.begin(), parts.begin(), parts.end());
  else out.insert(out.end(), parts.begin(), parts.end());
}

}  // namespace

Result<std::string> clean_entry_path(std::string_view name) {
  std::vector<std::string_view> parts;
  for (auto comp : util::path_components(name)) {
    if (comp != "..") {
      parts.push_back(comp);
      continue;
    }
    if (parts.empty()) return fail(ErrorKind::corrupt, "entry \"" + std::string(name) + "\": path escapes the root");
    parts.pop_back();
  }
  return util::join_components(parts);
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

bool RootDir::kernel_has_openat2() {
  static const bool has = [] {
    long fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
    if (fd < 0) return false;
    ::close(static_cast<int>(fd));
    return true;
  }();
  return has;
}

Result<RootDir> RootDir::open(const std::string& path, ResolveMode mode) {
  if (mode == ResolveMode::automatic) mode = kernel_has_openat2() ? ResolveMode::openat2 : ResolveMode::manual;
  if (mode == ResolveMode::openat2 && !kernel_has_openat2())
    return fail(ErrorKind::unsupported, "openat2(2) is not available on this kernel");
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno("open extraction root " + path, errno);
  return RootDir(util::Fd(fd), path, mode);
}

int RootDir::open_raw(std::string_view rel, int flags) const {
  if (m_mode == ResolveMode::manual) return resolve_manual(rel, flags);
  std::string p = rel.empty() ? std::string(".") : std::string(rel);
  for (int attempt = 0;; ++attempt) {
    long fd = sys_openat2(m_fd.get(), p.c_str(), static_cast<std::uint64_t>(flags | O_CLOEXEC),
                          RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the in-root walk; the kernel asks us to retry.
    if ((errno == EAGAIN || errno == EINTR) && attempt < 16) continue;
    return -errno;
  }
}

int RootDir::resolve_manual(std::string_view rel, int flags) const {
  std::vector<util::Fd> stack;
  int root = ::openat(m_fd.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -errno;
  stack.emplace_back(root);
  std::deque<std::string> todo;
  split_into(rel, todo, false);
  if (todo.empty()) {
    int fd = ::openat(m_fd.get(), ".", flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  }
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == "..") {
      if (stack.size() > 1) stack.pop_back();
      if (todo.empty()) {
        int fd = ::openat(stack.back().get(), ".", flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
      }
      continue;
    }
    bool last = todo.empty();
    int cur = stack.back().get();
    struct stat st;
    if (::fstatat(cur, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
    if (S_ISLNK(st.st_mode) && (!last || !(flags & O_NOFOLLOW))) {
      if (++links > k_max_symlinks) return -ELOOP;
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(cur, comp.c_str(), target.data(), target.size());
      if (n < 0) return -errno;
      target.resize(static_cast<std::size_t>(n));
      if (!target.empty() && target[0] == '/') stack.resize(1);
      split_into(target, todo, true);
      if (todo.empty()) {  // a link to "/" or "." as the last component
        int fd = ::openat(stack.back().get(), ".", flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
      }
      continue;
    }
    if (last) {
      int fd = ::openat(cur, comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
      return fd < 0 ? -errno : fd;
    }
    int fd = ::openat(cur, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    stack.emplace_back(fd);
  }
  return -ENOENT;
}

Result<util::Fd> RootDir::open(std::string_view rel, int flags) const {
  int fd = open_raw(rel, flags);
  if (fd < 0) return fail_errno("open \"" + std::string(rel) + "\" in " + m_path, -fd);
  return util::Fd(fd);
}

Result<util::Fd> RootDir::open_dir(std::string_view rel, CreateParents create) const {
  int fd = open_raw(rel, O_PATH | O_DIRECTORY);
  if (fd >= 0) return util::Fd(fd);
  if (fd != -ENOENT || create == CreateParents::no || rel.empty())
    return fail_errno("open directory \"" + std::string(rel) + "\" in " + m_path, -fd);
  auto [parent, base] = split_parent(rel);
  util::Fd parent_fd = TRY(open_dir(parent, create));
  if (::mkdirat(parent_fd.get(), std::string(base).c_str(), 0755) != 0 && errno != EEXIST)
    return fail_errno("create directory \"" + std::string(rel) + "\" in " + m_path, errno);
  return open(rel, O_PATH | O_DIRECTORY);
}

Result<std::vector<std::string>> list_dir_at(int dirfd) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno("open directory for listing", errno);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return fail_errno("fdopendir", err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(dir.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  if (errno != 0) return fail_errno("readdir", errno);
  return names;
}

Result<void> remove_all_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno("remove \"" + name + "\"", errno);
  int fd = ::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno("open \"" + name + "\" for removal", errno);
  util::Fd dir(fd);
  for (const auto& child : TRY(list_dir_at(dir.get()))) TRY_CTX(remove_all_at(dir.get(), child), name);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail_errno("remove directory \"" + name + "\"", errno);
  return {};
}

}  // namespace strata::archive
