#include "store/index.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include "store/cache_dir.hpp"
#include "store/file_ops.hpp"
#include "store/index_codec.hpp"
#include "store/oci_layout.hpp"
#include "store_test_support.hpp"

namespace strata::store {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

digest::Digest D(std::string_view s) { return digest::sha256(s); }

ImageRecord sample_image(std::string ref = "127.0.0.1:5000/library/busybox:latest",
                         std::string platform = "linux/amd64") {
  ImageRecord r;
  r.reference = std::move(ref);
  r.platform = std::move(platform);
  r.manifest = D("manifest-" + r.platform);
  r.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
  r.manifest_size = 428;
  r.index = D("index");
  r.index_media_type = "application/vnd.oci.image.index.v1+json";
  r.index_size = 1024;
  r.fetched = from_unix_ms(1'700'000'000'123);
  r.last_used = from_unix_ms(1'700'000'100'000);
  r.use_count = 3;
  r.total_size = 2'000'000;
  return r;
}

void expect_same(const ImageRecord& a, const ImageRecord& b) {
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.platform, b.platform);
  EXPECT_EQ(a.manifest, b.manifest);
  EXPECT_EQ(a.manifest_media_type, b.manifest_media_type);
  EXPECT_EQ(a.manifest_size, b.manifest_size);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.index_media_type, b.index_media_type);
  EXPECT_EQ(a.index_size, b.index_size);
  EXPECT_EQ(a.fetched, b.fetched);
  EXPECT_EQ(a.last_used, b.last_used);
  EXPECT_EQ(a.use_count, b.use_count);
  EXPECT_EQ(a.total_size, b.total_size);
}

Index open_index(const TempDir& dir, Clock clock = system_clock(), std::chrono::milliseconds timeout = 5s) {
  auto i = Index::open(dir.path(), IndexOptions{timeout, std::move(clock)});
  if (!i) ADD_FAILURE() << i.error().message();
  return std::move(*i);
}

TEST(IndexCodec, KeysGroupByKindAndReference) {
  EXPECT_EQ(codec::image_key("r:1", "linux/amd64"), std::string("img/r:1\0linux/amd64", 19));
  EXPECT_EQ(codec::image_key("r:1", "linux/arm64").rfind(codec::image_prefix("r:1"), 0), 0u);
  EXPECT_NE(codec::image_key("r:10", "x").rfind(codec::image_prefix("r:1"), 0), 0u)
      << "a reference's prefix must not match a longer reference";
  EXPECT_EQ(codec::blob_key(D("x")), "blob/" + D("x").str());
}

TEST(IndexCodec, CorruptValuesAreReported) {
  auto r = codec::decode_blob(codec::blob_key(D("x")), "{not json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  auto m = codec::decode_manifest(codec::manifest_key(D("x")), R"({"k":"weird"})");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind(), ErrorKind::corrupt);
  EXPECT_FALSE(codec::decode_image("img/no-separator", "{}"));
  EXPECT_FALSE(codec::decode_schema_version("x1"));
}

TEST(Index, RecordsRoundTrip) {
  TempDir dir;
  Index index = open_index(dir);
  ImageRecord img = sample_image();
  ImageRecord single = sample_image("docker.io/library/alpine:3.19", "linux/arm64/v8");
  single.index.reset();
  single.index_media_type.clear();
  single.index_size = 0;
  ManifestRecord man{ManifestKind::image, img.manifest, "application/vnd.oci.image.manifest.v1+json", 428,
                     D("config"), {D("l1"), D("l2")}, {}, "linux/amd64", from_unix_ms(42)};
  ManifestRecord idx{ManifestKind::index, D("index"), "application/vnd.oci.image.index.v1+json", 1024,
                     std::nullopt, {}, {img.manifest, D("other")}, "", from_unix_ms(43)};
  BlobRecord blob{D("l1"), 1234, "application/vnd.oci.image.layer.v1.tar+gzip", from_unix_ms(1), from_unix_ms(2), 7};
  LayerCacheRecord lc{"0123abcd", D("lc-manifest"), D("lc-layer"), D("lc-diff"), "RUN apt-get update",
                      "linux/amd64", from_unix_ms(5), from_unix_ms(6), 9, 4096};
  {
    auto w = index.write();
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->put_image(img));
    ASSERT_TRUE(w->put_image(single));
    ASSERT_TRUE(w->put_manifest(man));
    ASSERT_TRUE(w->put_manifest(idx));
    ASSERT_TRUE(w->put_blob(blob));
    ASSERT_TRUE(w->put_layer_cache(lc));
    ASSERT_TRUE(w->add_stat("warmer", "bytes_fetched", 100));
    ASSERT_TRUE(w->add_stat("warmer", "bytes_fetched", 23));
    ASSERT_TRUE(w->add_stat("executor", "hits", 1));
    ASSERT_TRUE(w->commit());
  }
  auto r = index.read();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->schema_version(), codec::k_schema_version);
  expect_same(*r->image(img.reference, img.platform), img);
  expect_same(*r->image(single.reference, single.platform), single);
  EXPECT_EQ(r->image(img.reference, "linux/s390x").error().kind(), ErrorKind::not_found);
  EXPECT_EQ(r->images()->size(), 2u);
  ASSERT_EQ(r->images_of(img.reference)->size(), 1u);

  auto m = *r->manifest(man.digest);
  EXPECT_EQ(m.kind, ManifestKind::image);
  EXPECT_EQ(m.config, man.config);
  EXPECT_EQ(m.layers, man.layers);
  EXPECT_EQ(m.platform, "linux/amd64");
  EXPECT_EQ(m.added, man.added);
  EXPECT_EQ(m.references().size(), 3u);
  auto i = *r->manifest(idx.digest);
  EXPECT_EQ(i.kind, ManifestKind::index);
  EXPECT_EQ(i.manifests, idx.manifests);
  EXPECT_FALSE(i.config);
  EXPECT_EQ(r->manifests()->size(), 2u);

  auto b = *r->blob(blob.digest);
  EXPECT_EQ(b.size, 1234u);
  EXPECT_EQ(b.media_type, blob.media_type);
  EXPECT_EQ(b.last_used, blob.last_used);
  EXPECT_EQ(b.use_count, 7u);

  auto l = *r->layer_cache("0123abcd");
  EXPECT_EQ(l.manifest, lc.manifest);
  EXPECT_EQ(l.layer, lc.layer);
  EXPECT_EQ(l.diff_id, lc.diff_id);
  EXPECT_EQ(l.step, lc.step);
  EXPECT_EQ(l.hits, 9u);
  EXPECT_EQ(l.size, 4096u);
  EXPECT_EQ(r->layer_cache_entries()->size(), 1u);

  EXPECT_EQ(*r->stat("warmer", "bytes_fetched"), 123u);
  EXPECT_EQ(*r->stat("warmer", "never"), 0u);
  EXPECT_EQ(r->stats()->size(), 2u);
}

TEST(Index, WriteSessionSeesItsOwnChangesAndDiscardsWithoutCommit) {
  TempDir dir;
  Index index = open_index(dir);
  {
    auto w = *index.write();
    ASSERT_TRUE(w.put_blob({D("a"), 1, "", {}, {}, 0}));
    EXPECT_TRUE(w.blob(D("a"))) << "staged writes are visible inside the session";
    EXPECT_EQ(w.blobs()->size(), 1u);
    // no commit
  }
  {
    auto r = *index.read();
    EXPECT_EQ(r.blob(D("a")).error().kind(), ErrorKind::not_found);
  }
  {
    auto w = *index.write();
    ASSERT_TRUE(w.put_blob({D("a"), 1, "", {}, {}, 0}));
    ASSERT_TRUE(w.put_blob({D("b"), 2, "", {}, {}, 0}));
    ASSERT_TRUE(w.commit());
    ASSERT_TRUE(w.delete_blob(D("a")));
    EXPECT_EQ(w.blobs()->size(), 1u) << "a staged delete hides the committed record";
    ASSERT_TRUE(w.commit());
  }
  auto r = *index.read();
  EXPECT_FALSE(r.blob(D("a")));
  EXPECT_TRUE(r.blob(D("b")));
}

TEST(Index, TouchUsesTheInjectedClock) {
  TempDir dir;
  ManualClock clock;
  Index index = open_index(dir, clock.clock());
  {
    auto w = *index.write();
    ASSERT_TRUE(w.put_image(sample_image()));
    ASSERT_TRUE(w.put_blob({D("a"), 1, "", clock.now(), clock.now(), 0}));
    ASSERT_TRUE(w.put_layer_cache({"k", D("m"), D("l"), D("d"), "RUN x", "linux/amd64", clock.now(), clock.now(), 0, 1}));
    ASSERT_TRUE(w.commit());
  }
  clock.advance(72h);
  {
    auto w = *index.write();
    ASSERT_TRUE(w.touch_image(sample_image().reference, "linux/amd64"));
    ASSERT_TRUE(w.touch_blob(D("a")));
    ASSERT_TRUE(w.hit_layer_cache("k"));
    EXPECT_EQ(w.touch_blob(D("missing")).error().kind(), ErrorKind::not_found);
    ASSERT_TRUE(w.commit());
  }
  auto r = *index.read();
  EXPECT_EQ(r.image(sample_image().reference, "linux/amd64")->use_count, 4u);
  EXPECT_EQ(r.image(sample_image().reference, "linux/amd64")->last_used, clock.now());
  EXPECT_EQ(r.blob(D("a"))->last_used, clock.now());
  EXPECT_EQ(r.blob(D("a"))->use_count, 1u);
  EXPECT_EQ(r.blob(D("a"))->added + 72h, clock.now());
  EXPECT_EQ(r.layer_cache("k")->hits, 1u);
}

TEST(Index, RejectsInvalidRecords) {
  TempDir dir;
  Index index = open_index(dir);
  auto w = *index.write();
  ImageRecord bad = sample_image();
  bad.reference = std::string("a\0b", 3);
  EXPECT_EQ(w.put_image(bad).error().kind(), ErrorKind::invalid_argument);
  bad = sample_image();
  bad.manifest = {};
  EXPECT_EQ(w.put_image(bad).error().kind(), ErrorKind::invalid_argument);
  EXPECT_EQ(w.put_blob({}).error().kind(), ErrorKind::invalid_argument);
}

TEST(Index, ReadingAnEmptyCacheDirFindsNothing) {
  TempDir dir;
  Index index = open_index(dir);
  auto r = index.read();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->schema_version(), 0);
  EXPECT_TRUE(r->images()->empty());
  EXPECT_EQ(r->blob(D("x")).error().kind(), ErrorKind::not_found);
  EXPECT_EQ(*index.schema_state(), SchemaState::empty);
}

TEST(Index, SessionsExcludeEachOtherInProcess) {
  TempDir dir;
  Index index = open_index(dir, system_clock(), 50ms);
  {
    auto w = *index.write();
    ASSERT_TRUE(w.commit());
  }
  {
    auto r1 = index.read();
    auto r2 = index.read();
    ASSERT_TRUE(r1);
    ASSERT_TRUE(r2) << "readers share";
    auto w = index.write();
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().kind(), ErrorKind::conflict);
    EXPECT_NE(w.error().message().find("busy"), std::string::npos);
  }
  EXPECT_TRUE(index.write());
}

// Another process holds the exclusive lock: our sessions wait and then time out with conflict;
// once it is gone they go through. And the other way round with a reader child.
TEST(Index, SessionLockingBetweenProcesses) {
  TempDir dir;
  Index index = open_index(dir, system_clock(), 100ms);
  {
    auto w = *index.write();
    ASSERT_TRUE(w.put_blob({D("a"), 1, "", {}, {}, 0}));
    ASSERT_TRUE(w.commit());
  }
  {
    test::Signal child_has_lock, parent_done;
    pid_t child = test::fork_child([&] {
      auto idx = Index::open(dir.path(), IndexOptions{100ms, system_clock()});
      // Only flock is taken exclusively here: RocksDB must not be opened read-write in a
      // forked child of a process that already used it (its thread pool did not survive fork).
      auto lock = lock_path(dir / "index.lock", LockMode::exclusive, 1s);
      if (!lock) return 1;
      child_has_lock.notify();
      parent_done.wait();
      return 0;
    });
    ASSERT_TRUE(child_has_lock.wait());
    auto t0 = std::chrono::steady_clock::now();
    auto r = index.read();
    auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::conflict);
    EXPECT_TRUE(r.error().retryable());
    EXPECT_GE(waited, 100ms);
    auto w = index.write();
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().kind(), ErrorKind::conflict);
    parent_done.notify();
    EXPECT_EQ(test::wait_child(child), 0);
    EXPECT_TRUE(index.write()) << "the lock died with its holder";
  }
  {
    test::Signal child_reading, parent_done;
    pid_t child = test::fork_child([&] {
      auto idx = Index::open(dir.path(), IndexOptions{1s, system_clock()});
      if (!idx) return 1;
      auto r = idx->read();  // a real read-only RocksDB session in the child
      if (!r) return 2;
      if (!r->blob(D("a"))) return 3;
      child_reading.notify();
      parent_done.wait();
      return 0;
    });
    ASSERT_TRUE(child_reading.wait());
    EXPECT_TRUE(index.read()) << "readers in different processes share the lock";
    auto w = index.write();
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().kind(), ErrorKind::conflict);
    parent_done.notify();
    EXPECT_EQ(test::wait_child(child), 0);
    EXPECT_TRUE(index.write());
  }
}

TEST(Index, NewerSchemaIsRefused) {
  TempDir dir;
  Index index = open_index(dir);
  {
    auto w = *index.write();
    ASSERT_TRUE(w.put_blob({D("a"), 1, "", {}, {}, 0}));
    w.override_schema_version_for_testing(codec::k_schema_version + 1);
    ASSERT_TRUE(w.commit());
  }
  EXPECT_EQ(*index.schema_state(), SchemaState::newer);
  for (auto r : {index.read().map([](auto&&) { return 0; }), index.write().map([](auto&&) { return 0; }),
                 index.write(WriteMode::rebuild).map([](auto&&) { return 0; })}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::unsupported);
    EXPECT_NE(r.error().message().find("newer strata"), std::string::npos) << r.error().message();
  }
  auto cd = CacheDir::open(dir.path());
  ASSERT_FALSE(cd);
  EXPECT_EQ(cd.error().kind(), ErrorKind::unsupported);
}

TEST(Index, OlderSchemaIsRebuiltFromTheBlobs) {
  TempDir dir;
  {
    auto cd = *CacheDir::open(dir.path());
    auto blob = *cd.blobs().put("layer bytes");
    {
      auto w = *cd.index().write();
      ASSERT_TRUE(w.put_blob({blob.digest, blob.size, "application/x-stale-type", {}, {}, 99}));
      ASSERT_TRUE(w.put_blob({D("gone"), 5, "", {}, {}, 0}));  // pre-versioning junk
      w.override_schema_version_for_testing(std::nullopt);
      ASSERT_TRUE(w.commit());
    }
    EXPECT_EQ(*cd.index().schema_state(), SchemaState::older);
    auto r = cd.index().read();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::unsupported);
    EXPECT_NE(r.error().message().find("reindex"), std::string::npos);
  }
  auto cd = CacheDir::open(dir.path());
  ASSERT_TRUE(cd) << cd.error().message();
  EXPECT_EQ(*cd->index().schema_state(), SchemaState::current);
  auto r = *cd->index().read();
  auto blobs = *r.blobs();
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].digest, digest::sha256("layer bytes"));
  EXPECT_EQ(blobs[0].use_count, 0u);
}

// Printed, not asserted: the cost of a session and of a bulk write on this machine.
TEST(Index, MeasureSessionCost) {
  TempDir dir;
  Index index = open_index(dir);
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };

  auto t0 = clock::now();
  {
    auto w = *index.write();
    for (int i = 0; i < 100'000; ++i)
      ASSERT_TRUE(w.put_blob({D(std::to_string(i)), static_cast<std::uint64_t>(i), "application/octet-stream",
                              from_unix_ms(i), from_unix_ms(i), 0}));
    ASSERT_TRUE(w.commit());
  }
  auto bulk = clock::now() - t0;

  const int n = 15;
  std::vector<double> reads, writes;
  for (int i = 0; i < n; ++i) {
    auto a = clock::now();
    {
      auto r = *index.read();
      ASSERT_TRUE(r.blob(D(std::to_string(i * 1000))));
    }
    reads.push_back(ms(clock::now() - a));
    a = clock::now();
    {
      auto w = *index.write();
      ASSERT_TRUE(w.touch_blob(D(std::to_string(i))));
      ASSERT_TRUE(w.commit());
    }
    writes.push_back(ms(clock::now() - a));
  }
  std::sort(reads.begin(), reads.end());
  std::sort(writes.begin(), writes.end());
  std::printf("[ measure ] 100k blob records in one write session: %.0f ms\n", ms(bulk));
  std::printf("[ measure ] read session (lock+open read-only+get+close): median %.2f ms, max %.2f ms\n",
              reads[n / 2], reads.back());
  std::printf("[ measure ] write session (lock+open+get+put+sync commit+close): median %.2f ms, max %.2f ms\n",
              writes[n / 2], writes.back());
}

}  // namespace
}  // namespace strata::store
