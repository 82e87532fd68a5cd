#include "context/resolver.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "archive/root_dir.hpp"
#include "context/fetch.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

namespace strata::context {
namespace {

namespace stdfs = std::filesystem;

std::string shown_context(const ContextSpec &spec) {
  std::string s = spec.original;
  // A SAS token or user:password@ must not be repeated in messages.
  if (auto q = s.find('?'); q != std::string::npos)
    s.resize(q);
  if (auto scheme = s.find("://"); scheme != std::string::npos) {
    std::size_t end = s.find('/', scheme + 3);
    std::size_t at = s.rfind('@', end);
    if (at != std::string::npos && at > scheme)
      s.erase(scheme + 3, at - scheme - 2);
  }
  return "context " + s;
}

Result<std::string> real_path(const std::string &path,
                              const std::string &what) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr)
    return fail_errno(what + ": " + path, errno);
  return std::string(buf);
}

// The sub path, resolved inside `root` as if chroot()ed into it.
Result<std::string> resolve_sub_path(const std::string &root,
                                     const std::string &sub,
                                     const std::string &what) {
  std::string clean =
      TRY_CTX(archive::clean_entry_path(sub), what + ": --context-sub-path");
  if (clean.empty())
    return root;
  auto dir = TRY(archive::RootDir::open(root));
  int fd = dir.open_raw(clean, O_PATH | O_DIRECTORY);
  if (fd < 0)
    return fail(errno_error(what + ": --context-sub-path " + sub +
                                " is not a directory in the context",
                            -fd));
  util::Fd guard(fd);
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
  if (n < 0)
    return fail_errno("readlink " + link, errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<void> fetch(const ResolveOptions &o, const ContextSpec &spec,
                   const FetchEnv &env, const std::string &dest) {
  switch (spec.kind) {
  case Kind::dir:
    return {};
  case Kind::tar_file:
    return fetch_tar_file(env, spec, dest);
  case Kind::tar_stdin:
    return fetch_tar_stdin(env, dest);
  case Kind::git:
    return fetch_git(env, spec, o.git, dest);
  case Kind::s3:
    return fetch_s3(env, spec, dest);
  case Kind::gcs:
    return fetch_gcs(env, spec, dest);
  case Kind::azure_blob:
    return fetch_azure_blob(env, spec, dest);
  case Kind::https_tar:
    return fetch_https_tar(env, spec, dest);
  }
  return fail(ErrorKind::internal, "unknown context kind");
}

} // namespace

ResolvedContext::ResolvedContext(ResolvedContext &&other) noexcept
    : m_dir(std::move(other.m_dir)), m_owned(std::exchange(other.m_owned, {})),
      m_kind(other.m_kind) {}

ResolvedContext &ResolvedContext::operator=(ResolvedContext &&other) noexcept {
  if (this != &other) {
    (void)remove();
    m_dir = std::move(other.m_dir);
    m_owned = std::exchange(other.m_owned, {});
    m_kind = other.m_kind;
  }
  return *this;
}

ResolvedContext::~ResolvedContext() { (void)remove(); }

Result<void> ResolvedContext::remove() {
  if (m_owned.empty())
    return {};
  std::error_code ec;
  stdfs::remove_all(m_owned, ec);
  if (ec)
    return fail(ErrorKind::io, "remove " + m_owned + ": " + ec.message());
  m_owned.clear();
  return {};
}

Result<ResolvedContext> resolve_context(const ResolveOptions &o) {
  ContextSpec spec = TRY(parse_context(o.context));
  std::string what = shown_context(spec);
  ResolvedContext out;
  out.m_kind = spec.kind;
  std::string root;
  if (spec.kind == Kind::dir) {
    struct stat st {};
    if (::stat(spec.location.c_str(), &st) != 0)
      return fail_errno(what, errno);
    if (!S_ISDIR(st.st_mode))
      return fail(ErrorKind::invalid_argument, what + ": not a directory");
    root = TRY(real_path(spec.location, what));
  } else {
    if (o.work_dir.empty())
      return fail(ErrorKind::internal, "resolve_context: no work dir");
    std::error_code ec;
    stdfs::create_directories(o.work_dir, ec);
    if (ec)
      return fail(ErrorKind::io, "create " + o.work_dir + ": " + ec.message());
    ::chmod(o.work_dir.c_str(), 0700);
    out.m_owned = TRY(real_path(o.work_dir, what));
    root = out.m_owned + "/root";
    if (::mkdir(root.c_str(), 0755) != 0)
      return fail_errno("create " + root, errno);
    if (spec.kind != Kind::git && spec.kind != Kind::tar_file &&
        spec.kind != Kind::tar_stdin && !o.transport)
      return fail(ErrorKind::internal, "resolve_context: no transport");
    FetchEnv env{o.transport, o.env,        out.m_owned,
                 o.stdin_fd,  o.git_binary, what};
    log::info("fetching " + what + " (" + std::string(to_string(spec.kind)) +
              ")");
    TRY(fetch(o, spec, env, root));
  }
  out.m_dir = TRY(resolve_sub_path(root, o.sub_path, what));
  return out;
}

} // namespace strata::context
