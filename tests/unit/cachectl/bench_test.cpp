// Benchmark (opt-in: STRATA_BENCH=1, run by bench/cachectl.sh): fills a cache dir with 100k
// entries (90k layer-cache entries, 10k images over 100 repositories, every blob a real file) and
// times ls, du, prune --dry-run and a prune that removes 10k entries. Targets: < 1 s for the
// first three, < 5 s for the prune. Prints medians of STRATA_BENCH_RUNS (default 3) runs.
// STRATA_BENCH_KEEP=DIR keeps a copy of the generated cache dir there, to profile cachectl on.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "cachectl/command.hpp"
#include "store/cache_dir.hpp"
#include "unit/store/store_test_support.hpp"

namespace strata::cachectl {
namespace {

using namespace std::chrono_literals;

// Writes a blob file directly (no fsync: a generator, not the store's durability path).
digest::Digest raw_blob(const std::string& root, const std::string& content) {
  auto d = digest::sha256(content);
  std::string path = root + "/blobs/sha256/" + d.hex();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0444);
  if (fd < 0 || ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) std::abort();
  ::close(fd);
  return d;
}

double time_run(const std::vector<std::string>& args, const store::ManualClock& clock, int expect = 0) {
  std::ostringstream out, err;
  Context ctx(out, err);
  ctx.clock = clock.clock();
  auto start = std::chrono::steady_clock::now();
  int rc = run(args, ctx);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(rc, expect) << err.str();
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(CachectlBench, HundredThousandEntries) {
  if (!std::getenv("STRATA_BENCH")) GTEST_SKIP() << "set STRATA_BENCH=1 to run the benchmark";
  int runs = std::getenv("STRATA_BENCH_RUNS") ? std::atoi(std::getenv("STRATA_BENCH_RUNS")) : 3;
  store::test::TempDir dir;
  store::ManualClock clock;
  store::CacheDirOptions o;
  o.clock = clock.clock();
  auto cache = store::CacheDir::open(dir.path(), o);
  ASSERT_TRUE(cache) << cache.error().message();
  const std::string root = dir.path();

  auto gen_start = std::chrono::steady_clock::now();
  {
    auto s = cache->index().write();
    ASSERT_TRUE(s);
    auto blob_record = [&](const digest::Digest& d, std::uint64_t size) {
      store::BlobRecord b;
      b.digest = d;
      b.size = size;
      b.added = clock.now();
      ASSERT_TRUE(s->put_blob(b));
    };
    std::vector<digest::Digest> base(100);
    for (int r = 0; r < 100; ++r) {
      std::string content = "base layer of repository " + std::to_string(r);
      base[r] = raw_blob(root, content);
      blob_record(base[r], content.size());
    }
    for (int i = 0; i < 10'000; ++i) {
      std::string ref = "r.io/repo" + std::to_string(i % 100) + ":v" + std::to_string(i);
      std::string mc = "manifest " + ref, cc = "config " + ref;
      store::ManifestRecord m;
      m.digest = raw_blob(root, mc);
      m.size = mc.size();
      m.config = raw_blob(root, cc);
      m.layers = {base[i % 100]};
      ASSERT_TRUE(s->put_manifest(m));
      blob_record(m.digest, mc.size());
      blob_record(*m.config, cc.size());
      store::ImageRecord img;
      img.reference = ref;
      img.platform = "linux/amd64";
      img.manifest = m.digest;
      img.manifest_size = m.size;
      bool old = i % 10 == 0;  // 1k old images
      img.fetched = clock.now() - (old ? 40 * 24h : 1h);
      img.last_used = img.fetched;
      img.total_size = mc.size() + cc.size();
      ASSERT_TRUE(s->put_image(img));
    }
    for (int i = 0; i < 90'000; ++i) {
      std::string key = "key" + std::to_string(i);
      std::string mc = "lc manifest " + key, lc = "lc layer " + key;
      store::LayerCacheRecord r;
      r.key = key;
      r.manifest = raw_blob(root, mc);
      r.layer = raw_blob(root, lc);
      r.diff_id = r.layer;
      r.step = "RUN build step " + std::to_string(i);
      r.platform = "linux/amd64";
      r.created = clock.now() - (i % 10 == 0 ? 40 * 24h : 1h);  // 9k old entries
      r.last_used = r.created;
      r.size = lc.size();
      ASSERT_TRUE(s->put_layer_cache(r));
      blob_record(r.manifest, mc.size());
      blob_record(r.layer, lc.size());
    }
    ASSERT_TRUE(s->commit());
  }
  std::printf("[bench] generated 100k entries in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - gen_start).count());
  std::fflush(stdout);
  if (const char* keep = std::getenv("STRATA_BENCH_KEEP")) {  // a copy to profile the tool on
    std::string cmd = "cp -a '" + root + "' '" + keep + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  std::vector<double> ls, du, dry;
  for (int i = 0; i < runs; ++i) {
    ls.push_back(time_run({"ls", "--cache-dir", root, "--json"}, clock));
    du.push_back(time_run({"du", "--cache-dir", root, "--json", "--older-than", "30d"}, clock));
    dry.push_back(time_run({"prune", "--cache-dir", root, "--older-than", "30d", "--dry-run", "--json"}, clock));
  }
  double prune = time_run({"prune", "--cache-dir", root, "--older-than", "30d", "--json"}, clock);
  std::printf("[bench] ls %.3f s, du %.3f s, prune --dry-run %.3f s (medians of %d); prune of 10k entries %.3f s\n",
              median(ls), median(du), median(dry), runs, prune);
  std::fflush(stdout);
  auto view = cache->index().read();
  ASSERT_TRUE(view);
  EXPECT_EQ(view->images()->size(), 9'000u);
  EXPECT_EQ(view->layer_cache_entries()->size(), 81'000u);
}

}  // namespace
}  // namespace strata::cachectl
