// tar://PATH and tar://stdin. A local file is extracted in place (it is already
// on disk); stdin is first copied into the work dir, because the archive is
// read twice (checked, then extracted) and a pipe can be read only once.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive/stream.hpp"
#include "context/fetch.hpp"
#include "context/safe_extract.hpp"
#include "util/fd.hpp"
#include "util/progress.hpp"

namespace strata::context {

Result<void> fetch_tar_file(const FetchEnv &env, const ContextSpec &spec,
                            const std::string &dest) {
  struct stat st {};
  if (::stat(spec.location.c_str(), &st) != 0)
    return fail_errno(env.what, errno);
  if (!S_ISREG(st.st_mode))
    return fail(ErrorKind::invalid_argument, env.what + ": not a regular file");
  TRY(extract_context_archive(spec.location, dest, env.what));
  return {};
}

Result<void> fetch_tar_stdin(const FetchEnv &env, const std::string &dest) {
  std::string path = env.work_dir + "/stdin.tar";
  int raw =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (raw < 0)
    return fail_errno(env.what + ": create " + path, errno);
  util::Fd out(raw);
  archive::FdSink sink(out.get(), path);
  util::Progress progress("reading " + env.what, 0);
  char buf[128 * 1024];
  for (;;) {
    ssize_t n = ::read(env.stdin_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail_errno(env.what + ": read standard input", errno);
    }
    if (n == 0)
      break;
    TRY_CTX(sink.write(buf, static_cast<std::size_t>(n)), env.what);
    progress.add(static_cast<std::uint64_t>(n));
  }
  progress.finish();
  out.reset();
  auto extracted = extract_context_archive(path, dest, env.what);
  ::unlink(path.c_str());
  TRY(extracted);
  return {};
}

} // namespace strata::context
