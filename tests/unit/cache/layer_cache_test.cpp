#include "cache/layer_cache.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cache_test_support.hpp"

namespace strata::cache {
namespace {

using namespace std::chrono_literals;
using Src = dockerfile::VisibleVariable::Source;

// A repo whose pushes fail, to check failures are reported.
class FailingRepo final : public CacheRepo {
 public:
  std::string describe() const override { return "failing"; }
  Result<std::optional<EntryImage>> find(std::string_view) override { return std::nullopt; }
  Result<void> fetch_layer(const EntryImage&, const store::BlobStore&) override {
    return fail(ErrorKind::network, "unreachable");
  }
  Result<void> push(const EntryImage&, const std::string&) override {
    return fail(ErrorKind::denied, "push to failing: denied");
  }
};

// A two-step "build": ARG VERSION, RUN make. Returns the keys.
std::vector<StepKey> keys_for(const std::string& version, const KeyOptions& options = {}) {
  auto chain = KeyChain::from_image("linux/amd64", digest::sha256("base"), options);
  StepInputs arg;
  arg.kind = StepKind::metadata;
  arg.instruction = "ARG VERSION";
  arg.display = "ARG VERSION";
  StepInputs run;
  run.kind = StepKind::run;
  run.instruction = "RUN make";
  run.display = "RUN make";
  run.variables = {{Src::arg, "VERSION", version}};
  StepInputs copy;
  copy.kind = StepKind::copy;
  copy.instruction = "COPY . /src";
  copy.display = "COPY . /src";
  copy.files = digest::sha256("ctx");
  return {chain.next(arg), chain.next(run), chain.next(copy)};
}

class LayerCacheTest : public ::testing::Test {
 protected:
  store::CacheDir open_dir(const std::string& name) {
    auto dir = store::CacheDir::open(m_tmp / name, {m_clock.clock()});
    EXPECT_TRUE(dir) << dir.error().message();
    return std::move(*dir);
  }
  CacheOptions options() {
    CacheOptions o;
    o.enabled = true;
    return o;
  }
  test::TempDir m_tmp;
  store::ManualClock m_clock;
};

TEST_F(LayerCacheTest, MissStoreThenLocalHit) {
  auto dir = open_dir("cache");
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  auto keys = keys_for("1");
  {
    LayerCache cache(options(), &dir, nullptr, nullptr, m_clock.clock());
    EXPECT_TRUE(cache.caches(StepKind::run));
    EXPECT_FALSE(cache.caches(StepKind::copy));
    EXPECT_FALSE(cache.caches(StepKind::metadata));
    EXPECT_FALSE(cache.lookup(keys[1], 0, 1));
    cache.store(keys[1], layer);
    auto report = cache.finish();
    ASSERT_EQ(report.steps.size(), 1u);
    EXPECT_EQ(report.steps[0].result, StepResult::miss);
    EXPECT_EQ(report.steps[0].reason, "not present");
    EXPECT_EQ(report.steps[0].stored, "local");
    EXPECT_EQ(report.steps[0].push, "");
  }
  LayerCache cache(options(), &dir, nullptr, nullptr, m_clock.clock());
  auto hit = cache.lookup(keys[1], 0, 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->source, "local");
  EXPECT_EQ(hit->layer.descriptor, layer.descriptor);
  EXPECT_EQ(test::read_file(hit->layer.path), "run layer");
  // A COPY step is skipped (--cache-copy-layers is off by default).
  EXPECT_FALSE(cache.lookup(keys[2], 0, 2));
  auto report = cache.finish();
  EXPECT_EQ(report.hits("local"), 1u);
  EXPECT_EQ(report.skipped(), 1u);
  EXPECT_EQ(report.bytes_from_cache(), 9u);
}

TEST_F(LayerCacheTest, MissIsExplainedByTheDifferingInputs) {
  auto dir = open_dir("cache");
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  {
    LayerCache cache(options(), &dir, nullptr, nullptr, m_clock.clock());
    auto keys = keys_for("1");
    cache.lookup(keys[1], 0, 1);
    cache.store(keys[1], layer);
  }
  LayerCache cache(options(), &dir, nullptr, nullptr, m_clock.clock());
  auto keys = keys_for("2");
  EXPECT_FALSE(cache.lookup(keys[1], 0, 1));
  auto report = cache.finish();
  ASSERT_EQ(report.steps.size(), 1u);
  EXPECT_EQ(report.steps[0].differs, std::vector<std::string>{"var:VERSION"});

  // Excluding the arg makes both builds share the key.
  LayerCache excluded(options(), &dir, nullptr, nullptr, m_clock.clock());
  auto k1 = keys_for("1", {{"VERSION"}});
  excluded.lookup(k1[1], 0, 1);
  excluded.store(k1[1], layer);
  EXPECT_TRUE(excluded.lookup(keys_for("2", {{"VERSION"}})[1], 0, 1));
}

TEST_F(LayerCacheTest, ExpiredEntryMissesWithReason) {
  auto dir = open_dir("cache");
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  auto keys = keys_for("1");
  LayerCache cache(options(), &dir, nullptr, nullptr, m_clock.clock());
  cache.lookup(keys[1], 0, 1);
  cache.store(keys[1], layer);
  m_clock.advance(337h);
  EXPECT_FALSE(cache.lookup(keys[1], 0, 1));
  auto report = cache.finish();
  ASSERT_EQ(report.steps.size(), 2u);
  EXPECT_NE(report.steps[1].reason.find("expired locally"), std::string::npos) << report.steps[1].reason;
}

TEST_F(LayerCacheTest, RemoteHitIsImportedIntoAFreshCacheDir) {
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  auto keys = keys_for("1");
  auto opts = options();
  opts.copy_layers = true;
  {
    auto dir = open_dir("node1");
    auto repo = make_oci_layout_repo(m_tmp / "repo");
    ASSERT_TRUE(repo);
    LayerCache cache(opts, &dir, std::move(*repo), nullptr, m_clock.clock());
    EXPECT_FALSE(cache.lookup(keys[1], 0, 1));
    cache.store(keys[1], layer);
    auto report = cache.finish();
    EXPECT_EQ(report.pushed, 1u);
    EXPECT_EQ(report.steps[0].push, "ok");
  }
  auto dir2 = open_dir("node2");
  {
    auto repo = make_oci_layout_repo(m_tmp / "repo");
    LayerCache cache(opts, &dir2, std::move(*repo), nullptr, m_clock.clock());
    auto hit = cache.lookup(keys[1], 0, 1);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->source, "remote");
    EXPECT_EQ(test::read_file(hit->layer.path), "run layer");
    // Later steps are still looked up after a miss.
    EXPECT_FALSE(cache.lookup(keys[2], 0, 2));
    auto report = cache.finish();
    EXPECT_EQ(report.hits("remote"), 1u);
    EXPECT_EQ(report.misses(), 1u);
    EXPECT_EQ(report.bytes_downloaded, 9u);
  }
  // Now local on node2, without any repo.
  LayerCache local_only(opts, &dir2, nullptr, nullptr, m_clock.clock());
  auto hit = local_only.lookup(keys[1], 0, 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->source, "local");

  // An entry older than the TTL in the repo is not used.
  m_clock.advance(400h);
  auto dir3 = open_dir("node3");
  auto repo = make_oci_layout_repo(m_tmp / "repo");
  LayerCache late(opts, &dir3, std::move(*repo), nullptr, m_clock.clock());
  EXPECT_FALSE(late.lookup(keys[1], 0, 1));
  auto report = late.finish();
  EXPECT_NE(report.steps[0].reason.find("expired in cache repo"), std::string::npos) << report.steps[0].reason;
}

TEST_F(LayerCacheTest, RemoteOnlyUsesTheFallbackStore) {
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  auto keys = keys_for("1");
  {
    auto repo = make_oci_layout_repo(m_tmp / "repo");
    LayerCache cache(options(), nullptr, std::move(*repo), nullptr, m_clock.clock());
    cache.lookup(keys[1], 0, 1);
    cache.store(keys[1], layer);
    EXPECT_EQ(cache.finish().pushed, 1u);
  }
  auto work = store::BlobStore::open(m_tmp / "work2");
  ASSERT_TRUE(work);
  auto repo = make_oci_layout_repo(m_tmp / "repo");
  LayerCache cache(options(), nullptr, std::move(*repo), &*work, m_clock.clock());
  auto hit = cache.lookup(keys[1], 0, 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer.path, work->path(layer.descriptor.digest));
}

TEST_F(LayerCacheTest, PushFailuresAreReportedAndNoPushCacheSkipsThem) {
  auto dir = open_dir("cache");
  auto layer = test::make_layer(m_tmp / "work/l1", "run layer");
  auto keys = keys_for("1");
  {
    LayerCache cache(options(), &dir, std::make_unique<FailingRepo>(), nullptr, m_clock.clock());
    cache.lookup(keys[1], 0, 1);
    cache.store(keys[1], layer);
    auto report = cache.finish();
    ASSERT_EQ(report.push_failures.size(), 1u);
    EXPECT_EQ(report.push_failures[0].key, keys[1].key);
    EXPECT_NE(report.push_failures[0].error.find("denied"), std::string::npos);
    EXPECT_EQ(report.steps[0].push, "failed");
    EXPECT_NE(report.summary_line().find("1 push failed"), std::string::npos) << report.summary_line();
  }
  auto opts = options();
  opts.push = false;
  LayerCache cache(opts, &dir, std::make_unique<FailingRepo>(), nullptr, m_clock.clock());
  cache.store(keys_for("3")[1], layer);
  auto report = cache.finish();
  EXPECT_TRUE(report.push_failures.empty());
  EXPECT_EQ(report.steps.back().push, "off");
}

TEST_F(LayerCacheTest, DisabledCacheDoesNothing) {
  auto dir = open_dir("cache");
  CacheOptions off;
  LayerCache cache(off, &dir, nullptr, nullptr, m_clock.clock());
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.caches(StepKind::run));
  auto keys = keys_for("1");
  EXPECT_FALSE(cache.lookup(keys[1], 0, 1));
  cache.store(keys[1], test::make_layer(m_tmp / "work/l1", "x"));
  EXPECT_EQ(cache.finish().summary_line(), "cache: off");
  auto session = dir.index().read();
  EXPECT_TRUE(session->layer_cache_entries()->empty());
}

}  // namespace
}  // namespace strata::cache
