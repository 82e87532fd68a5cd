// The final config and manifest: diff_ids from the layers, platform, timestamps (and their
// absence with --reproducible), media types per format, conversion between formats.
#include <gtest/gtest.h>

#include "build/image_assembly.hpp"
#include "image/manifest.hpp"
#include "image/media_types.hpp"

namespace strata::build {
namespace {

LayerBlob layer(char fill, const std::string& type) {
  LayerBlob l;
  l.descriptor.media_type = type;
  l.descriptor.digest = digest::sha256(std::string(10, fill));
  l.descriptor.size = 10;
  l.diff_id = digest::sha256(std::string(20, fill));
  l.path = "/nonexistent";
  return l;
}

ImageState state_with_history(const std::string& created) {
  ImageState s;
  s.format = ManifestFormat::docker;
  s.config.os = "linux";
  s.config.architecture = "arm64";
  s.layers = {layer('a', std::string(image::media::docker_layer_gzip)), layer('b', std::string(image::media::docker_layer_gzip))};
  s.config.history = {{created, "/bin/sh -c #(nop) ADD file:x in / ", "", "", false},
                      {created, "/bin/sh -c #(nop) ENV A=1", "", "", true},
                      {created, "/bin/sh -c make", "", "", false}};
  return s;
}

TEST(ImageAssembly, ConfigAndManifestDescribeTheLayers) {
  AssembleOptions o;
  o.platform = *image::Platform::parse("linux/amd64");
  o.created = "2024-05-01T12:00:00Z";
  auto img = assemble_image(state_with_history("2024-05-01T11:00:00Z"), o);
  ASSERT_TRUE(img) << img.error().message();
  EXPECT_EQ(img->manifest_media_type, image::media::docker_manifest);
  EXPECT_EQ(img->config_digest, digest::sha256(img->config_bytes));
  EXPECT_EQ(img->manifest_digest, digest::sha256(img->manifest_bytes));

  auto config = image::ImageConfig::parse(img->config_bytes);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->architecture, "amd64");
  EXPECT_EQ(config->created, "2024-05-01T12:00:00Z");
  ASSERT_EQ(config->diff_ids.size(), 2u);
  EXPECT_EQ(config->diff_ids[0], digest::sha256(std::string(20, 'a')));

  auto manifest = image::Manifest::parse(img->manifest_bytes);
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->config.media_type, image::media::docker_config);
  EXPECT_EQ(manifest->config.digest, img->config_digest);
  ASSERT_EQ(manifest->layers.size(), 2u);
  EXPECT_EQ(manifest->layers[1].digest, digest::sha256(std::string(10, 'b')));
  EXPECT_EQ(img->total_size(), img->config_bytes.size() + 20);
}

TEST(ImageAssembly, ReproducibleDropsEveryTimestamp) {
  AssembleOptions o;
  o.reproducible = true;
  o.created = "2024-05-01T12:00:00Z";
  auto a = assemble_image(state_with_history("2024-05-01T11:00:00Z"), o);
  o.created = "2030-01-01T00:00:00Z";
  auto b = assemble_image(state_with_history("2030-01-01T00:00:00Z"), o);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->manifest_digest, b->manifest_digest);
  auto config = image::ImageConfig::parse(a->config_bytes);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->created, k_epoch);
  for (const auto& h : config->history) EXPECT_TRUE(h.created.empty());

  o.reproducible = false;
  auto c = assemble_image(state_with_history("2024-05-01T11:00:00Z"), o);
  ASSERT_TRUE(c);
  EXPECT_NE(c->manifest_digest, a->manifest_digest);
}

TEST(ImageAssembly, HistoryClaimingMoreLayersThanExistIsABug) {
  auto s = state_with_history("");
  s.layers.pop_back();
  auto img = assemble_image(std::move(s), {});
  ASSERT_FALSE(img);
  EXPECT_EQ(img.error().kind(), ErrorKind::internal);
}

TEST(ImageAssembly, ConvertFormatMapsLayerTypes) {
  auto s = state_with_history("");
  ASSERT_TRUE(convert_format(s, ManifestFormat::oci));
  EXPECT_EQ(s.format, ManifestFormat::oci);
  EXPECT_EQ(s.layers[0].descriptor.media_type, image::media::oci_layer_gzip);
  auto img = assemble_image(std::move(s), {});
  ASSERT_TRUE(img);
  EXPECT_EQ(img->manifest_media_type, image::media::oci_manifest);
  auto manifest = image::Manifest::parse(img->manifest_bytes);
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->config.media_type, image::media::oci_config);

  ImageState odd;
  odd.format = ManifestFormat::oci;
  odd.layers = {layer('c', "application/x-unknown")};
  EXPECT_FALSE(convert_format(odd, ManifestFormat::docker));
}

}  // namespace
}  // namespace strata::build
