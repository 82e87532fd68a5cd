// The prune policy on synthetic records with a manual clock: what is evicted, in which order,
// what is protected, and which blobs become free.
#include "prune/policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/clock.hpp"

namespace strata::prune {
namespace {

using namespace std::chrono_literals;
using store::ManualClock;

digest::Digest D(const std::string& s) { return digest::sha256(s); }

// A snapshot builder: images share blobs by name.
struct Fixture {
  ManualClock clock;
  Snapshot snap;

  void blob(const std::string& name, std::uint64_t size) {
    store::BlobRecord b;
    b.digest = D(name);
    b.size = size;
    snap.blobs.push_back(b);
  }
  // An image whose manifest "m:<ref>" holds config "c:<ref>" and the given layers; last used `ago`.
  void image(const std::string& ref, std::vector<std::string> layers, std::chrono::milliseconds ago,
             std::uint64_t uses = 1) {
    store::ManifestRecord m;
    m.digest = D("m:" + ref);
    m.config = D("c:" + ref);
    for (const auto& l : layers) m.layers.push_back(D(l));
    m.size = 100;
    snap.manifests.push_back(m);
    blob("m:" + ref, 100);
    blob("c:" + ref, 10);
    store::ImageRecord r;
    r.reference = ref;
    r.platform = "linux/amd64";
    r.manifest = m.digest;
    r.manifest_size = 100;
    r.fetched = clock.now() - ago - 1h;
    r.last_used = clock.now() - ago;
    r.use_count = uses;
    snap.images.push_back(r);
  }
  void layer(const std::string& key, const std::string& layer_blob, std::chrono::milliseconds ago) {
    store::LayerCacheRecord r;
    r.key = key;
    r.manifest = D("lm:" + key);
    r.layer = D(layer_blob);
    r.step = "RUN make " + key;
    r.created = clock.now() - ago;
    r.last_used = r.created;
    blob("lm:" + key, 50);
    snap.layers.push_back(r);
  }
};

std::vector<std::string> evicted(const CacheGraph& g, const Plan& p) {
  std::vector<std::string> out;
  for (const auto& e : p.evict) out.push_back(g.entries()[e.entry].name);
  return out;
}

std::set<digest::Digest> freed(const CacheGraph& g, const Plan& p) {
  std::set<digest::Digest> out;
  for (auto b : p.blobs) out.insert(g.digest(b));
  return out;
}

TEST(CacheGraph, CountsHoldersAndRepositories) {
  Fixture f;
  f.blob("base", 1000);
  f.blob("app", 200);
  f.image("r.io/a:1", {"base", "app"}, 0ms);
  f.image("r.io/b:1", {"base"}, 0ms);
  auto g = CacheGraph::build(f.snap);
  ASSERT_EQ(g.entries().size(), 2u);
  EXPECT_EQ(g.refcounts()[*g.find(D("base"))], 2u);
  EXPECT_EQ(g.refcounts()[*g.find(D("app"))], 1u);
  EXPECT_EQ(g.holders(*g.find(D("base"))).size(), 2u);
  EXPECT_EQ(g.known_bytes(), 1000u + 200 + 2 * 110);
  EXPECT_EQ(CacheGraph::repository_of("127.0.0.1:5000/x/y:v1"), "127.0.0.1:5000/x/y");
  EXPECT_EQ(CacheGraph::repository_of("r.io/x@sha256:00"), "r.io/x");
  EXPECT_EQ(CacheGraph::repository_of("r.io:443/x:t@sha256:00"), "r.io:443/x");
}

TEST(Policy, OlderThanEvictsOnlyOldEntriesAndKeepsSharedBlobs) {
  Fixture f;
  f.blob("base", 1000);
  f.blob("old-app", 200);
  f.image("r.io/old:1", {"base", "old-app"}, 20 * 24h);
  f.image("r.io/new:1", {"base"}, 1h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.older_than = 14 * 24h;
  auto plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"r.io/old:1"});
  EXPECT_EQ(freed(g, *plan), (std::set<digest::Digest>{D("m:r.io/old:1"), D("c:r.io/old:1"), D("old-app")}));
  EXPECT_EQ(plan->bytes, 100u + 10 + 200);
  EXPECT_EQ(plan->evict[0].reason, Reason::age);

  f.clock.advance(14 * 24h);  // now the other one is old too
  plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->evict.size(), 2u);
  EXPECT_TRUE(freed(g, *plan).count(D("base")));
}

TEST(Policy, KeepListAndLeasesProtect) {
  Fixture f;
  f.blob("l", 10);
  f.image("r.io/a:1", {"l"}, 30 * 24h);
  f.image("r.io/b:1", {"l"}, 30 * 24h);
  f.image("r.io/c:1", {"l"}, 30 * 24h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.older_than = 24h;
  p.keep = {"r.io/a:1"};
  store::LeaseContents lease;
  lease.digests = {D("m:r.io/b:1")};
  auto plan = prune::plan(g, p, lease, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"r.io/c:1"});
  EXPECT_EQ(plan->kept_by_list, 1u);
  EXPECT_EQ(plan->kept_by_lease, 1u);
  EXPECT_FALSE(freed(g, *plan).count(D("l")));
}

TEST(Policy, LeasedBlobIsNeverFreedEvenWhenItsEntryGoes) {
  Fixture f;
  f.blob("l", 10);
  f.image("r.io/a:1", {"l"}, 30 * 24h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.all = true;
  store::LeaseContents lease;
  lease.digests = {D("l")};
  auto plan = prune::plan(g, p, lease, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->evict.size(), 1u);
  EXPECT_FALSE(freed(g, *plan).count(D("l")));
  EXPECT_TRUE(freed(g, *plan).count(D("m:r.io/a:1")));
}

TEST(Policy, LeaseOnAManifestCoversItsLayersThroughTheClosure) {
  Fixture f;
  f.blob("l", 10);
  f.image("r.io/a:1", {"l"}, 30 * 24h);
  f.layer("k1", "l", 30 * 24h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.filters.push_back(*parse_filter("type=layer"));
  store::LeaseContents lease;
  lease.digests = {D("m:r.io/a:1")};  // names only the manifest
  auto plan = prune::plan(g, p, lease, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"k1"});
  EXPECT_FALSE(freed(g, *plan).count(D("l")));  // still held by the image anyway
  EXPECT_TRUE(freed(g, *plan).count(D("lm:k1")));
}

TEST(Policy, KeepLastKeepsTheMostRecentPerRepositoryAndLeavesLayersAlone) {
  Fixture f;
  f.image("r.io/app:1", {}, 5h);
  f.image("r.io/app:2", {}, 3h);
  f.image("r.io/app:3", {}, 1h);
  f.image("r.io/other:1", {}, 9h);
  f.layer("k", "x", 100h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.keep_last = 2;
  auto plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"r.io/app:1"});
  EXPECT_EQ(plan->evict[0].reason, Reason::keep_last);
  EXPECT_EQ(plan->kept_by_keep_last, 3u);

  // Combined with an age rule, keep-last protects: app:2 is old but among the last two.
  p.older_than = 2h;
  plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  auto names = evicted(g, *plan);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"k", "r.io/app:1"}));
}

TEST(Policy, MaxUsedSpaceEvictsLeastRecentlyThenLeastFrequentlyUsed) {
  Fixture f;
  f.blob("a", 1000);
  f.blob("b", 1000);
  f.blob("c", 1000);
  f.image("r.io/a:1", {"a"}, 3h, 50);
  f.image("r.io/b:1", {"b"}, 3h, 2);  // same age, fewer uses: goes first
  f.image("r.io/c:1", {"c"}, 1h, 1);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.max_used_space = g.known_bytes() - 500;
  auto plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"r.io/b:1"});
  EXPECT_TRUE(plan->target_met);
  EXPECT_LE(plan->used_after, *p.max_used_space);

  p.max_used_space = 2000;
  plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), (std::vector<std::string>{"r.io/b:1", "r.io/a:1"}));

  p.max_used_space = 0;
  p.keep = {"r.io/c:1"};
  plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->target_met);
  EXPECT_EQ(plan->evict.size(), 2u);
}

TEST(Policy, SharedBytesDoNotCountUntilTheLastHolderGoes) {
  Fixture f;
  f.blob("big", 10'000);
  f.image("r.io/a:1", {"big"}, 3h);
  f.image("r.io/b:1", {"big"}, 2h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.max_used_space = g.known_bytes() - 5000;  // only freeing "big" gets there
  auto plan = prune::plan(g, p, {}, f.clock.now());
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->evict.size(), 2u);
  EXPECT_TRUE(freed(g, *plan).count(D("big")));
}

TEST(Policy, MinFreeSpaceUsesTheFileSystemFigure) {
  Fixture f;
  f.blob("a", 4000);
  f.blob("b", 4000);
  f.image("r.io/a:1", {"a"}, 3h);
  f.image("r.io/b:1", {"b"}, 1h);
  auto g = CacheGraph::build(f.snap);
  Policy p;
  p.min_free_space = 13'000;
  EXPECT_FALSE(prune::plan(g, p, {}, f.clock.now()));  // needs the fs figure
  auto plan = prune::plan(g, p, {}, f.clock.now(), FsSpace{10'000, 100'000});
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"r.io/a:1"});
  EXPECT_EQ(plan->evict[0].reason, Reason::min_free_space);
  plan = prune::plan(g, p, {}, f.clock.now(), FsSpace{20'000, 100'000});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->evict.empty());
}

TEST(Filter, ParsesAndMatches) {
  Fixture f;
  f.image("r.io/team/app:1", {}, 3h);
  f.layer("abc123", "x", 30h);
  auto g = CacheGraph::build(f.snap);
  const auto& img = g.entries()[0];
  const auto& lay = g.entries()[1];
  auto now = f.clock.now();
  EXPECT_TRUE(matches(*parse_filter("type=image"), g, img, now));
  EXPECT_FALSE(matches(*parse_filter("type=image"), g, lay, now));
  EXPECT_TRUE(matches(*parse_filter("until=24h"), g, lay, now));
  EXPECT_FALSE(matches(*parse_filter("until=24h"), g, img, now));
  EXPECT_TRUE(matches(*parse_filter("ref~=team/.*:1$"), g, img, now));
  EXPECT_TRUE(matches(*parse_filter("ref~=RUN make"), g, lay, now));  // step text
  EXPECT_FALSE(matches(*parse_filter("ref~=^other"), g, img, now));
  EXPECT_FALSE(parse_filter("type=blob"));
  EXPECT_FALSE(parse_filter("until=soon"));
  EXPECT_FALSE(parse_filter("ref~=("));
  EXPECT_FALSE(parse_filter("color=red"));
  EXPECT_FALSE(parse_filter("nonsense"));

  Policy p;
  p.filters = {*parse_filter("type=layer")};
  auto plan = prune::plan(g, p, {}, now);
  ASSERT_TRUE(plan);
  EXPECT_EQ(evicted(g, *plan), std::vector<std::string>{"abc123"});
}

}  // namespace
}  // namespace strata::prune
