// The forked side of run_step. Process tree:
//
//   executor ── trampoline ── supervisor (PID 1 of a new PID namespace) ── step     (chroot)
//   executor ── supervisor (child subreaper) ── step                               (in_place)
//
// The trampoline exists because unshare(CLONE_NEWPID) only moves the caller's future children.
// The supervisor sets up mounts (they must be made by a process inside the new PID namespace for
// /proc to show it), enters the root, forks the step, reaps orphans until the step exits and
// writes the step's wait status on the status pipe. In chroot mode its exit makes the kernel
// SIGKILL everything left in the namespace; in in_place mode it kills every remaining descendant
// itself (orphans are re-parented to it as a subreaper) before exiting.
//
// Everything after fork() is async-signal-safe: plain system calls on data prepared by the
// parent, fixed-size records on a pipe (atomic below PIPE_BUF), no allocation. The pipe's write
// end is close-on-exec, so the parent reads until EOF, which comes when the supervisor is gone.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "run/step_plan.hpp"

namespace strata::run::detail {
namespace {

enum : std::int32_t { k_setup_error = 1, k_step_status = 2 };

struct Record {
  std::int32_t kind;
  std::int32_t err;
  std::int32_t status;
  char what[500];
};
static_assert(sizeof(Record) <= PIPE_BUF);

void report(int fd, std::int32_t kind, int err, int status, const char* what) {
  Record r;
  std::memset(&r, 0, sizeof r);
  r.kind = kind;
  r.err = err;
  r.status = status;
  if (what != nullptr) {
    std::size_t n = std::strlen(what);
    if (n >= sizeof r.what) n = sizeof r.what - 1;
    std::memcpy(r.what, what, n);
  }
  const char* p = reinterpret_cast<const char*>(&r);
  std::size_t left = sizeof r;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

[[noreturn]] void die(int fd, const char* what, int err) {
  report(fd, k_setup_error, err, 0, what);
  ::_exit(127);
}

// Dies with the parent: a killed executor must not leave a step running.
// expected_parent is 0 for PID 1 of a new namespace: its parent is outside and shows as 0.
void die_with_parent(pid_t expected_parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != expected_parent) ::_exit(127);
}

int apply_op(const SetupOp& op) {
  const char* src = op.source.empty() ? nullptr : op.source.c_str();
  const char* fstype = op.fstype.empty() ? nullptr : op.fstype.c_str();
  const char* data = op.data.empty() ? nullptr : op.data.c_str();
  int rc = 0;
  switch (op.kind) {
    case SetupOp::Kind::make_private:
      rc = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
      break;
    case SetupOp::Kind::mount:
      rc = ::mount(src, op.target.c_str(), fstype, op.flags, data);
      break;
    case SetupOp::Kind::remount_ro:
      rc = ::mount(nullptr, op.target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | op.flags, nullptr);
      break;
    case SetupOp::Kind::sysfs: {
      const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
      rc = ::mount("sysfs", op.target.c_str(), "sysfs", flags, nullptr);
      if (rc != 0) {
        rc = ::mount("/sys", op.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
        if (rc == 0) {
          rc = ::mount(nullptr, op.target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr);
        }
      }
      break;
    }
    case SetupOp::Kind::mkdir:
      rc = ::mkdir(op.target.c_str(), 0755);
      if (rc != 0 && errno == EEXIST) rc = 0;
      break;
    case SetupOp::Kind::touch: {
      int fd = ::open(op.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      rc = fd < 0 ? -1 : ::close(fd);
      break;
    }
    case SetupOp::Kind::symlink:
      rc = ::symlink(op.source.c_str(), op.target.c_str());
      break;
  }
  return rc == 0 ? 0 : errno;
}

void apply_ops(const StepPlan& plan, int status_fd) {
  for (const SetupOp& op : plan.ops) {
    int err = apply_op(op);
    if (err != 0 && !op.optional) die(status_fd, op.what.c_str(), err);
  }
}

int loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, "lo", 3);
  int err = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = errno;
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  ::close(s);
  return err;
}

// pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no way back to
// the host's tree, unlike chroot. Where pivot_root is impossible (an initramfs root), chroot.
void enter_root(const StepPlan& plan, int status_fd) {
  if (::chdir(plan.root.c_str()) != 0) die(status_fd, "chdir to the build root", errno);
  if (::syscall(SYS_pivot_root, ".", ".") == 0) {
    if (::umount2(".", MNT_DETACH) != 0) die(status_fd, "detach the old root", errno);
  } else if (::chroot(".") != 0) {
    die(status_fd, "chroot to the build root", errno);
  }
  if (::chdir("/") != 0) die(status_fd, "chdir /", errno);
}

// Docker's default capability set: a root step can install packages and chown files but cannot
// mount, load modules or undo the isolation.
constexpr int k_kept_caps[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,     CAP_FSETID,       CAP_KILL,
                               CAP_SETGID, CAP_SETUID,       CAP_SETPCAP,    CAP_NET_BIND_SERVICE,
                               CAP_NET_RAW, CAP_SYS_CHROOT,  CAP_MKNOD,      CAP_AUDIT_WRITE,  CAP_SETFCAP};

std::uint64_t kept_caps_mask() {
  std::uint64_t mask = 0;
  for (int cap : k_kept_caps) mask |= std::uint64_t{1} << cap;
  return mask;
}

void drop_bounding_caps(int status_fd) {
  const std::uint64_t keep = kept_caps_mask();
  for (int cap = 0; cap < 64; ++cap) {
    if ((keep >> cap) & 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      die(status_fd, "drop capabilities from the bounding set", errno);
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

void limit_root_caps(int status_fd) {
  const std::uint64_t keep = kept_caps_mask();
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (::syscall(SYS_capget, &header, data) != 0) die(status_fd, "capget", errno);
  for (int i = 0; i < 2; ++i) {
    auto part = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective &= part;
    data[i].permitted &= part;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) die(status_fd, "capset", errno);
}

[[noreturn]] void exec_step(const StepPlan& plan, int status_fd, int devnull, const char* exec_what,
                            pid_t supervisor) {
  die_with_parent(supervisor);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int in = ::fcntl(devnull, F_DUPFD_CLOEXEC, 10);
  int out = ::fcntl(plan.stdout_fd, F_DUPFD_CLOEXEC, 10);
  int err = ::fcntl(plan.stderr_fd, F_DUPFD_CLOEXEC, 10);
  if (in < 0 || out < 0 || err < 0) die(status_fd, "duplicate the step's stdio", errno);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) die(status_fd, "set the step's stdio", errno);
  if (::chdir(plan.workdir.c_str()) != 0) die(status_fd, "chdir to the working directory", errno);
  if (plan.chroot_mode) drop_bounding_caps(status_fd);
  if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) die(status_fd, "setgroups", errno);
  if (::setgid(plan.gid) != 0) die(status_fd, "setgid", errno);
  if (::setuid(plan.uid) != 0) die(status_fd, "setuid", errno);
  if (plan.chroot_mode && plan.uid == 0) limit_root_caps(status_fd);
  die_with_parent(supervisor);  // a credential change clears the parent-death signal
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) die(status_fd, "close_range", errno);
  int exec_err = ENOENT;
  for (const std::string& candidate : plan.exec_candidates) {
    ::execve(candidate.c_str(), plan.argv_ptrs.data(), plan.env_ptrs.data());
    if (errno == EACCES) {
      exec_err = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      exec_err = errno;
      break;
    }
  }
  die(status_fd, exec_what, exec_err);
}

// Sends SIGKILL to every child of this process; returns how many.
int kill_children() {
  int killed = 0;
  int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  const pid_t self = ::getpid();
  alignas(8) char buf[8192];
  while (true) {
    long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct Dirent {
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      auto* d = reinterpret_cast<Dirent*>(buf + off);
      off += d->reclen;
      pid_t pid = 0;
      bool numeric = d->name[0] != '\0';
      for (const char* c = d->name; *c != '\0'; ++c) {
        if (*c < '0' || *c > '9') {
          numeric = false;
          break;
        }
        pid = pid * 10 + (*c - '0');
      }
      if (!numeric) continue;
      char path[64] = "/proc/";
      std::size_t len = 6;
      for (const char* c = d->name; *c != '\0' && len < 50; ++c) path[len++] = *c;
      std::memcpy(path + len, "/stat", 6);
      int fd = ::open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char stat[512];
      ssize_t got = ::read(fd, stat, sizeof stat - 1);
      ::close(fd);
      if (got <= 0) continue;
      stat[got] = '\0';
      // "pid (comm) state ppid ...": comm may hold anything, so parse after the last ')'.
      const char* close_paren = std::strrchr(stat, ')');
      if (close_paren == nullptr || close_paren[1] == '\0' || close_paren[2] == '\0') continue;
      const char* p = close_paren + 4;  // skip ") S "
      pid_t ppid = 0;
      while (*p >= '0' && *p <= '9') ppid = ppid * 10 + (*p++ - '0');
      if (ppid == self && ::kill(pid, SIGKILL) == 0) ++killed;
    }
  }
  ::close(dir);
  return killed;
}

void kill_descendants() {
  while (true) {
    int killed = kill_children();
    int status;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == ECHILD) return;
    if (pid < 0 && errno != EINTR) return;
    if (killed > 0) {
      pid = ::waitpid(-1, &status, 0);
      if (pid < 0 && errno == ECHILD) return;
    } else {
      // A child exists that the scan missed (re-parented meanwhile): look again shortly.
      timespec pause{0, 1000000};
      ::nanosleep(&pause, nullptr);
    }
  }
}

[[noreturn]] void supervise(const StepPlan& plan, int status_fd, int devnull, const char* exec_what) {
  if (plan.chroot_mode) {
    apply_ops(plan, status_fd);
    if (plan.new_net_ns) {
      if (int err = loopback_up(); err != 0) die(status_fd, "bring up lo", err);
    }
    enter_root(plan, status_fd);
  } else {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die(status_fd, "become a child subreaper", errno);
    int flags = (plan.new_mount_ns ? CLONE_NEWNS : 0) | (plan.new_net_ns ? CLONE_NEWNET : 0);
    if (flags != 0 && ::unshare(flags) != 0) {
      die(status_fd,
          plan.new_mount_ns ? "unshare a mount namespace for RUN --mount (needs CAP_SYS_ADMIN)"
                            : "unshare a network namespace for --network=none (needs CAP_SYS_ADMIN)",
          errno);
    }
    apply_ops(plan, status_fd);
    if (plan.new_net_ns) {
      if (int err = loopback_up(); err != 0) die(status_fd, "bring up lo", err);
    }
  }
  const pid_t self = ::getpid();
  pid_t step = ::fork();
  if (step < 0) die(status_fd, "fork the step", errno);
  if (step == 0) exec_step(plan, status_fd, devnull, exec_what, self);
  int status = 0;
  while (true) {
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid == step) break;
    if (pid < 0 && errno != EINTR) die(status_fd, "wait for the step", errno);
  }
  if (!plan.chroot_mode) kill_descendants();
  report(status_fd, k_step_status, 0, status, nullptr);
  ::_exit(0);
}

[[noreturn]] void first_child(const StepPlan& plan, int status_fd, int devnull, const char* exec_what,
                              pid_t executor) {
  die_with_parent(executor);
  if (!plan.chroot_mode) supervise(plan, status_fd, devnull, exec_what);
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (plan.new_net_ns ? CLONE_NEWNET : 0);
  if (::unshare(flags) != 0) die(status_fd, "unshare namespaces (chroot isolation needs CAP_SYS_ADMIN)", errno);
  pid_t init = ::fork();
  if (init < 0) die(status_fd, "fork PID 1 of the step's namespace", errno);
  if (init == 0) {
    die_with_parent(0);
    supervise(plan, status_fd, devnull, exec_what);
  }
  int status = 0;
  while (::waitpid(init, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(127);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace

Result<Outcome> execute_plan(const StepPlan& plan) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
  util::Fd read_end(fds[0]);
  util::Fd write_end(fds[1]);
  // The step's stdin: a pipe nobody writes to reads as EOF, like /dev/null, without needing a
  // /dev/null where the executor runs (in-place mode in a minimal container).
  int stdin_fds[2];
  if (::pipe2(stdin_fds, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
  util::Fd devnull(stdin_fds[0]);
  ::close(stdin_fds[1]);
  const std::string exec_what = "exec " + plan.exec_name;
  const pid_t self = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", errno);
  if (pid == 0) first_child(plan, write_end.get(), devnull.get(), exec_what.c_str(), self);
  write_end.reset();

  Outcome outcome;
  Record record;
  std::size_t have = 0;
  while (true) {
    ssize_t n = ::read(read_end.get(), reinterpret_cast<char*>(&record) + have, sizeof record - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<std::size_t>(n);
    if (have < sizeof record) continue;
    have = 0;
    if (record.kind == k_setup_error && !outcome.setup_failed) {
      outcome.setup_failed = true;
      outcome.err = record.err;
      outcome.what.assign(record.what, strnlen(record.what, sizeof record.what));
    } else if (record.kind == k_step_status) {
      outcome.have_status = true;
      outcome.wait_status = record.status;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("waitpid", errno);
  }
  outcome.supervisor_status = status;
  return outcome;
}

}  // namespace strata::run::detail
