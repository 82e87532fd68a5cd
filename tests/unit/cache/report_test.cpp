#include "cache/report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cache/push_queue.hpp"
#include "cache_test_support.hpp"

namespace strata::cache {
namespace {

CacheReport sample() {
  CacheReport r;
  r.enabled = true;
  r.ttl = std::chrono::hours(336);
  r.repo = "127.0.0.1:5000/app/cache";
  r.local = "/cache";
  StepRecord hit_local{0, 1, "RUN a", StepKind::run, "k1", StepResult::hit, "local", "", {}, 1000, "", "", ""};
  StepRecord hit_remote{0, 2, "RUN b", StepKind::run, "k2", StepResult::hit, "remote", "", {}, 2048, "", "", ""};
  StepRecord miss{1, 0, "RUN c", StepKind::run, "k3", StepResult::miss, "", "not present", {"var:X"}, 0, "local", "failed", "denied"};
  StepRecord skip{1, 1, "COPY . /", StepKind::copy, "k4", StepResult::skipped, "", "caching of copy layers is off", {}, 0, "", "", ""};
  r.steps = {hit_local, hit_remote, miss, skip};
  r.push_failures = {{"k3", "denied"}};
  r.pushed = 0;
  r.bytes_downloaded = 2048;
  r.time = std::chrono::milliseconds(1234);
  return r;
}

TEST(CacheReport, SummaryLine) {
  auto r = sample();
  EXPECT_EQ(r.hits(), 2u);
  EXPECT_EQ(r.misses(), 1u);
  auto line = r.summary_line();
  EXPECT_NE(line.find("3 steps, 2 hits (1 local, 1 remote), 1 misses"), std::string::npos) << line;
  EXPECT_NE(line.find("1.2s"), std::string::npos) << line;
  EXPECT_NE(line.find("1 push failed"), std::string::npos) << line;
}

TEST(CacheReport, JsonDocument) {
  test::TempDir tmp;
  auto path = tmp / "report.json";
  ASSERT_TRUE(write_report(sample(), path));
  auto j = nlohmann::json::parse(test::read_file(path));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["ttl"], "336h0m0s");
  EXPECT_EQ(j["summary"]["hits"], 2);
  EXPECT_EQ(j["summary"]["hitsLocal"], 1);
  EXPECT_EQ(j["summary"]["hitsRemote"], 1);
  EXPECT_EQ(j["summary"]["misses"], 1);
  EXPECT_EQ(j["summary"]["skipped"], 1);
  EXPECT_EQ(j["summary"]["bytesFromCache"], 3048);
  EXPECT_EQ(j["summary"]["bytesDownloaded"], 2048);
  EXPECT_EQ(j["summary"]["pushFailures"], 1);
  ASSERT_EQ(j["steps"].size(), 4u);
  EXPECT_EQ(j["steps"][0]["source"], "local");
  EXPECT_EQ(j["steps"][2]["result"], "miss");
  EXPECT_EQ(j["steps"][2]["reason"], "not present");
  EXPECT_EQ(j["steps"][2]["differs"][0], "var:X");
  EXPECT_EQ(j["steps"][2]["pushError"], "denied");
  EXPECT_EQ(j["steps"][3]["result"], "skipped");
  EXPECT_EQ(j["pushFailures"][0]["key"], "k3");
  EXPECT_FALSE(write_report(sample(), tmp / "missing/dir/report.json"));
}

TEST(PushQueue, RunsEveryJobAndKeepsFailures) {
  PushQueue queue(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) {
    queue.enqueue("job" + std::to_string(i), [&ran, i]() -> Result<void> {
      ++ran;
      if (i % 3 == 0) return fail(ErrorKind::network, "boom " + std::to_string(i));
      return {};
    });
  }
  auto outcomes = queue.drain();
  EXPECT_EQ(ran.load(), 10);
  ASSERT_EQ(outcomes.size(), 10u);
  int failed = 0;
  for (const auto& o : outcomes) failed += o.error.has_value();
  EXPECT_EQ(failed, 4);
  EXPECT_TRUE(queue.drain().empty());
  EXPECT_EQ(queue.pending(), 0u);
}

}  // namespace
}  // namespace strata::cache
