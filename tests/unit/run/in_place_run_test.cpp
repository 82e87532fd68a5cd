// run_step in in-place isolation. In-place builds in "/" itself, so the test makes a throwaway
// "/" the way a container runtime would: a forked child enters new mount and PID namespaces,
// pivot_roots into a busybox tree and mounts a fresh /proc, then calls run_step there and
// reports back over a pipe (gtest assertions only run in the test process).
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <functional>

#include <gtest/gtest.h>

#include "run/run.hpp"
#include "unit/run/run_test_support.hpp"

namespace strata::run {
namespace {

using testing::Capture;
using testing::TempDir;

// Runs `body` as PID 1 of a new PID namespace whose "/" is `root`; returns what body wrote to
// the report fd, plus "exit=N" if it did not exit 0.
std::string in_throwaway_root(const std::string& root, const std::function<void(int report)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  pid_t outer = ::fork();
  if (outer == 0) {
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) ::_exit(10);
    pid_t init = ::fork();
    if (init == 0) {
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(11);
      if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) ::_exit(12);
      // A container runtime gives /dev; the step's shell needs /dev/null for `cmd &`.
      ::mkdir((root + "/dev").c_str(), 0755);
      ::close(::open((root + "/dev/null").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
      if (::mount("/dev/null", (root + "/dev/null").c_str(), nullptr, MS_BIND, nullptr) != 0) ::_exit(16);
      ::mkdir((root + "/proc").c_str(), 0555);
      if (::mount("proc", (root + "/proc").c_str(), "proc", 0, nullptr) != 0) ::_exit(13);
      if (::chdir(root.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0) ::_exit(14);
      if (::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) ::_exit(15);
      // Look like a machine, not a container: PID 1 is "init", no $container.
      ::prctl(PR_SET_NAME, "init");
      ::unsetenv("container");
      body(fds[1]);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(init, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 100);
  }
  ::close(fds[1]);
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(outer, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) report += "exit=" + std::to_string(status);
  return report;
}

void say(int fd, const std::string& text) {
  std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());
}

std::string outcome(const Result<RunResult>& r) { return r ? std::string("ok") : r.error().message(); }

class InPlaceRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_busybox()) GTEST_SKIP() << "needs " << testing::k_busybox << " (busybox-static)";
    if (auto probe = probe_chroot_isolation(); !probe) GTEST_SKIP() << "needs namespaces to fake a container";
    testing::make_busybox_root(m_tmp / "root");
  }
  TempDir m_tmp;
};

RunRequest request(const std::string& script, int out_fd) {
  RunRequest r;
  r.argv = {"/bin/sh", "-c", script};
  r.description = "RUN " + script;
  r.stdout_fd = out_fd;
  r.stderr_fd = out_fd;
  r.temp_dir = "/tmp";
  return r;
}

TEST_F(InPlaceRun, RefusesOutsideAContainerUnlessForced) {
  std::string report = in_throwaway_root(m_tmp / "root", [](int fd) {
    Capture out;
    RunRequest r = request("touch /made-by-step", out.fd());
    say(fd, outcome(run_step(Isolation::in_place, r)));
    say(fd, testing::exists("/made-by-step") ? "touched" : "untouched");
    r.force = true;
    say(fd, outcome(run_step(Isolation::in_place, r)));
    say(fd, testing::exists("/made-by-step") ? "touched" : "untouched");
  });
  EXPECT_EQ(report, "RUN touch /made-by-step: " + std::string(k_in_place_refusal) + "\nuntouched\nok\ntouched\n");
}

TEST_F(InPlaceRun, AcceptsAContainerMarker) {
  testing::write_file(m_tmp / "root/.dockerenv", "");
  std::string report = in_throwaway_root(m_tmp / "root", [](int fd) {
    Capture out;
    say(fd, outcome(run_step(Isolation::in_place, request("echo in; pwd", out.fd()))));
    say(fd, out.text());
  });
  EXPECT_EQ(report, "ok\nin\n/\n\n");
}

TEST_F(InPlaceRun, UserWorkdirEnvExitStatusAndLeftoverProcesses) {
  std::string report = in_throwaway_root(m_tmp / "root", [](int fd) {
    Capture out;
    RunRequest r = request("id; pwd; echo $HOME $V; sleep 987653 & echo bg", out.fd());
    r.force = true;
    r.user = "app";
    r.workdir = "/home/app/src";
    r.env = {"V=1"};
    say(fd, outcome(run_step(Isolation::in_place, r)));
    say(fd, out.text());
    say(fd, testing::process_with_arg_alive("987653") ? "sleep alive" : "sleep gone");
    RunRequest fails = request("exit 7", out.fd());
    fails.force = true;
    say(fd, outcome(run_step(Isolation::in_place, fails)));
  });
  EXPECT_EQ(report,
            "ok\nuid=1000(app) gid=1000(app) groups=10(wheel),1000(app),2000(staff)\n/home/app/src\n/home/app 1\nbg\n\n"
            "sleep gone\nRUN exit 7: exit status 7\n");
  EXPECT_FALSE(testing::process_with_arg_alive("987653"));
}

TEST_F(InPlaceRun, MountsUseAPrivateNamespace) {
  testing::write_file(m_tmp / "secret", "pw");
  std::string secret_path = m_tmp / "secret";
  // The secret file must be reachable from inside the throwaway root.
  std::filesystem::create_directories(m_tmp / "root/host");
  std::filesystem::copy_file(secret_path, m_tmp / "root/host/secret");
  std::string report = in_throwaway_root(m_tmp / "root", [](int fd) {
    Capture out;
    RunRequest r = request("cat /run/secrets/pw; echo; grep -c ' /scratch ' /proc/mounts", out.fd());
    r.force = true;
    MountSpec secret;
    secret.kind = MountKind::secret;
    secret.id = "pw";
    secret.source = "/host/secret";
    MountSpec tmpfs;
    tmpfs.kind = MountKind::tmpfs;
    tmpfs.target = "/scratch";
    r.mounts = {secret, tmpfs};
    auto result = run_step(Isolation::in_place, r);
    say(fd, outcome(result));
    say(fd, out.text());
    say(fd, testing::exists("/run/secrets") || testing::exists("/scratch") ? "left behind" : "clean");
    std::string mounts = testing::read_file("/proc/self/mountinfo");
    say(fd, mounts.find("/scratch") == std::string::npos ? "not mounted here" : "mounted here");
  });
  EXPECT_EQ(report, "ok\npw\n1\n\nclean\nnot mounted here\n");
}

}  // namespace
}  // namespace strata::run
