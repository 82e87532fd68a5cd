// Running a credential helper: posix_spawnp with three pipes, the server URL written at once
// (it is far below PIPE_BUF, so the write cannot block), then stdout and stderr drained with
// poll() until both close or the deadline passes, when the helper is killed. SIGPIPE is blocked
// on this thread around the write: a helper that exits without reading stdin must not kill us.
#include "auth/credential_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "util/fd.hpp"
#include "util/log.hpp"

extern char** environ;

namespace strata::auth {
namespace {

constexpr std::size_t k_max_output = 1024 * 1024;
constexpr std::size_t k_max_server_url = 2048;
constexpr std::string_view k_not_found_message = "credentials not found in native keychain";

struct Pipe {
  util::Fd read;
  util::Fd write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
  return Pipe{util::Fd(fds[0]), util::Fd(fds[1])};
}

struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

// Writes without SIGPIPE: returns false on EPIPE (the helper closed its stdin early).
bool write_all_nosigpipe(int fd, std::string_view data) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  bool ok = true;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      if (errno == EPIPE && !was_pending) {
        struct timespec zero {};
        sigtimedwait(&block, nullptr, &zero);
      }
      break;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string first_line(std::string_view s) {
  std::string t = trim(s);
  auto nl = t.find('\n');
  if (nl != std::string::npos) t.resize(nl);
  if (t.size() > 200) t.resize(200);
  return log::redact(t);
}

struct Outcome {
  std::string out;
  std::string err;
  int status = 0;
  bool timed_out = false;
};

Result<Outcome> run(const std::string& program, std::string_view input, std::chrono::milliseconds timeout) {
  Pipe in = TRY(make_pipe());
  Pipe out = TRY(make_pipe());
  Pipe err = TRY(make_pipe());
  FileActions fa;
  posix_spawn_file_actions_adddup2(&fa.actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&fa.actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&fa.actions, err.write.get(), 2);

  std::string arg0 = program;
  std::string arg1 = "get";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &fa.actions, nullptr, argv, environ);
  if (rc == ENOENT) {
    return fail(ErrorKind::not_found, "credential helper " + program + " not found in PATH");
  }
  if (rc != 0) return fail(errno_error("starting credential helper " + program, rc));
  in.read.reset();
  out.write.reset();
  err.write.reset();

  write_all_nosigpipe(in.write.get(), input);
  in.write.reset();

  Outcome outcome;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&outcome.out, &outcome.err};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      outcome.timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        if (sinks[i]->size() < k_max_output) sinks[i]->append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (outcome.timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  outcome.status = status;
  return outcome;
}

}  // namespace

Result<std::optional<Credentials>> run_credential_helper(std::string_view name, std::string_view server_url,
                                                         std::chrono::milliseconds timeout) {
  std::string program = "docker-credential-" + std::string(name);
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return fail(ErrorKind::invalid_argument, "invalid credential helper name '" + std::string(name) + "'");
  }
  if (server_url.size() > k_max_server_url) {
    return fail(ErrorKind::invalid_argument, "server URL too long for credential helper " + program);
  }
  Outcome o = TRY(run(program, server_url, timeout));
  if (o.timed_out) {
    return fail(ErrorKind::timeout, "credential helper " + program + " did not answer within " +
                                        std::to_string(timeout.count()) + " ms (killed)", true);
  }
  if (WIFSIGNALED(o.status)) {
    return fail(ErrorKind::unauthorized,
                "credential helper " + program + " was killed by signal " + std::to_string(WTERMSIG(o.status)));
  }
  int code = WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1;
  if (code != 0) {
    if (trim(o.out) == k_not_found_message || trim(o.err) == k_not_found_message) return std::nullopt;
    std::string why = first_line(o.err);
    return fail(ErrorKind::unauthorized, "credential helper " + program + " failed for " + std::string(server_url) +
                                             " (exit status " + std::to_string(code) + ")" +
                                             (why.empty() ? std::string() : ": " + why));
  }

  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(o.out);
  } catch (const nlohmann::json::exception&) {
    // The text may hold a secret: say only what is wrong.
    return fail(ErrorKind::corrupt, "credential helper " + program + " printed invalid JSON");
  }
  if (!doc.is_object()) return fail(ErrorKind::corrupt, "credential helper " + program + " printed no JSON object");
  auto text = [&](const char* key) -> std::string {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string username = text("Username");
  std::string secret = text("Secret");
  log::add_secret(secret);
  if (username.empty() && secret.empty()) return std::nullopt;
  Credentials creds;
  if (username == "<token>") {
    creds.identity_token = std::move(secret);
  } else {
    creds.username = std::move(username);
    creds.password = std::move(secret);
  }
  return creds;
}

}  // namespace strata::auth
