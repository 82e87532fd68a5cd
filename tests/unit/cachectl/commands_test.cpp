// cachectl subcommands run in-process from argv arrays (as RocksDB's ldb_cmd_test) against temp
// cache dirs filled through the store API, with a manual clock.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "nlohmann/json.hpp"
#include "store/cache_dir.hpp"
#include "unit/store/store_test_support.hpp"

namespace strata::cachectl {
namespace {

using namespace std::chrono_literals;
using store::test::TempDir;

struct Ran {
  int code;
  std::string out;
  std::string err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

class CachectlTest : public ::testing::Test {
 protected:
  TempDir m_dir;
  store::ManualClock m_clock{store::to_unix_ms(std::chrono::system_clock::now())};

  Ran run(std::vector<std::string> args) {
    std::ostringstream out, err;
    Context ctx(out, err);
    ctx.clock = m_clock.clock();
    ctx.fs_space = [this](const std::string&) -> Result<prune::FsSpace> { return m_fs; };
    args.insert(args.begin() + (args.empty() ? 0 : 1), {"--cache-dir", m_dir.path()});
    int code = cachectl::run(args, ctx);
    return {code, out.str(), err.str()};
  }

  store::CacheDir cache() {
    store::CacheDirOptions o;
    o.clock = m_clock.clock();
    auto c = store::CacheDir::open(m_dir.path(), o);
    EXPECT_TRUE(c) << c.error().message();
    return std::move(*c);
  }

  digest::Digest put(const std::string& content) {
    auto c = cache();
    auto r = c.blobs().put(content);
    EXPECT_TRUE(r) << r.error().message();
    return r->digest;
  }

  // An image with its own config and manifest and the given (shared) layer contents.
  void add_image(const std::string& ref, const std::vector<std::string>& layers, std::chrono::hours ago) {
    auto c = cache();
    store::ManifestRecord m;
    m.digest = put("manifest of " + ref);
    m.size = ("manifest of " + ref).size();
    m.config = put("config of " + ref);
    for (const auto& l : layers) m.layers.push_back(put(l));
    m.platform = "linux/amd64";
    auto s = c.index().write();
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE(s->put_manifest(m));
    auto blob = [&](const digest::Digest& d, std::uint64_t size) {
      store::BlobRecord b;
      b.digest = d;
      b.size = size;
      ASSERT_TRUE(s->put_blob(b));
    };
    blob(*m.config, ("config of " + ref).size());
    std::uint64_t total = m.size + ("config of " + ref).size();
    for (std::size_t i = 0; i < layers.size(); ++i) {
      blob(m.layers[i], layers[i].size());
      total += layers[i].size();
    }
    store::ImageRecord r;
    r.reference = ref;
    r.platform = "linux/amd64";
    r.manifest = m.digest;
    r.manifest_size = m.size;
    r.fetched = m_clock.now() - ago;
    r.last_used = r.fetched;
    r.use_count = 1;
    r.total_size = total;
    ASSERT_TRUE(s->put_image(r));
    ASSERT_TRUE(s->commit());
  }

  void add_layer_entry(const std::string& key, const std::string& layer, std::chrono::hours ago) {
    auto c = cache();
    store::LayerCacheRecord r;
    r.key = key;
    r.manifest = put("lc manifest " + key);
    r.layer = put(layer);
    r.diff_id = r.layer;
    r.step = "RUN echo " + key;
    r.platform = "linux/amd64";
    r.created = m_clock.now() - ago;
    r.last_used = r.created;
    r.size = layer.size();
    auto s = c.index().write();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_layer_cache(r));
    ASSERT_TRUE(s->commit());
  }

  bool present(const std::string& content) { return cache().blobs().has(digest::sha256(content)); }

  prune::FsSpace m_fs{1ull << 40, 1ull << 41};
};

TEST_F(CachectlTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"frobnicate"}).code, 2);
  EXPECT_EQ(run({"ls", "--sort", "colour"}).code, 2);
  EXPECT_EQ(run({"ls", "--filter", "type=blob"}).code, 2);
  EXPECT_EQ(run({"prune"}).code, 2);  // nothing selected
  EXPECT_EQ(run({"prune", "--older-than", "soon"}).code, 2);
  EXPECT_EQ(run({"verify", "--refetch"}).code, 2);
  EXPECT_EQ(run({"--help"}).code, 0);
  auto help = run({"prune", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--max-used-space"), std::string::npos);
}

TEST_F(CachectlTest, MissingCacheDirFailsWithoutCreatingIt) {
  std::ostringstream out, err;
  Context ctx(out, err);
  EXPECT_EQ(cachectl::run({"ls", "--cache-dir", m_dir / "nope"}, ctx), 1);
  EXPECT_NE(err.str().find("does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "nope"));
}

TEST_F(CachectlTest, LsListsFiltersAndSorts) {
  add_image("r.io/a:1", {"layer-a"}, 1h);
  add_image("r.io/b:1", {"layer-b-is-bigger-than-a"}, 48h);
  add_layer_entry("k1", "lc layer", 5h);
  auto r = run({"ls", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  ASSERT_EQ(j["images"].size(), 2u);
  ASSERT_EQ(j["layers"].size(), 1u);
  EXPECT_EQ(j["images"][0]["reference"], "r.io/a:1");
  EXPECT_EQ(j["layers"][0]["step"], "RUN echo k1");

  r = run({"ls", "--json", "--filter", "until=24h"});
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(r.json()["images"].size(), 1u);
  EXPECT_EQ(r.json()["images"][0]["reference"], "r.io/b:1");
  EXPECT_EQ(r.json()["layers"].size(), 0u);

  r = run({"ls", "--json", "--filter", "type=image", "--sort", "size"});
  EXPECT_EQ(r.json()["images"][0]["reference"], "r.io/b:1");
  EXPECT_EQ(r.json()["layers"].size(), 0u);

  r = run({"ls", "--filter", "ref~=a:1$"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("r.io/a:1"), std::string::npos);
  EXPECT_EQ(r.out.find("r.io/b:1"), std::string::npos);
  EXPECT_NE(r.out.find(" ago"), std::string::npos) << r.out;
}

TEST_F(CachectlTest, DuSplitsSharedUniqueAndUnreferenced) {
  add_image("r.io/a:1", {"shared-layer", "only-a"}, 1h);
  add_image("r.io/b:1", {"shared-layer"}, 1h);
  put("an orphan blob");
  auto r = run({"du", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  EXPECT_EQ(j["shared"], std::string("shared-layer").size());
  EXPECT_EQ(j["unreferenced"]["bytes"], std::string("an orphan blob").size());
  EXPECT_EQ(j["unreferenced"]["count"], 1);
  EXPECT_EQ(j["reclaimable"]["entries"], 2);
  r = run({"du", "--json", "--keep", "r.io/b:1"});
  EXPECT_EQ(r.json()["reclaimable"]["entries"], 1);
  EXPECT_EQ(r.json()["reclaimable"]["bytes"],
            std::string("manifest of r.io/a:1").size() + std::string("config of r.io/a:1").size() + 6);
}

TEST_F(CachectlTest, PruneDryRunChangesNothingAndPruneRemovesRecordsThenBlobs) {
  add_image("r.io/old:1", {"shared", "old-only"}, 30 * 24h);
  add_image("r.io/new:1", {"shared"}, 1h);
  auto r = run({"prune", "--older-than", "14d", "--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json()["removed"].size(), 1u);
  EXPECT_EQ(r.json()["blobs"].size(), 3u);
  EXPECT_TRUE(present("old-only"));
  EXPECT_EQ(run({"ls", "--json"}).json()["images"].size(), 2u);

  r = run({"prune", "--older-than", "14d"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("removed 1 entries and 3 blobs"), std::string::npos) << r.out;
  EXPECT_FALSE(present("old-only"));
  EXPECT_FALSE(present("manifest of r.io/old:1"));
  EXPECT_TRUE(present("shared"));
  auto ls = run({"ls", "--json"}).json();
  ASSERT_EQ(ls["images"].size(), 1u);
  EXPECT_EQ(ls["images"][0]["reference"], "r.io/new:1");
  EXPECT_EQ(run({"verify"}).code, 0);
}

TEST_F(CachectlTest, PruneKeepFileAndMaxUsedSpace) {
  add_image("r.io/a:1", {std::string(5000, 'a')}, 3h);
  add_image("r.io/b:1", {std::string(5000, 'b')}, 2h);
  add_image("r.io/c:1", {std::string(5000, 'c')}, 1h);
  std::ofstream(m_dir / "keep.txt") << "# never\nr.io/a:1\n";
  auto r = run({"prune", "--max-used-space", "6000", "--keep-file", m_dir / "keep.txt", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  ASSERT_EQ(j["removed"].size(), 2u);
  EXPECT_EQ(j["removed"][0]["reference"], "r.io/b:1");
  EXPECT_EQ(j["removed"][0]["reason"], "max-used-space");
  EXPECT_TRUE(j["target_met"]);  // a (kept) alone is under 6000
  EXPECT_TRUE(present(std::string(5000, 'a')));
  EXPECT_FALSE(present(std::string(5000, 'b')));
}

TEST_F(CachectlTest, PruneNeverRemovesLeasedBlobs) {
  add_image("r.io/a:1", {"leased layer", "free layer"}, 30 * 24h);
  store::test::Signal ready, done;
  pid_t child = store::test::fork_child([&] {
    store::LeaseContents c;
    c.digests = {digest::sha256("leased layer")};
    c.owner = "test build";
    auto lease = store::Lease::acquire(m_dir.path(), c);
    if (!lease) return 1;
    ready.notify();
    done.wait();
    return 0;
  });
  ASSERT_TRUE(ready.wait());
  auto r = run({"prune", "--all", "--json"});
  done.notify();
  EXPECT_EQ(store::test::wait_child(child), 0);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json()["removed"].size(), 1u);
  EXPECT_TRUE(present("leased layer"));
  EXPECT_FALSE(present("free layer"));
  // Now unreferenced and no longer leased: gc takes it.
  m_clock.advance(2h);
  r = run({"gc", "--grace", "0s", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json()["blobs"].size(), 1u);
  EXPECT_FALSE(present("leased layer"));
}

TEST_F(CachectlTest, GcRemovesOrphansButRespectsGrace) {
  add_image("r.io/a:1", {"kept"}, 1h);
  put("orphan");
  auto r = run({"gc", "--json"});  // default grace 1h: the orphan was just written
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json()["blobs"].size(), 0u);
  EXPECT_TRUE(present("orphan"));
  m_clock.advance(2h);  // the orphan is now older than any grace below
  r = run({"gc", "--dry-run", "--json"});
  EXPECT_EQ(r.json()["blobs"].size(), 1u);
  EXPECT_TRUE(present("orphan"));
  r = run({"gc", "--grace", "0s"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(present("orphan"));
  EXPECT_TRUE(present("kept"));
  EXPECT_EQ(run({"verify"}).code, 0);
}

TEST_F(CachectlTest, VerifyFindsCorruptAndMissingBlobsAndRepairs) {
  add_image("r.io/a:1", {"good layer"}, 1h);
  add_image("r.io/b:1", {"bad layer"}, 1h);
  add_image("r.io/c:1", {"lost layer"}, 1h);
  {
    auto c = cache();
    std::ofstream(c.blobs().path(digest::sha256("bad layer"))) << "evil layer";
    std::filesystem::remove(c.blobs().path(digest::sha256("lost layer")));
  }
  auto r = run({"verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(digest::sha256("bad layer").str()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(digest::sha256("lost layer").str()), std::string::npos);
  EXPECT_NE(r.out.find("r.io/b:1"), std::string::npos);

  r = run({"verify", "--repair", "--dry-run"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(std::filesystem::exists(cache().blobs().path(digest::sha256("bad layer"))));

  r = run({"verify", "--repair", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.json()["records_dropped"], 2);
  EXPECT_EQ(run({"verify"}).code, 0);
  auto ls = run({"ls", "--json"}).json();
  ASSERT_EQ(ls["images"].size(), 1u);
  EXPECT_EQ(ls["images"][0]["reference"], "r.io/a:1");
}

TEST_F(CachectlTest, InspectShowsSharing) {
  add_image("r.io/a:1", {"common"}, 1h);
  add_image("r.io/b:1", {"common"}, 1h);
  auto r = run({"inspect", "r.io/a:1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  ASSERT_EQ(j["entries"].size(), 1u);
  EXPECT_EQ(j["entries"][0]["shared_with"][0]["name"], "r.io/b:1");
  r = run({"inspect", digest::sha256("common").str(), "--json"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.json()["blob"]["held_by"].size(), 2u);
  r = run({"inspect", digest::sha256("manifest of r.io/b:1").str()});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("r.io/b:1"), std::string::npos);
  EXPECT_EQ(run({"inspect", "r.io/zzz:1"}).code, 1);
}

TEST_F(CachectlTest, StatsCountSinceReset) {
  {
    auto c = cache();
    auto s = c.index().write();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add_stat("warmer", "misses", 3));
    ASSERT_TRUE(s->add_stat("executor", "hits", 7));
    ASSERT_TRUE(s->add_stat("executor", "bytes_served", 1000));
    ASSERT_TRUE(s->commit());
  }
  auto r = run({"stats", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json()["tools"]["executor"]["hits"], 7);
  EXPECT_EQ(r.json()["tools"]["warmer"]["misses"], 3);
  EXPECT_EQ(run({"stats", "--reset", "--dry-run", "--json"}).json()["tools"]["executor"]["hits"], 7);
  ASSERT_EQ(run({"stats", "--reset"}).code, 0);
  {
    auto c = cache();
    auto s = c.index().write();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add_stat("executor", "hits", 2));
    ASSERT_TRUE(s->commit());
  }
  r = run({"stats", "--json"});
  EXPECT_EQ(r.json()["tools"]["executor"]["hits"], 2);
  EXPECT_EQ(r.json()["tools"]["warmer"]["misses"], 0);
  EXPECT_NE(r.json()["since"], "");
  EXPECT_EQ(r.json()["tools"].count("baseline:executor"), 0u);
}

TEST_F(CachectlTest, ReindexRebuildsFromBlobs) {
  add_image("r.io/a:1", {"l"}, 1h);
  auto r = run({"reindex", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(r.json()["blobs"].get<int>(), 3);
}

}  // namespace
}  // namespace strata::cachectl

namespace strata::cachectl {
namespace {

TEST(CachectlSupport, Rfc3339MatchesStrftime) {
  EXPECT_EQ(rfc3339(store::TimePoint{}), "");
  for (std::int64_t secs : {1LL, 951782400LL /* 2000-02-29 */, 1709208000LL /* 2024-02-29 12:00 */, 1767225599LL,
                            4102444800LL /* 2100-01-01 */, 1700000000LL}) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    EXPECT_EQ(rfc3339(store::from_unix_ms(secs * 1000 + 999)), want) << secs;
  }
}

}  // namespace
}  // namespace strata::cachectl
