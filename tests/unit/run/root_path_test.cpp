#include <sys/stat.h>

#include <gtest/gtest.h>

#include "run/container_detect.hpp"
#include "run/root_path.hpp"
#include "run/run.hpp"
#include "unit/run/run_test_support.hpp"

namespace strata::run {
namespace {

using testing::exists;
using testing::TempDir;
namespace stdfs = std::filesystem;

TEST(ResolveInRoot, SymlinksNeverLeaveTheRoot) {
  TempDir tmp;
  const std::string root = tmp.path();
  stdfs::create_directories(root + "/usr/lib");
  stdfs::create_symlink("/usr/lib", root + "/lib");
  stdfs::create_symlink("../../../../..", root + "/up");
  stdfs::create_symlink("/etc", root + "/abs");
  auto a = resolve_in_root(root, "/lib/x.so");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rel, "usr/lib/x.so");
  EXPECT_EQ(a->host, root + "/usr/lib/x.so");
  EXPECT_FALSE(a->exists);
  auto b = resolve_in_root(root, "up/etc/passwd");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->rel, "etc/passwd");
  auto c = resolve_in_root(root, "/abs/../../..//usr/./lib");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rel, "usr/lib");
  EXPECT_TRUE(c->exists);
  stdfs::create_symlink("loop", root + "/loop");
  EXPECT_FALSE(resolve_in_root(root, "/loop/x"));
}

TEST(Placeholders, CreatesAndRemovesOnlyWhatItMade) {
  TempDir tmp;
  const std::string root = tmp.path();
  stdfs::create_directories(root + "/etc");
  struct stat before;
  ASSERT_EQ(::stat((root + "/etc").c_str(), &before), 0);
  Placeholders ph(root);
  auto file = ph.ensure("/etc/resolv.conf", NodeKind::file);
  ASSERT_TRUE(file);
  auto dir = ph.ensure("/run/secrets", NodeKind::directory);
  ASSERT_TRUE(dir);
  auto kept = ph.ensure("/etc", NodeKind::directory);
  ASSERT_TRUE(kept);
  EXPECT_EQ(ph.created(), std::vector<std::string>({"etc/resolv.conf", "run", "run/secrets"}));
  EXPECT_EQ(ph.ensure("/etc/resolv.conf", NodeKind::directory).error().kind(), ErrorKind::conflict);
  testing::write_file(root + "/run/by-step", "x");
  ph.cleanup();
  EXPECT_FALSE(exists(root + "/etc/resolv.conf"));
  EXPECT_FALSE(exists(root + "/run/secrets"));
  EXPECT_TRUE(exists(root + "/run/by-step"));
  EXPECT_TRUE(exists(root + "/etc"));
  struct stat after;
  ASSERT_EQ(::stat((root + "/etc").c_str(), &after), 0);
  // run/ stays (the step wrote into it), so times are left as they are.
  (void)before;
  (void)after;
}

TEST(Placeholders, RestoresTheParentsTimes) {
  TempDir tmp;
  const std::string root = tmp.path();
  stdfs::create_directories(root + "/etc");
  timespec old_times[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/etc").c_str(), old_times, 0), 0);
  Placeholders ph(root);
  ASSERT_TRUE(ph.ensure("/etc/hosts", NodeKind::file));
  ASSERT_TRUE(ph.ensure("/etc/hostname", NodeKind::file));
  ph.cleanup();
  struct stat st;
  ASSERT_EQ(::stat((root + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
}

TEST(ContainerEvidence, FakeTrees) {
  TempDir tmp;
  stdfs::create_directories(tmp / "root/run");
  stdfs::create_directories(tmp / "proc/1");
  stdfs::create_directories(tmp / "proc/self");
  testing::write_file(tmp / "proc/1/comm", "systemd\n");
  testing::write_file(tmp / "proc/1/cgroup", "0::/init.scope\n");
  testing::write_file(tmp / "proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
  HostView view{tmp / "root", tmp / "proc", ""};
  EXPECT_TRUE(container_evidence(view).empty());

  testing::write_file(tmp / "root/run/.containerenv", "");
  EXPECT_EQ(container_evidence(view), std::vector<std::string>({"found /run/.containerenv"}));
  stdfs::remove(tmp / "root/run/.containerenv");

  view.container_env = "podman";
  EXPECT_EQ(container_evidence(view).size(), 1u);
  view.container_env.clear();

  testing::write_file(tmp / "proc/1/cgroup", "0::/kubepods/besteffort/pod123/abc\n");
  EXPECT_EQ(container_evidence(view), std::vector<std::string>({"/proc/1/cgroup mentions 'kubepods'"}));
  testing::write_file(tmp / "proc/1/cgroup", "0::/init.scope\n");

  testing::write_file(tmp / "proc/1/comm", "tini\n");
  EXPECT_EQ(container_evidence(view), std::vector<std::string>({"PID 1 is 'tini', not an init system"}));
}

TEST(Isolation, ParseAndProbe) {
  EXPECT_EQ(*parse_isolation("chroot"), Isolation::chroot);
  EXPECT_EQ(*parse_isolation("in-place"), Isolation::in_place);
  EXPECT_FALSE(parse_isolation("oci"));
  // The test machine runs as root with namespaces (docs/testing.md); the default follows the probe.
  EXPECT_EQ(default_isolation(), probe_chroot_isolation() ? Isolation::chroot : Isolation::in_place);
}

}  // namespace
}  // namespace strata::run
