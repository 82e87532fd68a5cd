#include "store/reindex.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "seed_image.hpp"
#include "store/oci_layout.hpp"
#include "store_test_support.hpp"

namespace strata::store {
namespace {

using test::TempDir;

struct Snapshot {
  std::vector<ImageRecord> images;
  std::vector<ManifestRecord> manifests;
  std::vector<BlobRecord> blobs;
};

Snapshot snapshot(const CacheDir& cd) {
  auto r = cd.index().read();
  if (!r) {
    ADD_FAILURE() << r.error().message();
    return {};
  }
  return {*r->images(), *r->manifests(), *r->blobs()};
}

TEST(Reindex, RebuildsEverythingFromBlobsAndIndexJson) {
  TempDir dir;
  ManualClock clock(to_unix_ms(std::chrono::system_clock::now()));
  auto cd = *CacheDir::open(dir.path(), {clock.clock(), std::chrono::seconds(5)});
  ASSERT_TRUE(test::seed_image(cd, "127.0.0.1:5000/library/busybox:latest", {"linux/amd64", "linux/arm64"}, true));
  ASSERT_TRUE(test::seed_image(cd, "docker.io/library/alpine:3.19", {"linux/amd64"}, false));
  // An unreferenced blob and a JSON blob that is not a manifest.
  auto loose = *cd.blobs().put("just some bytes");
  ASSERT_TRUE(cd.blobs().put(R"({"schemaVersion":2,"hello":"world"})"));
  {
    auto w = *cd.index().write();
    ASSERT_TRUE(w.put_blob({loose.digest, loose.size, "", clock.now(), clock.now(), 0}));
    ASSERT_TRUE(w.commit());
  }
  const Snapshot before = snapshot(cd);
  ASSERT_EQ(before.images.size(), 3u);
  ASSERT_EQ(before.manifests.size(), 4u);

  std::filesystem::remove_all(dir / "index");
  auto report = cd.reindex();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->images, 3u);
  EXPECT_EQ(report->manifests, 3u);
  EXPECT_EQ(report->indexes, 1u);
  EXPECT_TRUE(report->warnings.empty());
  const Snapshot after = snapshot(cd);

  ASSERT_EQ(after.images.size(), before.images.size());
  for (std::size_t i = 0; i < before.images.size(); ++i) {
    const auto &a = before.images[i], &b = after.images[i];
    EXPECT_EQ(a.reference, b.reference);
    EXPECT_EQ(a.platform, b.platform);
    EXPECT_EQ(a.manifest, b.manifest);
    EXPECT_EQ(a.manifest_media_type, b.manifest_media_type);
    EXPECT_EQ(a.manifest_size, b.manifest_size);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.index_media_type, b.index_media_type);
    EXPECT_EQ(a.index_size, b.index_size);
    EXPECT_EQ(a.total_size, b.total_size);
  }
  ASSERT_EQ(after.manifests.size(), before.manifests.size());
  for (std::size_t i = 0; i < before.manifests.size(); ++i) {
    const auto &a = before.manifests[i], &b = after.manifests[i];
    EXPECT_EQ(a.digest, b.digest);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.media_type, b.media_type);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.config, b.config);
    EXPECT_EQ(a.layers, b.layers);
    EXPECT_EQ(a.manifests, b.manifests);
    EXPECT_EQ(a.platform, b.platform);
  }
  // Every blob on disk is recorded (including the non-manifest JSON one, which was never
  // recorded before), with the media types manifests give them.
  ASSERT_EQ(after.blobs.size(), before.blobs.size() + 1);
  for (const auto& b : before.blobs) {
    auto it = std::find_if(after.blobs.begin(), after.blobs.end(), [&](auto& x) { return x.digest == b.digest; });
    ASSERT_NE(it, after.blobs.end());
    EXPECT_EQ(it->size, b.size);
    EXPECT_EQ(it->media_type, b.media_type) << b.digest.str();
  }
  EXPECT_EQ(read_index_json(dir.path())->size(), 2u);
}

TEST(Reindex, SkipsManifestsWithMissingBlobs) {
  TempDir dir;
  auto cd = *CacheDir::open(dir.path());
  auto seeded = test::seed_image(cd, "127.0.0.1:5000/x:1", {"linux/amd64"}, false);
  ASSERT_TRUE(seeded);
  auto m = *snapshot(cd).manifests.begin();
  ASSERT_TRUE(cd.blobs().remove(m.layers[0]));  // as if a prune had been interrupted badly
  auto report = cd.reindex();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->manifests, 0u);
  EXPECT_EQ(report->images, 0u);
  EXPECT_EQ(report->warnings.size(), 2u);  // the manifest, and the index.json entry
  auto r = *cd.index().read();
  EXPECT_TRUE(r.images()->empty());
  EXPECT_EQ(r.manifest(m.digest).error().kind(), ErrorKind::not_found);
  EXPECT_TRUE(read_index_json(dir.path())->empty());
}

}  // namespace
}  // namespace strata::store
