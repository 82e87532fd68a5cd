#include "integration/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "util/fd.hpp"

extern char** environ;

namespace strata::itest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

std::string read_or_empty(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : std::string();
}

std::string tail(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string find_binary(const std::string& name) {
  if (name.find('/') != std::string::npos) return is_executable(name) ? name : std::string();
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  path += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (is_executable(candidate)) return candidate;
  }
  return {};
}

std::vector<std::string> missing_binaries(const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const auto& n : names)
    if (find_binary(n).empty()) missing.push_back(n);
  return missing;
}

std::string source_dir() { return STRATA_SOURCE_DIR; }
std::string shared_dir() { return STRATA_SHARED_DIR; }

std::string tool_path(const std::string& name) {
  const char* dir = std::getenv("STRATA_TOOL_DIR");
  return std::string(dir && *dir ? dir : STRATA_BINARY_DIR) + "/" + name;
}

bool tool_exists(const std::string& name) { return is_executable(tool_path(name)); }

Result<Process> Process::start(ProcessOptions options) {
  if (options.argv.empty()) return fail(ErrorKind::invalid_argument, "Process::start: empty argv");
  std::string exe = find_binary(options.argv[0]);
  if (exe.empty()) return fail(ErrorKind::not_found, options.argv[0] + ": not installed (not in PATH)");

  Process p;
  p.m_command_line = join(options.argv);
  if (options.stdout_path.empty() || options.stderr_path.empty()) {
    p.m_output_dir = TRY(TempDir::create("proc"));
    if (options.stdout_path.empty()) options.stdout_path = p.m_output_dir.file("stdout");
    if (options.stderr_path.empty()) options.stderr_path = p.m_output_dir.file("stderr");
  }
  p.m_stdout_path = options.stdout_path;
  p.m_stderr_path = options.stderr_path;

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env_map[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env_map[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_map) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : options.argv) argv.push_back(s.data());
  argv.push_back(nullptr);

  util::Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  util::Fd out(::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!out) return fail_errno("open " + options.stdout_path, errno);
  util::Fd err(::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!err) return fail_errno("open " + options.stderr_path, errno);
  if (!null_in) return fail_errno("open /dev/null", errno);
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) return fail_errno("pipe2", errno);
  util::Fd status_read(status_pipe[0]), status_write(status_pipe[1]);
  const pid_t parent = ::getpid();
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();

  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", errno);
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_in.get(), 0);
    ::dup2(out.get(), 1);
    ::dup2(err.get(), 2);
    int e = 0;
    if (cwd && ::chdir(cwd) != 0) e = errno;
    if (e == 0) {
      ::execve(exe.c_str(), argv.data(), envp.data());
      e = errno;
    }
    ssize_t ignored = ::write(status_write.get(), &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so kill(-pid) works at once
  p.m_pid = pid;
  status_write.reset();
  int child_errno = 0;
  ssize_t n;
  do n = ::read(status_read.get(), &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    p.reap(0);
    p.m_pid = -1;
    return fail(errno_error("exec " + p.m_command_line, child_errno));
  }
  return p;
}

Process::Process(Process&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_exit_code(other.m_exit_code),
      m_stdout_path(std::move(other.m_stdout_path)),
      m_stderr_path(std::move(other.m_stderr_path)),
      m_command_line(std::move(other.m_command_line)),
      m_output_dir(std::move(other.m_output_dir)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (m_pid > 0 && !m_exit_code) kill();
    m_pid = std::exchange(other.m_pid, -1);
    m_exit_code = other.m_exit_code;
    m_stdout_path = std::move(other.m_stdout_path);
    m_stderr_path = std::move(other.m_stderr_path);
    m_command_line = std::move(other.m_command_line);
    m_output_dir = std::move(other.m_output_dir);
  }
  return *this;
}

Process::~Process() {
  if (m_pid > 0 && !m_exit_code) kill();
}

bool Process::reap(int options) {
  if (m_exit_code) return true;
  if (m_pid <= 0) return false;
  int status = 0;
  pid_t r;
  do r = ::waitpid(m_pid, &status, options);
  while (r < 0 && errno == EINTR);
  if (r == m_pid) {
    m_exit_code = decode_status(status);
    return true;
  }
  return false;
}

bool Process::running() { return m_pid > 0 && !reap(WNOHANG); }

Result<int> Process::wait(std::chrono::milliseconds timeout) {
  if (m_pid <= 0 && !m_exit_code) return fail(ErrorKind::invalid_argument, "wait: no process");
  // A pidfd becomes readable when the child exits: no polling loop, no SIGCHLD handler.
  util::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, m_pid, 0)));
  const auto deadline = Clock::now() + timeout;
  while (!reap(WNOHANG)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms)
      return fail(ErrorKind::timeout, m_command_line + ": still running after " +
                                          std::to_string(timeout.count()) + " ms");
    if (pidfd) {
      pollfd pfd{pidfd.get(), POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    } else {
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, 10ms));
    }
  }
  return *m_exit_code;
}

int Process::kill(std::chrono::milliseconds grace) {
  if (m_exit_code) return *m_exit_code;
  if (m_pid <= 0) return -1;
  ::kill(-m_pid, SIGTERM);
  if (!wait(grace)) {
    ::kill(-m_pid, SIGKILL);
    reap(0);
  }
  // Whatever the group leader's children still do dies with the group.
  ::kill(-m_pid, SIGKILL);
  return m_exit_code.value_or(-1);
}

std::string Process::out() const { return read_or_empty(m_stdout_path); }
std::string Process::err() const { return read_or_empty(m_stderr_path); }

std::string RunResult::describe() const {
  std::string s = command_line + ": exit " + std::to_string(exit_code);
  if (!out.empty()) s += "\n--- stdout ---\n" + tail(out, 4000);
  if (!err.empty()) s += "\n--- stderr ---\n" + tail(err, 4000);
  return s;
}

Result<RunResult> run(const std::vector<std::string>& argv, const Env& env,
                      std::chrono::milliseconds timeout) {
  ProcessOptions options;
  options.argv = argv;
  options.env = env;
  Process p = TRY(Process::start(std::move(options)));
  auto code = p.wait(timeout);
  if (!code) {
    p.kill();
    return fail(ErrorKind::timeout, code.error().message() + " (killed)\n--- stderr ---\n" +
                                        tail(p.err(), 4000));
  }
  RunResult result;
  result.exit_code = *code;
  result.out = p.out();
  result.err = p.err();
  result.command_line = p.command_line();
  return result;
}

Result<RunResult> run_checked(const std::vector<std::string>& argv, const Env& env,
                              std::chrono::milliseconds timeout) {
  RunResult r = TRY(run(argv, env, timeout));
  if (r.exit_code != 0) return fail(ErrorKind::internal, r.describe());
  return r;
}

Result<int> free_port() {
  util::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail_errno("bind 127.0.0.1:0", errno);
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return fail_errno("getsockname", errno);
  return static_cast<int>(ntohs(addr.sin_port));
}

static bool can_connect(int port) {
  util::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

Result<void> wait_for_port(int port, std::chrono::milliseconds timeout, Process* process) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (process && !process->running())
      return fail(ErrorKind::network, process->command_line() + " exited with " +
                                          std::to_string(process->exit_code().value_or(-1)) +
                                          " before listening on 127.0.0.1:" + std::to_string(port) +
                                          "\n" + tail(process->err(), 4000));
    if (can_connect(port)) return {};
    if (Clock::now() >= deadline)
      return fail(ErrorKind::timeout, "nothing listens on 127.0.0.1:" + std::to_string(port) +
                                          " after " + std::to_string(timeout.count()) + " ms");
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace strata::itest
