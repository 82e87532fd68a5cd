#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "run/container_detect.hpp"
#include "run/run.hpp"
#include "run/step_plan.hpp"
#include "run/user.hpp"
#include "util/log.hpp"

namespace strata::run {
namespace {

bool has_var(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') return true;
  }
  return false;
}

std::string var(const std::vector<std::string>& env, std::string_view name) {
  // The last definition wins, as execve's consumers (getenv) read the first: keep it unique.
  std::string out;
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      out = e.substr(name.size() + 1);
    }
  }
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

Result<std::string> real_root(const std::string& root) {
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) == nullptr) return fail_errno("build root " + root, errno);
  struct stat st;
  if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(ErrorKind::invalid_argument, "build root " + root + " is not a directory");
  }
  return std::string(buf);
}

Result<void> run_impl(Isolation isolation, const RunRequest& request, RunResult& result) {
  if (request.argv.empty() || request.argv[0].empty()) {
    return fail(ErrorKind::invalid_argument, "empty command");
  }
  detail::StepPlan plan;
  plan.chroot_mode = isolation == Isolation::chroot;
  if (plan.chroot_mode) {
    plan.root = TRY(real_root(request.root.empty() ? "/" : request.root));
  } else {
    if (!request.root.empty() && request.root != "/") {
      return fail(ErrorKind::invalid_argument, "in-place isolation builds in / itself, not in " + request.root);
    }
    plan.root = "/";
    if (!request.force) {
      auto evidence = container_evidence(current_host_view());
      if (evidence.empty()) return fail(ErrorKind::denied, std::string(k_in_place_refusal));
      log::debug("in-place isolation: running in a container", {{"evidence", evidence.front()}});
    }
  }

  ResolvedUser user = TRY(resolve_user(plan.root, request.user));
  plan.uid = user.uid;
  plan.gid = user.gid;
  plan.groups = user.groups;
  plan.env = request.env;
  if (!has_var(plan.env, "PATH")) plan.env.push_back("PATH=" + std::string(k_default_path));
  if (!has_var(plan.env, "HOME")) plan.env.push_back("HOME=" + user.home);

  std::string workdir = request.workdir.empty() ? "/" : request.workdir;
  if (workdir[0] != '/') {
    return fail(ErrorKind::invalid_argument, "working directory '" + workdir + "' is not absolute");
  }
  RootPath wd = TRY_CTX(Placeholders::make_dirs(plan.root, workdir), "working directory " + workdir);
  plan.workdir = "/" + wd.rel;

  detail::StepResources resources(plan.root);
  plan.new_net_ns = request.network_none;
  plan.stdout_fd = request.stdout_fd;
  plan.stderr_fd = request.stderr_fd;
  auto planned = detail::plan_mounts(isolation, request, plan, resources);
  if (!planned) {
    resources.release();
    return fail(planned.error());
  }

  plan.argv = request.argv;
  plan.exec_name = request.argv[0];
  if (plan.exec_name.find('/') != std::string::npos) {
    plan.exec_candidates.push_back(plan.exec_name);
  } else {
    std::string path = var(plan.env, "PATH");
    std::size_t pos = 0;
    while (pos <= path.size()) {
      std::size_t colon = path.find(':', pos);
      if (colon == std::string::npos) colon = path.size();
      std::string dir = path.substr(pos, colon - pos);
      pos = colon + 1;
      plan.exec_candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + plan.exec_name);
    }
  }
  for (auto& a : plan.argv) plan.argv_ptrs.push_back(a.data());
  plan.argv_ptrs.push_back(nullptr);
  for (auto& e : plan.env) plan.env_ptrs.push_back(e.data());
  plan.env_ptrs.push_back(nullptr);

  auto outcome = detail::execute_plan(plan);
  result.masked_paths = resources.masked_paths();
  resources.release();
  if (!outcome) return fail(outcome.error());

  if (outcome->setup_failed) {
    if (outcome->what == "exec " + plan.exec_name && outcome->err == ENOENT &&
        plan.exec_name.find('/') == std::string::npos) {
      return fail(ErrorKind::not_found, "exec: \"" + plan.exec_name + "\": executable file not found in $PATH");
    }
    return fail(errno_error(outcome->what, outcome->err));
  }
  if (!outcome->have_status) {
    return fail(ErrorKind::internal,
                "the step's supervisor ended without a result (wait status " +
                    std::to_string(outcome->supervisor_status) + ")");
  }
  int status = outcome->wait_status;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status)) {
    if (request.exit_status) *request.exit_status = WEXITSTATUS(status);
    return fail(ErrorKind::invalid_argument, "exit status " + std::to_string(WEXITSTATUS(status)));
  }
  return fail(ErrorKind::invalid_argument, "killed by signal " + signal_name(WTERMSIG(status)));
}

}  // namespace

Result<Isolation> parse_isolation(std::string_view text) {
  if (text == "chroot") return Isolation::chroot;
  if (text == "in-place" || text == "in_place") return Isolation::in_place;
  return fail(ErrorKind::invalid_argument,
              "unknown isolation '" + std::string(text) + "' (expected chroot or in-place)");
}

std::string_view to_string(Isolation isolation) {
  return isolation == Isolation::chroot ? "chroot" : "in-place";
}

Result<RunResult> run_step(Isolation isolation, const RunRequest& request) {
  RunResult result;
  auto ran = run_impl(isolation, request, result);
  if (!ran) {
    return fail(ran.error().with_context(request.description.empty() ? "RUN" : request.description));
  }
  return result;
}

Result<void> probe_chroot_isolation() {
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", errno);
  if (pid == 0) {
    ::_exit(::unshare(CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : (errno & 0xff));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("waitpid", errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  int err = WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
  return fail(ErrorKind::denied, "chroot isolation is not available here: unshare(CLONE_NEWNS|CLONE_NEWPID): " +
                                     std::string(std::strerror(err)) +
                                     " (it needs CAP_SYS_ADMIN, e.g. a privileged container); use --isolation=in-place");
}

Isolation default_isolation() { return probe_chroot_isolation() ? Isolation::chroot : Isolation::in_place; }

}  // namespace strata::run
