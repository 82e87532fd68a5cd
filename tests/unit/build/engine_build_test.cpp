// The engine in-process on FROM scratch images (no registry, no RUN): COPY, WORKDIR, metadata,
// multi-stage COPY --from, --single-snapshot, --target, history and layers.
#include <gtest/gtest.h>

#include "build/engine.hpp"
#include "engine_test_support.hpp"

namespace strata::build {
namespace {

using test::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<ImageSource> images;
  BuildOptions options;

  Fixture() {
    std::filesystem::create_directories(dir / "context");
    ImageSourceOptions so;
    so.private_dir = dir / "images";
    images = std::move(*ImageSource::open(nullptr, so));
    options.context_dir = dir / "context";
    options.dockerfile_path = dir / "context/Dockerfile";
    options.work_dir = dir / "work";
    options.clock = [] { return std::string("2024-01-02T03:04:05Z"); };
  }
  void file(const std::string& rel, const std::string& content) { test::write_file(dir / ("context/" + rel), content); }
  Result<BuildResult> build(const std::string& dockerfile) {
    file("Dockerfile", dockerfile);
    return build_image(options, *images);
  }
};

std::map<std::string, test::ReadEntry> layer_entries(const ImageState& s, std::size_t i) {
  return test::read_tar(s.layers.at(i).path);
}

TEST(EngineBuild, CopyWorkdirAndMetadataFromScratch) {
  Fixture f;
  f.file("a.txt", "A");
  f.file("dir/b.txt", "B");
  auto r = f.build("FROM scratch\nENV X=1\nWORKDIR /app\nCOPY a.txt ./\nCOPY dir /app/d/\nLABEL k=v\nCMD [\"/app\"]\n");
  ASSERT_TRUE(r) << r.error().message();
  const auto& s = r->image;
  EXPECT_EQ(s.format, ManifestFormat::oci);
  ASSERT_EQ(s.layers.size(), 3u);  // WORKDIR, COPY, COPY
  EXPECT_EQ(r->stats.layers, 3);
  EXPECT_EQ(r->stats.steps, 6);
  EXPECT_EQ(layer_entries(s, 0).count("app/"), 1u) << "directories are stored with a trailing slash";
  EXPECT_EQ(layer_entries(s, 1)["app/a.txt"].content, "A");
  EXPECT_EQ(layer_entries(s, 2)["app/d/b.txt"].content, "B");
  // BuildKit: PATH is always set (FROM scratch has none).
  EXPECT_EQ(s.config.config.env, (std::vector<std::string>{
                                     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "X=1"}));
  EXPECT_EQ(s.config.config.labels.at("k"), "v");
  ASSERT_EQ(s.config.history.size(), 6u);
  EXPECT_EQ(s.config.history[0].created_by, "/bin/sh -c #(nop) ENV X=1");
  EXPECT_TRUE(s.config.history[0].empty_layer);
  EXPECT_EQ(s.config.history[0].created, "2024-01-02T03:04:05Z");
  EXPECT_FALSE(s.config.history[2].empty_layer);
  EXPECT_EQ(s.config.history[2].created_by.rfind("/bin/sh -c #(nop) COPY file:", 0), 0u) << s.config.history[2].created_by;
  EXPECT_EQ(s.config.history[3].created_by.rfind("/bin/sh -c #(nop) COPY dir:", 0), 0u) << s.config.history[3].created_by;
  // The work dir holds no stage root once the build is over.
  EXPECT_FALSE(std::filesystem::exists(f.dir / "work/stage-0"));
}

TEST(EngineBuild, WorkdirIsMadeAsTheUserAndVolumeDirsAreCreated) {
  Fixture f;
  auto r = f.build("FROM scratch\nUSER 7:8\nWORKDIR /w/x\nVOLUME /v /data/y\n");
  ASSERT_TRUE(r) << r.error().message();
  const auto& s = r->image;
  ASSERT_EQ(s.layers.size(), 2u);  // WORKDIR, VOLUME
  auto workdir = layer_entries(s, 0);
  ASSERT_EQ(workdir.count("w/x/"), 1u);
  EXPECT_EQ(workdir["w/"].meta.uid, 7);
  EXPECT_EQ(workdir["w/x/"].meta.gid, 8);
  auto volumes = layer_entries(s, 1);
  EXPECT_EQ(volumes.count("v/"), 1u);
  EXPECT_EQ(volumes.count("data/y/"), 1u);
  EXPECT_EQ(volumes["data/y/"].meta.uid, 0);
  EXPECT_EQ(s.config.config.volumes, (std::vector<std::string>{"/v", "/data/y"}));
}

TEST(EngineBuild, CopyOfIdenticalContentAddsNoLayer) {
  Fixture f;
  f.file("a.txt", "A");
  auto r = f.build("FROM scratch\nCOPY a.txt /a.txt\nCOPY a.txt /a.txt\n");
  ASSERT_TRUE(r) << r.error().message();
  // Whether the rewrite counts as a change depends on the snapshot mode; either way every
  // layer has exactly one history entry without empty_layer.
  EXPECT_EQ(r->image.config.history.size(), 2u);
  std::size_t with_layers = 0;
  for (const auto& h : r->image.config.history) with_layers += !h.empty_layer;
  EXPECT_EQ(with_layers, r->image.layers.size());
}

TEST(EngineBuild, MultiStageCopyFromAndTarget) {
  Fixture f;
  f.file("one.txt", "1");
  f.file("two.txt", "2");
  std::string dockerfile =
      "FROM scratch AS first\nCOPY one.txt /one\n"
      "FROM scratch AS second\nCOPY two.txt /two\n"
      "FROM first AS final\nCOPY --from=second /two /copied\nUSER 42\n";
  auto r = f.build(dockerfile);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->stats.stages, 3);
  ASSERT_EQ(r->image.layers.size(), 2u);  // first's layer, then the COPY --from
  EXPECT_EQ(layer_entries(r->image, 0)["one"].content, "1");
  EXPECT_EQ(layer_entries(r->image, 1)["copied"].content, "2");
  EXPECT_EQ(r->image.config.config.user, "42");
  EXPECT_FALSE(std::filesystem::exists(f.dir / "work/stage-1")) << "roots are dropped after their last use";

  f.options.target = "second";
  f.options.skip_unused_stages = true;
  auto t = f.build(dockerfile);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->stats.stages, 1);
  ASSERT_EQ(t->image.layers.size(), 1u);
  EXPECT_EQ(layer_entries(t->image, 0)["two"].content, "2");
}

TEST(EngineBuild, SingleSnapshotMakesOneLayer) {
  Fixture f;
  f.file("a", "a");
  f.file("b", "b");
  f.options.single_snapshot = true;
  auto r = f.build("FROM scratch\nCOPY a /a\nENV Y=2\nCOPY b /b\nCMD [\"x\"]\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->image.layers.size(), 1u);
  auto entries = layer_entries(r->image, 0);
  EXPECT_EQ(entries["a"].content, "a");
  EXPECT_EQ(entries["b"].content, "b");
  const auto& h = r->image.config.history;
  ASSERT_EQ(h.size(), 4u);
  EXPECT_TRUE(h[0].empty_layer);
  EXPECT_FALSE(h[2].empty_layer) << "the last filesystem step carries the layer";
}

TEST(EngineBuild, LabelsFromFlagsGoOnTheTarget) {
  Fixture f;
  f.options.labels = {{"org.example", "yes"}};
  f.options.build_args = {{"NAME", "value"}};
  auto r = f.build("FROM scratch\nARG NAME\nLABEL from-arg=$NAME\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->image.config.config.labels.at("org.example"), "yes");
  EXPECT_EQ(r->image.config.config.labels.at("from-arg"), "value");
  EXPECT_TRUE(r->image.layers.empty());
}

TEST(EngineBuild, ErrorsNameTheDockerfileLine) {
  Fixture f;
  auto missing = f.build("FROM scratch\nENV A=1\nCOPY nope.txt /x\n");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("Dockerfile:3"), std::string::npos) << missing.error().message();

  auto syntax = f.build("FROM scratch\nBOGUS x\n");
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message().find("Dockerfile:2"), std::string::npos) << syntax.error().message();

  auto offline = f.build("FROM 127.0.0.1:1/none/such:tag\n");
  ASSERT_FALSE(offline);
  EXPECT_EQ(offline.error().kind(), ErrorKind::not_found) << offline.error().message();
}

}  // namespace
}  // namespace strata::build
