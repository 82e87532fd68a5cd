// The fixture's own plumbing: processes, ports, temp dirs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "integration/support/itest.hpp"

namespace strata::itest {
namespace {

using namespace std::chrono_literals;

TEST(Process, RunCapturesOutputExitCodeAndEnv) {
  auto r = ASSERT_OK(run({"sh", "-c", "echo out-$STRATA_X; echo err >&2; exit 3"},
                         {{"STRATA_X", "42"}}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out-42\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_NE(r.describe().find("exit 3"), std::string::npos);
}

TEST(Process, RunCheckedFailsOnNonZeroExit) {
  auto r = run_checked({"false"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("false: exit 1"), std::string::npos) << r.error().message();
}

TEST(Process, MissingBinaryIsNotFound) {
  auto r = Process::start({.argv = {"strata-no-such-binary"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_EQ(missing_binaries({"sh", "strata-no-such-binary"}),
            std::vector<std::string>{"strata-no-such-binary"});
}

TEST(Process, TimeoutKillsTheWholeProcessGroup) {
  auto dir = ASSERT_OK(TempDir::create());
  const std::string pidfile = dir.file("grandchild.pid");
  // The grandchild would outlive a kill of only the direct child.
  auto p = ASSERT_OK(Process::start({.argv = {"sh", "-c", "sleep 300 & echo $! > " + pidfile + "; wait"}}));
  auto waited = p.wait(200ms);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().kind(), ErrorKind::timeout);
  EXPECT_TRUE(p.running());
  int code = p.kill();
  EXPECT_EQ(code, 128 + SIGTERM);
  auto pid_text = ASSERT_OK(read_file(pidfile));
  pid_t grandchild = std::stoi(pid_text);
  // Killed by the group signal; reaped by init, so poll briefly for it to disappear.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::error_code ec;
    std::string state;
    auto stat = read_file("/proc/" + std::to_string(grandchild) + "/stat");
    gone = !stat || stat->find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived";
}

TEST(Process, FreePortCanBeListenedOnAndWaitedFor) {
  int port = ASSERT_OK(free_port());
  EXPECT_GT(port, 0);
  auto p = ASSERT_OK(Process::start(
      {.argv = {"python3", "-c",
                "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1'," + std::to_string(port) +
                    "))\ns.listen()\ntime.sleep(60)"}}));
  ASSERT_OK(wait_for_port(port, 10s, &p));
  p.kill();
  // A process that exits is reported at once, with its stderr.
  auto q = ASSERT_OK(Process::start({.argv = {"sh", "-c", "echo boom >&2; exit 1"}}));
  auto r = wait_for_port(ASSERT_OK(free_port()), 10s, &q);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos) << r.error().message();
}

TEST(TempDir, RemovedAfterPassingScope) {
  std::string path;
  {
    auto dir = ASSERT_OK(TempDir::create("selftest"));
    path = dir.path();
    ASSERT_OK(write_file(dir.file("a.txt"), "x"));
    EXPECT_TRUE(std::filesystem::exists(dir.file("a.txt")));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ToolPath, PointsIntoTheBuildDir) {
  EXPECT_EQ(tool_path("warmer"), std::string(STRATA_BINARY_DIR) + "/warmer");
}

}  // namespace
}  // namespace strata::itest
