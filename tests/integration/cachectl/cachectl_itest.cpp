// cachectl against a cache dir filled by the real warmer from a local registry: listing, usage,
// verify/repair with re-fetch, prune under a lease, and prune killed with SIGKILL at random
// moments (the index and the blobs must still agree).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "digest/digest.hpp"
#include "integration/support/itest.hpp"
#include "nlohmann/json.hpp"
#include "store/lease.hpp"

namespace fs = std::filesystem;

namespace strata::itest {
namespace {

class Cachectl : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_UNLESS("docker-registry", "skopeo", "python3");
    SKIP_UNLESS_TOOL("warmer");
    SKIP_UNLESS_TOOL("cachectl");
  }

  RunResult tool(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv{tool_path(name)};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, {}, std::chrono::seconds(120));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : RunResult{};
  }
  RunResult cachectl(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--cache-dir", m_cache});
    return tool("cachectl", std::move(args));
  }
  nlohmann::json cachectl_json(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = cachectl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.out;
      return {};
    }
  }
  void warm(const RegistryServer& reg) {
    auto r = tool("warmer", {"--cache-dir", m_cache, "--insecure-registry", reg.host(), "-i",
                             reg.host() + "/library/busybox:latest", "-i", reg.host() + "/team/app:v1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string m_cache;
};

TEST_F(Cachectl, InspectsVerifiesRepairsAndPrunesAWarmedCache) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, "library/busybox:latest"));
  ASSERT_OK(seed_base_image(reg, "team/app:v1", {.extra_layers = 2}));
  auto dir = ASSERT_OK(TempDir::create("cachectl"));
  m_cache = dir.file("cache");
  warm(reg);

  auto ls = cachectl_json({"ls"});
  ASSERT_EQ(ls["images"].size(), 2u) << ls.dump();
  auto du = cachectl_json({"du"});
  EXPECT_GT(du["shared"].get<std::uint64_t>(), 0u);  // the busybox layer
  EXPECT_GT(du["unique"].get<std::uint64_t>(), 0u);  // app's extra layers
  auto stats = cachectl_json({"stats"});
  EXPECT_GE(stats["tools"]["warmer"]["misses"].get<int>(), 2) << stats.dump();
  std::string app_ref = reg.host() + "/team/app:v1";
  auto inspect = cachectl_json({"inspect", app_ref});
  ASSERT_EQ(inspect["entries"].size(), 1u);
  EXPECT_EQ(inspect["entries"][0]["shared_with"].size(), 1u);
  auto table = cachectl({"ls"});
  EXPECT_NE(table.out.find("REFERENCE"), std::string::npos);

  // Corrupt one of app's own layers on disk.
  std::string victim;
  for (const auto& b : inspect["entries"][0]["blobs"]) {
    if (b["holders"] == 1 && b["size"].get<std::uint64_t>() > 0 && !b.contains("kind")) victim = b["digest"];
  }
  ASSERT_FALSE(victim.empty()) << inspect.dump(2);
  auto d = ASSERT_OK(digest::Digest::parse(victim));
  std::string path = m_cache + "/blobs/sha256/" + d.hex();
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "not the layer"; }
  auto v = cachectl({"verify"});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_NE(v.out.find(victim), std::string::npos) << v.out;
  auto repair = cachectl({"verify", "--repair", "--refetch", "--insecure-registry", reg.host()});
  EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_EQ(cachectl({"verify"}).exit_code, 0);
  EXPECT_EQ(cachectl_json({"ls"})["images"].size(), 2u);
  EXPECT_EQ(digest::hash_file(path).value().str(), victim);  // fetched again

  // A running build's lease keeps its blobs through a prune --all.
  auto leased = ASSERT_OK(digest::Digest::parse(ls["images"][0]["manifest"].get<std::string>()));
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto lease = store::Lease::acquire(m_cache, {{leased}, {}, "itest build"});
    char c = lease ? 'y' : 'n';
    (void)!::write(from_child[1], &c, 1);
    (void)!::read(to_child[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(from_child[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto pruned = cachectl_json({"prune", "--all"});
  (void)!::write(to_child[1], "x", 1);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(pruned["removed"].size(), 1u) << pruned.dump(2);
  EXPECT_EQ(pruned["kept"]["leased"], 1);
  EXPECT_TRUE(fs::exists(m_cache + "/blobs/sha256/" + leased.hex()));
  EXPECT_EQ(cachectl({"verify"}).exit_code, 0);

  EXPECT_EQ(cachectl({"reindex"}).exit_code, 0);
  EXPECT_EQ(cachectl({"verify"}).exit_code, 0);
  EXPECT_EQ(cachectl({"gc", "--grace", "0s"}).exit_code, 0);
}

TEST_F(Cachectl, PruneKilledAtRandomMomentsLeavesAConsistentCache) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, "library/busybox:latest"));
  ASSERT_OK(seed_base_image(reg, "team/app:v1", {.extra_layers = 3}));
  auto dir = ASSERT_OK(TempDir::create("cachectl-kill"));
  m_cache = dir.file("cache");
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 6; ++round) {
    warm(reg);
    auto p = ASSERT_OK(Process::start({{tool_path("cachectl"), "prune", "--all", "--cache-dir", m_cache}}));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng)));
    ::kill(-p.pid(), SIGKILL);
    ::kill(p.pid(), SIGKILL);
    (void)p.wait(std::chrono::seconds(10));
    auto v = cachectl({"verify"});
    ASSERT_EQ(v.exit_code, 0) << "round " << round << ":\n" << v.out << v.err;
  }
  EXPECT_EQ(cachectl({"gc", "--grace", "0s"}).exit_code, 0);
  EXPECT_EQ(cachectl({"verify"}).exit_code, 0);
}

TEST_F(Cachectl, UsageErrorsExitTwo) {
  auto dir = ASSERT_OK(TempDir::create("cachectl-usage"));
  m_cache = dir.path();
  EXPECT_EQ(tool("cachectl", {}).exit_code, 2);
  EXPECT_EQ(cachectl({"prune"}).exit_code, 2);
  EXPECT_EQ(cachectl({"ls", "--sort", "nope"}).exit_code, 2);
  EXPECT_EQ(cachectl({"ls"}).exit_code, 0);
}

}  // namespace
}  // namespace strata::itest
