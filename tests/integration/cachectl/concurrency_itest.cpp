// One cache dir shared, for a bounded time (~30 s), by warmer runs, executor builds (FROM + COPY,
// the real executor binary) and a `cachectl prune --max-used-space` loop small enough to evict
// something on every round: every build and warm run must succeed (the leases keep what they use),
// and `cachectl verify` must pass afterwards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "integration/support/itest.hpp"
#include "nlohmann/json.hpp"

namespace strata::itest {
namespace {

using namespace std::chrono_literals;

TEST(CachectlConcurrency, BuildsWarmersAndPruneLoopShareOneCacheDir) {
  SKIP_UNLESS("docker-registry", "skopeo", "python3", "busybox");
  SKIP_UNLESS_TOOL("executor");
  SKIP_UNLESS_TOOL("warmer");
  SKIP_UNLESS_TOOL("cachectl");
  if (::geteuid() != 0) GTEST_SKIP() << "the executor's chroot isolation needs root";
  auto reg = ASSERT_OK(RegistryServer::start());
  std::vector<std::string> images{"library/busybox:latest", "team/a:v1", "team/b:v1", "team/c:v1"};
  for (std::size_t i = 0; i < images.size(); ++i) ASSERT_OK(seed_base_image(reg, images[i], {.extra_layers = static_cast<int>(i)}));
  auto dir = ASSERT_OK(TempDir::create("cachectl-concurrency"));
  const std::string cache = dir.file("cache");
  for (int b = 0; b < 2; ++b) {
    std::string ctx = dir.file("ctx" + std::to_string(b));
    std::filesystem::create_directories(ctx);
    ASSERT_OK(write_file(ctx + "/file.txt", "build " + std::to_string(b) + "\n"));
    ASSERT_OK(write_file(ctx + "/Dockerfile", "FROM " + reg.host() + "/" + images[b == 0 ? 0 : 2] +
                                                  "\nCOPY file.txt /file.txt\n"));
  }
  auto warm_args = [&](int round) {
    std::vector<std::string> a{tool_path("warmer"), "--cache-dir", cache, "--insecure-registry", reg.host()};
    for (std::size_t i = 0; i < images.size(); ++i) {
      if ((i + static_cast<std::size_t>(round)) % 2 == 0 || i == 0) a.insert(a.end(), {"-i", reg.host() + "/" + images[i]});
    }
    if (round % 2 == 1) a.push_back("--force");
    return a;
  };
  auto first = ASSERT_OK(run(warm_args(0), {}, 120s));
  ASSERT_EQ(first.exit_code, 0) << first.describe();

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::atomic<int> failures{0}, builds{0}, warms{0}, prunes{0}, evicted{0};
  std::mutex log_mutex;
  std::string failure_log;
  auto record = [&](const RunResult& r, const std::string& what) {
    if (r.exit_code == 0) return true;
    ++failures;
    std::lock_guard lock(log_mutex);
    failure_log += what + ": " + r.describe() + "\n";
    return false;
  };
  std::vector<std::thread> workers;
  for (int b = 0; b < 2; ++b) {
    workers.emplace_back([&, b] {
      for (int round = 0; std::chrono::steady_clock::now() < deadline; ++round) {
        std::string kdir = dir.file("kaniko-" + std::to_string(b) + "-" + std::to_string(round));
        auto r = run({tool_path("executor"), "--context=" + dir.file("ctx" + std::to_string(b)), "--kaniko-dir=" + kdir,
                      "--cache-dir=" + cache, "--insecure-registry=" + reg.host(), "--no-push"},
                     {}, 180s);
        if (!r || !record(*r, "executor build " + std::to_string(b))) break;
        ++builds;
      }
    });
  }
  workers.emplace_back([&] {
    for (int round = 1; std::chrono::steady_clock::now() < deadline; ++round) {
      auto r = run(warm_args(round), {}, 120s);
      if (!r || !record(*r, "warmer round " + std::to_string(round))) break;
      ++warms;
    }
  });
  workers.emplace_back([&] {
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = run({tool_path("cachectl"), "prune", "--cache-dir", cache, "--max-used-space", "1KB", "--json"}, {}, 60s);
      if (!r || !record(*r, "cachectl prune")) break;
      ++prunes;
      try {
        evicted += static_cast<int>(nlohmann::json::parse(r->out)["removed"].size());
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(200ms);
    }
  });
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0) << failure_log;
  EXPECT_GE(builds.load(), 2);
  EXPECT_GE(warms.load(), 1);
  EXPECT_GE(prunes.load(), 3);
  EXPECT_GT(evicted.load(), 0) << "the prune loop never evicted anything: the test proves nothing";
  auto verify = ASSERT_OK(run({tool_path("cachectl"), "verify", "--cache-dir", cache}, {}, 120s));
  EXPECT_EQ(verify.exit_code, 0) << verify.describe();
  auto gc = ASSERT_OK(run({tool_path("cachectl"), "gc", "--cache-dir", cache, "--grace", "0s"}, {}, 120s));
  EXPECT_EQ(gc.exit_code, 0) << gc.describe();
  EXPECT_EQ(ASSERT_OK(run({tool_path("cachectl"), "verify", "--cache-dir", cache}, {}, 120s)).exit_code, 0);
}

}  // namespace
}  // namespace strata::itest
