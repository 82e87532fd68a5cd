// Internal to common/run: a RUN step turned into plain data (paths, flags, argv/envp arrays) in
// the parent, so that the forked children only walk vectors and make system calls — the parent
// may be multithreaded, and after fork() only async-signal-safe work is allowed until exec.
//
// prepare_step() builds the plan and the host-side resources it needs (mount point placeholders,
// a scratch dir with copies of /etc files and secrets, cache locks); execute_plan() forks and
// runs it; StepResources::release() undoes the host side after the step.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "run/root_path.hpp"
#include "run/run.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::run::detail {

struct SetupOp {
  enum class Kind {
    make_private,  // mount --make-rprivate /
    mount,         // mount(source, target, fstype, flags, data)
    remount_ro,    // remount the bind at target read-only (keeping nosuid/nodev/noexec of flags)
    sysfs,         // a read-only sysfs at target, or a read-only bind of /sys where that fails
    mkdir,         // inside a tmpfs we just mounted (/dev/pts, /dev/shm)
    touch,         // an empty file to bind a device node on
    symlink,       // source = link text
  };
  Kind kind = Kind::mount;
  std::string source, target, fstype, data;
  unsigned long flags = 0;
  bool optional = false;  // failure is ignored (devpts where the kernel refuses a new instance)
  std::string what;       // for the error message: "mount proc on /proc"
};

struct StepPlan {
  bool chroot_mode = true;
  bool new_mount_ns = false;
  bool new_net_ns = false;
  std::string root;  // host path of the new "/" (chroot mode)
  std::vector<SetupOp> ops;
  std::vector<std::string> exec_candidates;  // argv[0] for execve, in PATH order
  std::string exec_name;                      // argv[0] as written, for messages
  std::vector<std::string> argv, env;
  std::vector<char*> argv_ptrs, env_ptrs;  // NULL-terminated views of argv/env
  std::string workdir;                     // as seen by the step
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int stdout_fd = 1, stderr_fd = 2;
};

// Host-side state of one step; release() after the step (also on failure).
class StepResources {
 public:
  explicit StepResources(std::string root) : m_placeholders(std::move(root)) {}
  StepResources(const StepResources&) = delete;
  StepResources& operator=(const StepResources&) = delete;
  ~StepResources() { release(); }

  Placeholders& placeholders() { return m_placeholders; }
  // Creates (once) the scratch dir, mode 0700.
  Result<std::string> scratch_dir(const std::string& temp_dir);
  void keep_fd(util::Fd fd) { m_fds.push_back(std::move(fd)); }
  void remove_later(std::string host_path) { m_remove.push_back(std::move(host_path)); }
  void add_masked(std::string rel) { m_masked.push_back(std::move(rel)); }

  // Sorted, unique masked paths: those added plus every placeholder created.
  std::vector<std::string> masked_paths() const;
  void release();

 private:
  Placeholders m_placeholders;
  std::string m_scratch;
  std::vector<util::Fd> m_fds;
  std::vector<std::string> m_remove;
  std::vector<std::string> m_masked;
};

// Fills plan.ops (system mounts for chroot mode, then the RUN --mounts) and may add variables
// to plan.env (secret env=). Errors name the mount ("--mount=type=secret,id=x: ...").
Result<void> plan_mounts(Isolation isolation, const RunRequest& request, StepPlan& plan,
                         StepResources& resources);

// Fills plan.ops with the RUN --mounts (after the system mounts) and may add variables to
// plan.env (secret env=, SSH_AUTH_SOCK). scratch is the step's scratch dir ("" if no mounts).
Result<void> plan_run_mounts(const RunRequest& request, StepPlan& plan, StepResources& res,
                             const std::string& scratch);

// Small builders shared by the planners.
SetupOp make_op(SetupOp::Kind kind, std::string what);
SetupOp mount_op(std::string source, std::string target, std::string fstype, unsigned long flags,
                 std::string data, std::string what);
SetupOp path_op(SetupOp::Kind kind, std::string target, std::string source = {}, bool optional = false);
// A bind mount, plus a read-only remount (nosuid, nodev) when readonly.
void add_bind(StepPlan& plan, const std::string& source, const std::string& target, bool readonly,
              const std::string& what);
Result<std::string> read_host_file(const std::string& path);
// Creates or truncates path (never through a symlink) with exactly `mode`.
Result<void> write_host_file(const std::string& path, std::string_view content, mode_t mode);

// What the children reported.
struct Outcome {
  bool setup_failed = false;  // true: `what` and `err` say which call failed
  std::string what;
  int err = 0;
  bool have_status = false;  // the step ran; wait_status is its waitpid() status
  int wait_status = 0;
  int supervisor_status = 0;  // waitpid() status of the first child, for diagnostics
};

Result<Outcome> execute_plan(const StepPlan& plan);

}  // namespace strata::run::detail
