#include <gtest/gtest.h>

#include <string>

#include "image/index.hpp"
#include "image/manifest.hpp"
#include "image/manifest_any.hpp"
#include "image/media_types.hpp"

using namespace strata::image;
using strata::ErrorKind;

namespace {

std::string d(char c) { return "sha256:" + std::string(64, c); }

std::string docker_manifest() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
         R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":")" +
         d('a') + R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2811478,"digest":")" +
         d('b') + R"("},{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":10,"digest":")" +
         d('c') + R"(","urls":["https://example.com/layer"]}]})";
}

std::string oci_index() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
         R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + d('1') +
         R"(","size":100,"platform":{"architecture":"amd64","os":"linux"}},)"
         R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + d('2') +
         R"(","size":100,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},)"
         R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + d('3') +
         R"(","size":100,"platform":{"architecture":"arm","os":"linux","variant":"v6"}},)"
         R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + d('4') +
         R"(","size":100,"annotations":{"vnd.docker.reference.type":"attestation-manifest"},)"
         R"("platform":{"architecture":"unknown","os":"unknown"}}],)"
         R"("annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}})";
}

TEST(Manifest, ParsesDockerSchema2) {
  auto m = Manifest::parse(docker_manifest());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->is_docker());
  EXPECT_TRUE(m->is_image());
  EXPECT_EQ(m->config.digest.str(), d('a'));
  EXPECT_EQ(m->config.size, 1469);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].media_type, media::docker_layer_gzip);
  EXPECT_EQ(m->layers[1].urls, std::vector<std::string>{"https://example.com/layer"});
  EXPECT_EQ(m->total_size(), 1469 + 2811478 + 10);
}

TEST(Manifest, SerialisesDeterministicallyInContainersImageOrder) {
  auto m = Manifest::parse(docker_manifest());
  ASSERT_TRUE(m);
  // Docker descriptors put size before digest; the input was written that way.
  EXPECT_EQ(m->serialize(), docker_manifest());
  auto again = Manifest::parse(m->serialize());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->serialize(), m->serialize());

  Manifest oci;
  oci.media_type = std::string(media::oci_manifest);
  oci.config = Descriptor{std::string(media::oci_config), *strata::digest::Digest::parse(d('a')), 7, {}, {}, {}, {}};
  oci.layers.push_back(Descriptor{std::string(media::oci_layer_zstd), *strata::digest::Digest::parse(d('b')), 9, {}, {}, {}, {}});
  oci.annotations = {{"z", "<&>"}, {"a", "1"}};
  EXPECT_EQ(oci.serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":)"
            R"("application/vnd.oci.image.config.v1+json","digest":")" + d('a') +
                R"(","size":7},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                d('b') + R"(","size":9}],"annotations":{"a":"1","z":"\u003c\u0026\u003e"}})");
}

TEST(Manifest, KindDetection) {
  // mediaType field wins over the hint.
  auto by_field = parse_manifest_any(docker_manifest(), "application/vnd.oci.image.index.v1+json");
  ASSERT_TRUE(by_field);
  EXPECT_EQ(by_field->kind, ManifestKind::docker_manifest);
  // No mediaType: the hint (with parameters), then the shape.
  std::string bare = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                     d('a') + R"(","size":1},"layers":[]})";
  auto hinted = parse_manifest_any(bare, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  ASSERT_TRUE(hinted) << hinted.error().message();
  EXPECT_EQ(hinted->kind, ManifestKind::oci_manifest);
  auto shaped = parse_manifest_any(bare, "application/json");
  ASSERT_TRUE(shaped);
  EXPECT_EQ(shaped->kind, ManifestKind::oci_manifest);
  ASSERT_NE(shaped->manifest(), nullptr);
  EXPECT_EQ(shaped->manifest()->media_type, media::oci_manifest);
  std::string bare_index = R"({"schemaVersion":2,"manifests":[]})";
  auto idx = parse_manifest_any(bare_index);
  ASSERT_TRUE(idx);
  EXPECT_TRUE(idx->is_index());
  EXPECT_EQ(idx->kind, ManifestKind::oci_index);
  auto list_hint = parse_manifest_any(bare_index, media::docker_manifest_list);
  ASSERT_TRUE(list_hint);
  EXPECT_EQ(list_hint->kind, ManifestKind::docker_manifest_list);
  // Wrong expectations are caller errors.
  EXPECT_EQ(Manifest::parse(oci_index()).error().kind(), ErrorKind::invalid_argument);
  EXPECT_EQ(Index::parse(docker_manifest()).error().kind(), ErrorKind::invalid_argument);
}

TEST(Manifest, RejectsSchema1) {
  const std::string schema1 = R"({"schemaVersion":1,"name":"x","tag":"latest","fsLayers":[]})";
  for (auto hint : {"", "application/vnd.docker.distribution.manifest.v1+prettyjws"}) {
    auto r = parse_manifest_any(schema1, hint);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::unsupported);
    EXPECT_NE(r.error().message().find("schema1 manifests are not supported"), std::string::npos);
  }
  auto typed = parse_manifest_any(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"})");
  ASSERT_FALSE(typed);
  EXPECT_EQ(typed.error().kind(), ErrorKind::unsupported);
}

TEST(Manifest, ValidationErrors) {
  struct Case {
    std::string body;
    ErrorKind kind;
    const char* mentions;
  };
  const std::string cfg = R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d('a') + R"(","size":1})";
  const Case cases[] = {
      {"not json", ErrorKind::corrupt, "invalid JSON"},
      {"[]", ErrorKind::corrupt, "JSON object"},
      {R"({"config":{}})", ErrorKind::corrupt, "schemaVersion"},
      {R"({"schemaVersion":3,"layers":[]})", ErrorKind::unsupported, "schemaVersion 3"},
      {R"({"schemaVersion":"2","layers":[]})", ErrorKind::unsupported, "schemaVersion"},
      {R"({"schemaVersion":2,"mediaType":"text/plain"})", ErrorKind::unsupported, "text/plain"},
      {R"({"schemaVersion":2,"layers":[]})", ErrorKind::corrupt, "'config' is missing"},
      {R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:12","size":1},"layers":[]})",
       ErrorKind::corrupt, "config.digest"},
      {R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d('a') +
           R"(","size":-1},"layers":[]})",
       ErrorKind::corrupt, "config.size"},
      {R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d('a') +
           R"("},"layers":[]})",
       ErrorKind::corrupt, "config.size"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":{}})", ErrorKind::corrupt, "'layers' must be an array"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"mediaType":"text/x-weird","digest":")" + d('b') + R"(","size":1}]})",
       ErrorKind::unsupported, "layers[0]"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"digest":")" + d('b') + R"(","size":1}]})", ErrorKind::corrupt,
       "layers[0].mediaType"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[],"annotations":{"a":1}})", ErrorKind::corrupt, "annotations"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"x","digest":")" +
           d('a') + R"(","size":1,"platform":"linux"}]})",
       ErrorKind::corrupt, "manifests[0].platform"},
  };
  for (const auto& c : cases) {
    auto r = parse_manifest_any(c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().kind(), c.kind) << c.body << " → " << r.error().message();
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().rfind("manifest: ", 0), 0u) << r.error().message();
  }
}

TEST(Manifest, ArtifactsKeepArbitraryLayerTypes) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                     R"("artifactType":"application/vnd.example+type","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
                     d('4') + R"(","size":2},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":")" + d('5') +
                     R"(","size":3}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     d('6') + R"(","size":4}})";
  auto m = Manifest::parse(body);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_FALSE(m->is_image());
  EXPECT_EQ(m->artifact_type, "application/vnd.example+type");
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->digest.str(), d('6'));
  EXPECT_EQ(m->serialize(), body);
}

TEST(Manifest, BoundsSizeAndDepth) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  auto r = parse_manifest_any(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  EXPECT_NE(r.error().message().find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  std::string in_string = R"({"schemaVersion":2,"manifests":[],"annotations":{"x":")" + std::string(100, '[') + R"("}})";
  EXPECT_TRUE(parse_manifest_any(in_string)) << parse_manifest_any(in_string).error().message();
  std::string huge = R"({"schemaVersion":2,"manifests":[],"annotations":{"x":")" + std::string(4 * 1024 * 1024, 'a') + R"("}})";
  auto big = parse_manifest_any(huge);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("4 MiB"), std::string::npos);
}

TEST(Index, ParsesAndSelectsPlatforms) {
  auto index = Index::parse(oci_index());
  ASSERT_TRUE(index) << index.error().message();
  EXPECT_FALSE(index->is_docker());
  ASSERT_EQ(index->manifests.size(), 4u);
  EXPECT_EQ(index->annotations.at("org.opencontainers.image.created"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(index->serialize(), oci_index());

  auto pick = [&](const char* wanted) { return select_platform(*index, *Platform::parse(wanted)); };
  EXPECT_EQ(pick("linux/amd64")->digest.str(), d('1'));
  EXPECT_EQ(pick("linux/arm64")->digest.str(), d('2'));
  EXPECT_EQ(pick("linux/arm64/v8")->digest.str(), d('2'));
  EXPECT_EQ(pick("linux/arm/v7")->digest.str(), d('3'));  // v6 is the best fallback
  auto missing = pick("linux/s390x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found);
  EXPECT_EQ(missing.error().message(),
            "no image for linux/s390x in index; available: linux/amd64, linux/arm64/v8, linux/arm/v6");
  EXPECT_FALSE(pick("linux/arm/v5"));
}

TEST(Index, PrefersExactVariantOverFallbackWhateverTheOrder) {
  Index index;
  auto add = [&](char c, Platform p) {
    index.manifests.push_back(Descriptor{std::string(media::oci_manifest), *strata::digest::Digest::parse(d(c)), 1, {}, {}, p, {}});
  };
  add('5', Platform{"linux", "arm", "v5", "", {}});
  add('6', Platform{"linux", "arm", "v6", "", {}});
  add('7', Platform{"linux", "arm", "v7", "", {}});
  add('8', Platform{"linux", "arm", "v7", "", {}});
  EXPECT_EQ(select_platform(index, *Platform::parse("linux/arm/v7"))->digest.str(), d('7'));
  EXPECT_EQ(select_platform(index, *Platform::parse("linux/arm/v6"))->digest.str(), d('6'));
}

TEST(Index, DockerManifestListRoundTrip) {
  std::string list = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)"
                     R"("manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":")" +
                     d('e') + R"(","platform":{"architecture":"arm","os":"linux","variant":"v7"}},)"
                     R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":")" + d('f') +
                     R"(","platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1879","os.features":["win32k"]}}]})";
  auto index = Index::parse(list);
  ASSERT_TRUE(index) << index.error().message();
  EXPECT_TRUE(index->is_docker());
  EXPECT_EQ(index->manifests[1].platform->os_features, std::vector<std::string>{"win32k"});
  EXPECT_EQ(index->serialize(), list);
}

}  // namespace
