// Child processes for integration tests: servers (docker-registry, the token server) that live as
// long as a test, and tools (skopeo, our own executor/warmer/cachectl) run to completion.
//
// Every child runs in its own process group with stdin from /dev/null, so kill() reaches its
// children too, and it gets SIGKILL if the test process dies (PR_SET_PDEATHSIG), so a crashed test
// does not leave registries listening. stdout and stderr go to files (given, or temporary files
// owned by the Process), never to pipes, so a chatty child can never block on a full pipe.
//
// Thread safety: a Process is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "integration/support/temp_dir.hpp"
#include "util/result.hpp"

namespace strata::itest {

using Env = std::vector<std::pair<std::string, std::string>>;

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH (plus /usr/sbin, /sbin)
  Env env;                        // added to (or overriding) this process's environment
  std::string stdout_path;        // empty: a temporary file, readable with Process::out()
  std::string stderr_path;        // empty: a temporary file, readable with Process::err()
  std::string cwd;                // empty: inherit
};

class Process {
 public:
  // Starts the child. Errors: not_found if argv[0] is not installed, io if fork/exec fails
  // (exec errors are reported here, not as exit code 127).
  static Result<Process> start(ProcessOptions options);

  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  // Kills the process group (SIGTERM, then SIGKILL after 2 s) if still running.
  ~Process();

  pid_t pid() const { return m_pid; }
  bool running();
  // Waits for exit; returns the exit code (128+signal if killed by a signal).
  // Errors: timeout (the child is left running), io.
  Result<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGTERM to the group, up to `grace` to exit, then SIGKILL. Returns the exit code.
  int kill(std::chrono::milliseconds grace = std::chrono::seconds(2));
  std::optional<int> exit_code() const { return m_exit_code; }

  const std::string& stdout_path() const { return m_stdout_path; }
  const std::string& stderr_path() const { return m_stderr_path; }
  std::string out() const;  // whole stdout so far ("" if unreadable)
  std::string err() const;  // whole stderr so far
  // argv joined with spaces, for messages.
  const std::string& command_line() const { return m_command_line; }

 private:
  bool reap(int options);

  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
  std::string m_stdout_path;
  std::string m_stderr_path;
  std::string m_command_line;
  TempDir m_output_dir;  // holds the temporary stdout/stderr files when none were given
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // "cmd: exit N\nstdout...\nstderr..." (truncated), for assertion messages.
  std::string describe() const;
  std::string command_line;
};

// Runs argv to completion with `env` added. Errors: not_found/io as Process::start; timeout after
// killing the child. A non-zero exit is NOT an error: check exit_code.
Result<RunResult> run(const std::vector<std::string>& argv, const Env& env = {},
                      std::chrono::milliseconds timeout = std::chrono::minutes(5));

// As run(), but a non-zero exit is an error (kind internal) whose message is describe().
Result<RunResult> run_checked(const std::vector<std::string>& argv, const Env& env = {},
                              std::chrono::milliseconds timeout = std::chrono::minutes(5));

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0). Another process may take
// it before the caller binds; servers started by this fixture retry on "address in use".
Result<int> free_port();

// Waits until something accepts TCP connections on 127.0.0.1:port, polling every 20 ms.
// If `process` is given and exits meanwhile, fails at once (kind network) with its stderr.
Result<void> wait_for_port(int port, std::chrono::milliseconds timeout, Process* process = nullptr);

// Absolute path of an installed program ("" if none), searching PATH, /usr/sbin and /sbin.
std::string find_binary(const std::string& name);
// Our own tools: STRATA_BINARY_DIR/<name> (overridable with $STRATA_TOOL_DIR). Does not check
// that it exists: use tool_exists() or SKIP_UNLESS_TOOL.
std::string tool_path(const std::string& name);
bool tool_exists(const std::string& name);
// Names from `names` that find_binary() cannot find.
std::vector<std::string> missing_binaries(const std::vector<std::string>& names);

std::string source_dir();  // STRATA_SOURCE_DIR
std::string shared_dir();  // STRATA_SHARED_DIR (../shared beside the checkout)

}  // namespace strata::itest

// SKIP_UNLESS("docker-registry", "skopeo"): skips the current test (GTEST_SKIP) with a message
// naming every missing binary and the script that installs them. Use in a TEST body or SetUp().
#define SKIP_UNLESS(...)                                                                   \
  do {                                                                                     \
    auto _strata_missing = ::strata::itest::missing_binaries({__VA_ARGS__});               \
    if (!_strata_missing.empty()) {                                                        \
      std::string _strata_list;                                                            \
      for (const auto& _strata_m : _strata_missing) _strata_list += " " + _strata_m;       \
      GTEST_SKIP() << "missing binaries:" << _strata_list                                  \
                   << " (install with scripts/install-deps.sh --tests)";                   \
    }                                                                                      \
  } while (0)

// SKIP_UNLESS_TOOL("warmer"): skips if our own tool has not been built in STRATA_BINARY_DIR.
#define SKIP_UNLESS_TOOL(name)                                                             \
  do {                                                                                     \
    if (!::strata::itest::tool_exists(name))                                               \
      GTEST_SKIP() << "tool not built: " << ::strata::itest::tool_path(name);              \
  } while (0)

// ASSERT_OK(expr): evaluates a Result; on error fails the test fatally (returns from the TEST body)
// with the error's kind and message, otherwise yields the contained value:
//   auto reg = ASSERT_OK(RegistryServer::start({}));
// Only in functions returning void (TEST bodies, SetUp), as ASSERT_*.
#define ASSERT_OK(expr)                                                                    \
  ({                                                                                       \
    auto _strata_ok_r = (expr);                                                            \
    if (!_strata_ok_r) {                                                                   \
      GTEST_FAIL() << #expr << ": " << ::strata::to_string(_strata_ok_r.error().kind())    \
                   << ": " << _strata_ok_r.error().message();                              \
    }                                                                                      \
    ::strata::detail::take_value(std::move(_strata_ok_r));                                 \
  })
