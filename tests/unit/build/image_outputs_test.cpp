// The file outputs of a build: docker-archive tarball, OCI layout, digest files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "build/image_assembly.hpp"
#include "build/outputs.hpp"
#include "engine_test_support.hpp"
#include "image/index.hpp"
#include "image/media_types.hpp"

namespace strata::build {
namespace {

using test::TempDir;

// A one-layer image whose layer is a real blob file.
AssembledImage small_image(const TempDir& dir, const std::string& content) {
  std::string path = dir / ("layer-" + content);
  test::write_file(path, content);
  LayerBlob l;
  l.descriptor.media_type = std::string(image::media::oci_layer_gzip);
  l.descriptor.digest = digest::sha256(content);
  l.descriptor.size = static_cast<std::int64_t>(content.size());
  l.diff_id = digest::sha256("uncompressed " + content);
  l.path = path;
  ImageState s;
  s.format = ManifestFormat::oci;
  s.config.os = "linux";
  s.config.architecture = "amd64";
  s.layers = {l};
  auto img = assemble_image(std::move(s), {});
  EXPECT_TRUE(img);
  return *img;
}

TEST(ImageOutputs, DockerArchiveHoldsManifestConfigAndLayers) {
  TempDir dir;
  auto img = small_image(dir, "layer bytes");
  std::string tar = dir / "out.tar";
  ASSERT_TRUE(write_docker_archive(tar, img, {"127.0.0.1:5000/app:v1"}));
  auto entries = test::read_tar(tar);
  ASSERT_EQ(entries.count("manifest.json"), 1u);
  auto manifest = nlohmann::json::parse(entries["manifest.json"].content);
  ASSERT_EQ(manifest.size(), 1u);
  std::string config_name = manifest[0]["Config"];
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"127.0.0.1:5000/app:v1"}));
  EXPECT_EQ(entries[config_name].content, img.config_bytes);
  std::string layer_name = manifest[0]["Layers"][0];
  EXPECT_EQ(layer_name, img.layers[0].descriptor.digest.hex() + ".tar.gz");
  EXPECT_EQ(entries[layer_name].content, "layer bytes");
  // No temp file left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.path().filename().string().find(".tmp-") != std::string::npos;
  EXPECT_EQ(files, 0);
}

TEST(ImageOutputs, OciLayoutNamesTagsAndKeepsOtherEntries) {
  TempDir dir;
  std::string layout = dir / "layout";
  auto first = small_image(dir, "first");
  ASSERT_TRUE(write_oci_layout(layout, first, {"old"}));
  auto second = small_image(dir, "second");
  auto written = write_oci_layout(layout, second, {"v1", "latest"});
  ASSERT_TRUE(written) << written.error().message();

  EXPECT_EQ(nlohmann::json::parse(test::read_file(layout + "/oci-layout"))["imageLayoutVersion"], "1.0.0");
  auto index = image::Index::parse(test::read_file(layout + "/index.json"));
  ASSERT_TRUE(index) << index.error().message();
  std::map<std::string, digest::Digest> by_name;
  for (const auto& d : index->manifests) by_name[d.annotations.at("org.opencontainers.image.ref.name")] = d.digest;
  EXPECT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["old"], first.manifest_digest);
  EXPECT_EQ(by_name["v1"], second.manifest_digest);
  EXPECT_EQ(by_name["latest"], second.manifest_digest);
  for (const auto& d : {second.manifest_digest, second.config_digest, second.layers[0].descriptor.digest}) {
    auto h = digest::hash_file(layout + "/blobs/sha256/" + d.hex());
    ASSERT_TRUE(h) << d.str();
    EXPECT_EQ(*h, d);
  }

  // Writing the same tag again replaces it rather than adding a duplicate.
  ASSERT_TRUE(write_oci_layout(layout, first, {"v1"}));
  auto again = image::Index::parse(test::read_file(layout + "/index.json"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->manifests.size(), 3u);
}

TEST(ImageOutputs, DigestFilesFollowKaniko) {
  TempDir dir;
  auto d = digest::sha256("manifest");
  std::vector<image::Reference> dests{*image::Reference::parse("127.0.0.1:5000/app:v1"),
                                      *image::Reference::parse("registry.example/team/app:latest")};
  DigestFiles files{dir / "digest", dir / "names", dir / "tags"};
  ASSERT_TRUE(write_digest_files(files, d, dests));
  EXPECT_EQ(test::read_file(dir / "digest"), d.str());
  EXPECT_EQ(test::read_file(dir / "names"),
            "127.0.0.1:5000/app@" + d.str() + "\nregistry.example/team/app@" + d.str() + "\n");
  EXPECT_EQ(test::read_file(dir / "tags"),
            "127.0.0.1:5000/app:v1@" + d.str() + "\nregistry.example/team/app:latest@" + d.str() + "\n");
}

}  // namespace
}  // namespace strata::build
