#include "build/context.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace strata::build {

Result<std::string> read_small_file(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (64u << 20)) return fail(ErrorKind::invalid_argument, what + ": larger than 64 MiB");
  }
  return out;
}

Result<SourceRoot> SourceRoot::open_impl(const std::string& dir, dockerfile::DockerIgnore ignore) {
  SourceRoot root;
  root.m_path = dir;
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) return fail_errno("open source root " + dir, errno);
  root.m_real = real;
  root.m_root = std::make_shared<archive::RootDir>(TRY(archive::RootDir::open(root.m_real)));
  root.m_ignore = std::move(ignore);
  return root;
}

Result<SourceRoot> SourceRoot::open_context(const std::string& dir, const std::string& dockerfile_path) {
  auto exists = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  };
  dockerfile::DockerIgnore ignore;
  if (auto file = dockerfile::pick_ignore_file(dockerfile_path, dir, exists)) {
    int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno("open " + *file, errno);
    util::Fd guard(fd);
    std::string content = TRY(read_small_file(fd, *file));
    ignore = TRY_CTX(dockerfile::DockerIgnore::parse(content), *file);
  }
  return open_impl(dir, std::move(ignore));
}

Result<SourceRoot> SourceRoot::open_with_ignore(const std::string& dir, dockerfile::DockerIgnore ignore) {
  return open_impl(dir, std::move(ignore));
}

Result<SourceRoot> SourceRoot::open_tree(const std::string& dir) { return open_impl(dir, {}); }

bool SourceRoot::visible(std::string_view rel, bool is_dir) const {
  if (rel.empty() || m_ignore.empty()) return true;
  if (!m_ignore.excluded(rel)) return true;
  return is_dir && !m_ignore.can_skip_dir(rel);
}

Result<std::string> SourceRoot::resolve(std::string_view rel) const {
  // The lexical path must be visible too: an excluded symlink is absent from the context even
  // when its target is not.
  int fd = m_root->open_raw(rel, O_PATH);
  if (fd < 0) return fail_errno("\"/" + std::string(rel) + "\"", -fd);
  util::Fd guard(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail_errno("stat \"/" + std::string(rel) + "\"", errno);
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
  if (n < 0) return fail_errno("readlink " + link, errno);
  std::string_view abs(buf, static_cast<std::size_t>(n));
  std::string resolved;
  if (abs == m_real) {
    resolved = "";
  } else if (m_real == "/" && abs.size() > 1) {
    resolved = std::string(abs.substr(1));
  } else if (abs.size() > m_real.size() && abs.starts_with(m_real) && abs[m_real.size()] == '/') {
    resolved = std::string(abs.substr(m_real.size() + 1));
  } else {
    return fail(ErrorKind::internal, "\"/" + std::string(rel) + "\" resolved outside the source root: " +
                                         std::string(abs));
  }
  bool dir = S_ISDIR(st.st_mode);
  if (!visible(resolved, dir) || !visible(rel, dir))
    return fail(ErrorKind::not_found, "\"/" + std::string(rel) + "\": not found (excluded by .dockerignore)");
  return resolved;
}

}  // namespace strata::build
