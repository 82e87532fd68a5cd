// run_step in chroot isolation against a real busybox root: real namespaces, real mounts.
#include <sys/stat.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "run/run.hpp"
#include "unit/run/run_test_support.hpp"

namespace strata::run {
namespace {

using testing::Capture;
using testing::exists;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

class ChrootRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_busybox()) GTEST_SKIP() << "needs " << testing::k_busybox << " (busybox-static)";
    if (auto probe = probe_chroot_isolation(); !probe) GTEST_SKIP() << probe.error().message();
    testing::make_busybox_root(root());
  }
  std::string root() const { return m_tmp / "root"; }

  RunRequest request(const std::string& script) {
    RunRequest r;
    r.root = root();
    r.argv = {"/bin/sh", "-c", script};
    r.description = "RUN " + script;
    r.stdout_fd = m_out.fd();
    r.stderr_fd = m_err.fd();
    r.cache_root = m_tmp / "cache";
    r.temp_dir = m_tmp.path();
    return r;
  }
  Result<RunResult> run(const std::string& script) { return run_step(Isolation::chroot, request(script)); }

  TempDir m_tmp;
  Capture m_out, m_err;
};

TEST_F(ChrootRun, OutputAndSuccess) {
  auto r = run("echo hello; echo oops >&2");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "hello\n");
  EXPECT_EQ(m_err.text(), "oops\n");
}

TEST_F(ChrootRun, ExitStatusIsNamed) {
  auto r = run("exit 3");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "RUN exit 3: exit status 3");
}

TEST_F(ChrootRun, SignalIsNamed) {
  auto r = run("kill -9 $$");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "RUN kill -9 $$: killed by signal SIGKILL");
}

TEST_F(ChrootRun, MissingExecutableInPath) {
  RunRequest req = request("");
  req.argv = {"no-such-tool", "x"};
  req.description = "RUN no-such-tool x";
  auto r = run_step(Isolation::chroot, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_NE(r.error().message().find("\"no-such-tool\": executable file not found in $PATH"), std::string::npos)
      << r.error().message();
}

TEST_F(ChrootRun, ExecFormLooksUpPathOfTheStep) {
  RunRequest req = request("");
  req.argv = {"echo", "exec", "form"};
  auto r = run_step(Isolation::chroot, req);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "exec form\n");
}

TEST_F(ChrootRun, EnvironmentWithDockerDefaults) {
  RunRequest req = request("echo \"$FOO|$PATH|$HOME\"");
  req.env = {"FOO=bar baz"};
  ASSERT_TRUE(run_step(Isolation::chroot, req));
  EXPECT_EQ(m_out.text(), "bar baz|" + std::string(k_default_path) + "|/root\n");
}

TEST_F(ChrootRun, GivenPathAndHomeAreKept) {
  RunRequest req = request("echo \"$PATH|$HOME\"");
  req.env = {"PATH=/bin", "HOME=/elsewhere"};
  req.user = "app";
  ASSERT_TRUE(run_step(Isolation::chroot, req));
  EXPECT_EQ(m_out.text(), "/bin|/elsewhere\n");
}

TEST_F(ChrootRun, UserByNameHasSupplementaryGroupsAndHome) {
  RunRequest req = request("id; echo $HOME");
  req.user = "app";
  auto r = run_step(Isolation::chroot, req);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),2000(staff)\n/home/app\n");
}

TEST_F(ChrootRun, UserByUidAndExplicitGroup) {
  RunRequest req = request("id");
  req.user = "1000:staff";
  ASSERT_TRUE(run_step(Isolation::chroot, req));
  EXPECT_EQ(m_out.text(), "uid=1000(app) gid=2000(staff) groups=2000(staff)\n");
}

TEST_F(ChrootRun, UnknownNumericUserIsAcceptedUnknownNameIsNot) {
  RunRequest req = request("id -u; id -g; echo $HOME");
  req.user = "4242";
  ASSERT_TRUE(run_step(Isolation::chroot, req));
  EXPECT_EQ(m_out.text(), "4242\n0\n/\n");
  req.user = "ghost";
  auto r = run_step(Isolation::chroot, req);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("unable to find user ghost"), std::string::npos) << r.error().message();
}

TEST_F(ChrootRun, MissingWorkdirIsCreatedAndKept) {
  RunRequest req = request("pwd");
  req.workdir = "/srv/app/build";
  ASSERT_TRUE(run_step(Isolation::chroot, req));
  EXPECT_EQ(m_out.text(), "/srv/app/build\n");
  struct stat st;
  ASSERT_EQ(::stat((root() + "/srv/app/build").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(ChrootRun, EtcFilesAreTheHostsAndNeverLeftInTheRoot) {
  write_file(root() + "/etc/hosts", "10.0.0.1 image-hosts\n");
  struct stat etc_before;
  ASSERT_EQ(::stat((root() + "/etc").c_str(), &etc_before), 0);
  auto r = run("cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname; echo hacked > /etc/hosts");
  ASSERT_TRUE(r) << r.error().message();
  std::string host_hostname = read_file("/etc/hostname");
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  EXPECT_EQ(m_out.text(), read_file("/etc/resolv.conf") + "---\n" + read_file("/etc/hosts") + "---\n" + name + "\n");
  EXPECT_FALSE(exists(root() + "/etc/resolv.conf"));
  EXPECT_FALSE(exists(root() + "/etc/hostname"));
  EXPECT_EQ(read_file(root() + "/etc/hosts"), "10.0.0.1 image-hosts\n");
  EXPECT_EQ(read_file("/etc/hosts").find("hacked"), std::string::npos);
  struct stat etc_after;
  ASSERT_EQ(::stat((root() + "/etc").c_str(), &etc_after), 0);
  EXPECT_EQ(etc_after.st_mtim.tv_sec, etc_before.st_mtim.tv_sec);
  EXPECT_EQ(etc_after.st_mtim.tv_nsec, etc_before.st_mtim.tv_nsec);
  for (const char* p : {"etc/resolv.conf", "etc/hosts", "etc/hostname"}) {
    EXPECT_NE(std::find(r->masked_paths.begin(), r->masked_paths.end(), p), r->masked_paths.end()) << p;
  }
}

TEST_F(ChrootRun, ProcDevAndSysWork) {
  auto r = run("grep -c ^Pid: /proc/self/status; echo $$; echo x > /dev/null; wc -c < /dev/null; "
               "test -c /dev/urandom && test -L /dev/fd && echo devok; touch /sys/x 2>/dev/null || echo sys-ro");
  ASSERT_TRUE(r) << r.error().message() << "\n" << m_err.text();
  // The shell is PID 2: PID 1 of its namespace is the supervisor.
  EXPECT_EQ(m_out.text(), "1\n2\n0\ndevok\nsys-ro\n");
  // The mount points did not exist in the image: created for the step, gone afterwards.
  EXPECT_FALSE(exists(root() + "/proc"));
  EXPECT_FALSE(exists(root() + "/dev"));
  EXPECT_FALSE(exists(root() + "/sys"));
}

TEST_F(ChrootRun, ProcessesLeftBehindAreKilled) {
  auto r = run("sleep 987654 & echo started");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "started\n");
  EXPECT_FALSE(testing::process_with_arg_alive("987654"));
}

TEST_F(ChrootRun, HostFileSystemIsInvisible) {
  write_file(m_tmp / "host-marker", "x");
  auto r = run("test -e " + (m_tmp / "host-marker") + " && echo visible; ls /");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text().find("visible"), std::string::npos);
  EXPECT_EQ(m_out.text().find("host-marker"), std::string::npos);
}

TEST_F(ChrootRun, RootStepHasDockersCapabilitiesOnly) {
  // CAP_SYS_ADMIN is gone: the step cannot mount, so it cannot undo the isolation.
  auto r = run("mount -t tmpfs none /tmp 2>/dev/null && echo mounted; grep CapEff /proc/self/status");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text().find("mounted"), std::string::npos);
  EXPECT_NE(m_out.text().find("00000000a80425fb"), std::string::npos) << m_out.text();
}

TEST_F(ChrootRun, NetworkNoneHasOnlyLoopback) {
  RunRequest req = request("ls /sys/class/net");
  req.network_none = true;
  auto r = run_step(Isolation::chroot, req);
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "lo\n");
}

TEST_F(ChrootRun, RelativeRootAndSymlinkedMountPointsStayInside) {
  // /etc/resolv.conf in the image points outside; the mount must land inside the root.
  std::filesystem::create_symlink("/../../../../../../etc/resolv-image", root() + "/etc/resolv.conf");
  auto r = run("cat /etc/resolv.conf > /dev/null && echo ok");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "ok\n");
  EXPECT_FALSE(exists("/etc/resolv-image"));
  EXPECT_FALSE(exists(root() + "/etc/resolv-image"));
  EXPECT_TRUE(std::filesystem::is_symlink(root() + "/etc/resolv.conf"));
}

}  // namespace
}  // namespace strata::run
