#include "store/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

namespace strata::store {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("writing " + what, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<void> make_dirs(const std::string& path) {
  if (path.empty()) return {};
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      return fail_errno("creating directory " + partial, errno);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail_errno("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return fail(ErrorKind::io, path + " exists and is not a directory");
  return {};
}

Result<void> fsync_dir(const std::string& dir) {
  util::Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("opening directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return fail_errno("fsync of directory " + dir, errno);
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data) {
  const std::string dir = parent_of(path);
  const std::string tmp = path + ".tmp-" + unique_name();
  util::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("creating " + tmp, errno);
  auto cleanup_and_fail = [&](Error e) -> Result<void> {
    ::unlink(tmp.c_str());
    return fail(std::move(e));
  };
  if (auto r = write_all(fd.get(), data, tmp); !r) return cleanup_and_fail(r.error());
  if (::fsync(fd.get()) != 0) return cleanup_and_fail(errno_error("fsync of " + tmp, errno));
  if (::close(fd.release()) != 0) return cleanup_and_fail(errno_error("closing " + tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return cleanup_and_fail(errno_error("renaming " + tmp + " to " + path, errno));
  return fsync_dir(dir);
}

Result<std::string> read_file(const std::string& path, std::size_t max_size) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("opening " + path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("reading " + path, errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size)
      return fail(ErrorKind::corrupt, path + " is larger than " + std::to_string(max_size) + " bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string unique_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "unknown");
  for (char* p = host; *p; ++p)
    if (*p == '/' || *p == '-') *p = '_';  // keep "-" as our field separator
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char rnd[17];
  std::snprintf(rnd, sizeof rnd, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + rnd;
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  if (!d) return fail_errno("listing " + dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  if (errno != 0) return fail_errno("listing " + dir, errno);
  return names;
}

Result<bool> try_lock(int fd, LockMode mode) {
  for (;;) {
    if (::flock(fd, (mode == LockMode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return false;
    return fail_errno("flock", errno);
  }
}

Result<util::Fd> lock_path(const std::string& path, LockMode mode, std::chrono::milliseconds timeout) {
  util::Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("opening lock file " + path, errno);
  // Polling instead of a blocking flock bounded by a signal: no signal handlers in a library, and
  // the backoff keeps the cost of a contended lock at a few wake-ups per second.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    bool taken = TRY_CTX(try_lock(fd.get(), mode), "locking " + path);
    if (taken) return fd;
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorKind::conflict,
                  "cache dir is busy: " + path + " is locked by another process (waited " +
                      std::to_string(timeout.count()) + " ms)",
                  true);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace strata::store
