// RUN --mount in chroot isolation: bind (ro and rw), cache, tmpfs, secret, ssh.
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>

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

class RunMounts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_busybox()) GTEST_SKIP() << "needs " << testing::k_busybox << " (busybox-static)";
    if (auto probe = probe_chroot_isolation(); !probe) GTEST_SKIP() << probe.error().message();
    testing::make_busybox_root(root());
    std::filesystem::create_directories(m_tmp / "context/src");
    write_file(m_tmp / "context/src/main.c", "int main() {}\n");
    write_file(m_tmp / "secret.txt", "s3cr3t-value");
  }
  std::string root() const { return m_tmp / "root"; }

  Result<RunResult> run(const std::string& script, std::vector<MountSpec> mounts) {
    RunRequest r;
    r.root = root();
    r.argv = {"/bin/sh", "-c", script};
    r.description = "RUN " + script;
    r.stdout_fd = m_out.fd();
    r.stderr_fd = m_err.fd();
    r.cache_root = m_tmp / "cache";
    r.temp_dir = m_tmp.path();
    r.mounts = std::move(mounts);
    return run_step(Isolation::chroot, r);
  }
  static bool masked(const RunResult& r, const std::string& path) {
    return std::find(r.masked_paths.begin(), r.masked_paths.end(), path) != r.masked_paths.end();
  }

  TempDir m_tmp;
  Capture m_out, m_err;
};

MountSpec bind_mount(std::string source, std::string target, bool readonly = true) {
  MountSpec m;
  m.kind = MountKind::bind;
  m.source = std::move(source);
  m.target = std::move(target);
  m.readonly = readonly;
  return m;
}

TEST_F(RunMounts, ReadOnlyBindOfTheContext) {
  auto r = run("cat /src/src/main.c; touch /src/new 2>/dev/null || echo read-only",
               {bind_mount(m_tmp / "context", "/src")});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "int main() {}\nread-only\n");
  EXPECT_FALSE(exists(root() + "/src"));
  EXPECT_TRUE(masked(*r, "src"));
}

TEST_F(RunMounts, WritableBindDiscardsWrites) {
  auto r = run("echo changed > /work/src/main.c && echo more > /work/added && cat /work/src/main.c /work/added",
               {bind_mount(m_tmp / "context", "/work", false)});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "changed\nmore\n");
  EXPECT_EQ(read_file(m_tmp / "context/src/main.c"), "int main() {}\n");
  EXPECT_FALSE(exists(m_tmp / "context/added"));
  EXPECT_FALSE(exists(root() + "/work"));
}

TEST_F(RunMounts, BindOfASingleFileOnAnExistingTarget) {
  std::filesystem::create_directories(root() + "/opt");
  write_file(root() + "/opt/config", "image version\n");
  auto r = run("cat /opt/config", {bind_mount(m_tmp / "secret.txt", "/opt/config")});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(m_out.text(), "s3cr3t-value");
  EXPECT_EQ(read_file(root() + "/opt/config"), "image version\n");
}

TEST_F(RunMounts, MissingBindSourceIsAnError) {
  auto r = run("true", {bind_mount(m_tmp / "nope", "/x")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("--mount=type=bind,target=/x"), std::string::npos) << r.error().message();
  EXPECT_FALSE(exists(root() + "/x"));
}

TEST_F(RunMounts, CachePersistsBetweenStepsWithOwner) {
  MountSpec cache;
  cache.kind = MountKind::cache;
  cache.target = "/root/.cache/tool";
  cache.uid = 1000;
  cache.gid = 1000;
  cache.mode = 0700;
  auto first = run("echo one >> /root/.cache/tool/log; stat -c '%u:%g %a' /root/.cache/tool", {cache});
  ASSERT_TRUE(first) << first.error().message() << m_err.text();
  auto second = run("echo two >> /root/.cache/tool/log; cat /root/.cache/tool/log", {cache});
  ASSERT_TRUE(second) << second.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "1000:1000 700\none\ntwo\n");
  EXPECT_FALSE(exists(root() + "/root/.cache"));
  EXPECT_TRUE(masked(*second, "root/.cache/tool"));
  EXPECT_TRUE(masked(*second, "root/.cache"));

  // Another id is another directory.
  cache.id = "other";
  auto third = run("ls /root/.cache/tool | wc -l", {cache});
  ASSERT_TRUE(third);
  EXPECT_EQ(m_out.text(), "1000:1000 700\none\ntwo\n0\n");
}

TEST_F(RunMounts, PrivateCacheInUseGivesAFreshInstanceAndReadOnlyCache) {
  MountSpec cache;
  cache.kind = MountKind::cache;
  cache.id = "shared-id";
  cache.target = "/c";
  ASSERT_TRUE(run("echo seeded > /c/f", {cache}));
  std::string lock_path;
  for (const auto& e : std::filesystem::directory_iterator(m_tmp / "cache")) {
    if (e.path().extension() == ".lock") lock_path = e.path();
  }
  ASSERT_FALSE(lock_path.empty());
  {
    // Another step holds the cache: a private mount must not see (or touch) its content.
    util::Fd held(::open(lock_path.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_EQ(::flock(held.get(), LOCK_SH), 0);
    cache.sharing = CacheSharing::private_;
    auto r = run("ls /c | wc -l; echo private > /c/g", {cache});
    ASSERT_TRUE(r) << r.error().message();
  }
  cache.sharing = CacheSharing::shared;
  cache.readonly = true;
  auto ro = run("cat /c/f; ls /c; echo x > /c/h 2>/dev/null || echo read-only", {cache});
  ASSERT_TRUE(ro) << ro.error().message();
  EXPECT_EQ(m_out.text(), "0\nseeded\nf\nread-only\n");
}

TEST_F(RunMounts, StepWritesNextToAMountPointStay) {
  MountSpec cache;
  cache.kind = MountKind::cache;
  cache.target = "/root/.cache/tool";
  auto r = run("echo kept > /root/.cache/other", {cache});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_file(root() + "/root/.cache/other"), "kept\n");
  EXPECT_FALSE(exists(root() + "/root/.cache/tool"));
}

TEST_F(RunMounts, LockedCacheWithoutCacheRootIsAnError) {
  MountSpec cache;
  cache.kind = MountKind::cache;
  cache.target = "/c";
  cache.sharing = CacheSharing::locked;
  RunRequest r;
  r.root = root();
  r.argv = {"true"};
  r.description = "RUN true";
  r.mounts = {cache};
  auto result = run_step(Isolation::chroot, r);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("no cache directory"), std::string::npos);
}

TEST_F(RunMounts, Tmpfs) {
  MountSpec tmpfs;
  tmpfs.kind = MountKind::tmpfs;
  tmpfs.target = "/scratch";
  tmpfs.size = 1 << 20;
  auto r = run("echo x > /scratch/f && grep ' /scratch ' /proc/mounts | cut -d' ' -f3", {tmpfs});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "tmpfs\n");
  EXPECT_FALSE(exists(root() + "/scratch"));
}

TEST_F(RunMounts, SecretIsReadableAndNeverInTheRoot) {
  MountSpec secret;
  secret.kind = MountKind::secret;
  secret.id = "token";
  secret.source = m_tmp / "secret.txt";
  MountSpec as_env = secret;
  as_env.env = "TOKEN";
  auto r = run("cat /run/secrets/token; echo; stat -c '%a %u' /run/secrets/token; echo \"$TOKEN\"",
               {secret, as_env});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "s3cr3t-value\n400 0\ns3cr3t-value\n");
  EXPECT_FALSE(exists(root() + "/run"));
  EXPECT_TRUE(masked(*r, "run/secrets/token"));
}

TEST_F(RunMounts, SecretWithOwnerAndTarget) {
  MountSpec secret;
  secret.kind = MountKind::secret;
  secret.id = "npm";
  secret.source = m_tmp / "secret.txt";
  secret.target = "/home/app/.npmrc";
  secret.uid = 1000;
  secret.mode = 0440;
  auto r = run("stat -c '%a %u' /home/app/.npmrc", {secret});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "440 1000\n");
  EXPECT_FALSE(exists(root() + "/home/app/.npmrc"));
}

TEST_F(RunMounts, MissingSecret) {
  MountSpec secret;
  secret.kind = MountKind::secret;
  secret.id = "absent";
  auto optional = run("test -e /run/secrets/absent || echo absent", {secret});
  ASSERT_TRUE(optional) << optional.error().message();
  EXPECT_EQ(m_out.text(), "absent\n");
  secret.required = true;
  auto required = run("true", {secret});
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().kind(), ErrorKind::not_found);
  EXPECT_NE(required.error().message().find("secret absent not found"), std::string::npos);
}

TEST_F(RunMounts, SshWithoutAgentIsUnsupported) {
  MountSpec ssh;
  ssh.kind = MountKind::ssh;
  auto r = run("true", {ssh});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::unsupported);
  EXPECT_NE(r.error().message().find("--ssh default="), std::string::npos) << r.error().message();
}

TEST_F(RunMounts, SshAgentSocketIsBound) {
  std::string sock_path = m_tmp / "agent.sock";
  util::Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  MountSpec ssh;
  ssh.kind = MountKind::ssh;
  ssh.source = sock_path;
  auto r = run("test -S \"$SSH_AUTH_SOCK\" && echo $SSH_AUTH_SOCK", {ssh});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "/run/buildkit/ssh_agent.0\n");
  EXPECT_FALSE(exists(root() + "/run"));
}

TEST_F(RunMounts, NestedTargetsAreMountedParentFirst) {
  MountSpec outer;
  outer.kind = MountKind::tmpfs;
  outer.target = "/a";
  auto r = run("cat /a/b/src/main.c", {bind_mount(m_tmp / "context", "/a/b"), outer});
  ASSERT_TRUE(r) << r.error().message() << m_err.text();
  EXPECT_EQ(m_out.text(), "int main() {}\n");
  EXPECT_FALSE(exists(root() + "/a"));
}

}  // namespace
}  // namespace strata::run
