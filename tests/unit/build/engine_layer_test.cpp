// From a snapshot's change list to a layer blob: entries, whiteouts, empty steps, masked paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include "build/layer_commit.hpp"
#include "engine_test_support.hpp"
#include "image/media_types.hpp"
#include "store/blob_store.hpp"

namespace strata::build {
namespace {

using test::TempDir;

TEST(EngineLayer, ChangesBecomeEntriesAndWhiteouts) {
  TempDir dir;
  std::string root = dir / "root";
  test::write_file(root + "/keep.txt", "keep");
  test::write_file(root + "/gone.txt", "gone");
  test::write_file(root + "/etc/conf", "v1");
  auto snap = fs::Snapshotter::create(root, {});
  ASSERT_TRUE(snap) << snap.error().message();

  test::write_file(root + "/etc/conf", "version two");
  ASSERT_EQ(::unlink((root + "/gone.txt").c_str()), 0);
  test::write_file(root + "/app/new.bin", "new");
  auto changes = snap->snapshot();
  ASSERT_TRUE(changes) << changes.error().message();

  auto blobs = store::BlobStore::open(dir / "store");
  ASSERT_TRUE(blobs);
  archive::LayerOptions lo;
  auto layer = commit_layer(*changes, root, *blobs, lo, ManifestFormat::docker);
  ASSERT_TRUE(layer) << layer.error().message();
  ASSERT_TRUE(*layer);
  EXPECT_EQ((*layer)->descriptor.media_type, image::media::docker_layer_gzip);
  EXPECT_TRUE(blobs->has((*layer)->descriptor.digest));
  EXPECT_EQ((*layer)->path, blobs->path((*layer)->descriptor.digest));
  auto d = digest::hash_file((*layer)->path);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (*layer)->descriptor.digest);

  auto entries = test::read_tar((*layer)->path);
  EXPECT_EQ(entries.count(".wh.gone.txt"), 1u);
  ASSERT_EQ(entries.count("etc/conf"), 1u);
  EXPECT_EQ(entries["etc/conf"].content, "version two");
  EXPECT_EQ(entries["app/new.bin"].content, "new");
  EXPECT_EQ(entries.count("keep.txt"), 0u);
}

TEST(EngineLayer, NoChangesNoLayer) {
  TempDir dir;
  auto blobs = store::BlobStore::open(dir / "store");
  ASSERT_TRUE(blobs);
  auto layer = commit_layer({}, dir.path(), *blobs, {}, ManifestFormat::oci);
  ASSERT_TRUE(layer);
  EXPECT_FALSE(*layer);
}

TEST(EngineLayer, ZstdLayersGetTheOciZstdType) {
  TempDir dir;
  std::string root = dir / "root";
  ::mkdir(root.c_str(), 0755);
  auto snap = fs::Snapshotter::create(root, {});
  ASSERT_TRUE(snap);
  test::write_file(root + "/f", "zstd me");
  auto changes = snap->snapshot();
  ASSERT_TRUE(changes);
  auto blobs = store::BlobStore::open(dir / "store");
  ASSERT_TRUE(blobs);
  archive::LayerOptions lo;
  lo.compression = archive::Compression::zstd;
  auto layer = commit_layer(*changes, root, *blobs, lo, ManifestFormat::oci);
  ASSERT_TRUE(layer && *layer);
  EXPECT_EQ((*layer)->descriptor.media_type, image::media::oci_layer_zstd);
  EXPECT_EQ(test::read_tar((*layer)->path)["f"].content, "zstd me");
}

fs::Change change(std::string path, fs::ChangeKind kind) {
  fs::Change c;
  c.path = std::move(path);
  c.kind = kind;
  return c;
}

TEST(EngineLayer, DropMaskedRemovesMountsAndOrphanParents) {
  std::vector<fs::Change> changes{change("etc", fs::ChangeKind::parent),
                                  change("etc/hosts", fs::ChangeKind::modified),
                                  change("run", fs::ChangeKind::parent),
                                  change("run/secrets", fs::ChangeKind::added),
                                  change("run/secrets/token", fs::ChangeKind::added),
                                  change("usr", fs::ChangeKind::parent),
                                  change("usr/bin", fs::ChangeKind::parent),
                                  change("usr/bin/tool", fs::ChangeKind::added)};
  auto kept = drop_masked(changes, {"/etc/hosts", "run/secrets"});
  std::vector<std::string> paths;
  for (const auto& c : kept) paths.push_back(c.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"usr", "usr/bin", "usr/bin/tool"}));
  EXPECT_EQ(drop_masked(changes, {}).size(), changes.size());
}

}  // namespace
}  // namespace strata::build
