// Every registry mode the fixture offers, checked from outside with skopeo: if these pass, a
// failing client test is the client's fault, not the fixture's.
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/support/itest.hpp"

namespace strata::itest {
namespace {

constexpr const char* k_busybox = "library/busybox:latest";

class RegistryModes : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_UNLESS("docker-registry", "skopeo", "openssl", "htpasswd", "python3"); }
};

TEST_F(RegistryModes, PlainHttpSeedAndInspect) {
  auto reg = ASSERT_OK(RegistryServer::start());
  EXPECT_EQ(reg.host(), "127.0.0.1:" + std::to_string(reg.port()));
  std::string digest = ASSERT_OK(seed_base_image(reg, k_busybox));
  EXPECT_EQ(digest.rfind("sha256:", 0), 0u) << digest;

  auto info = ASSERT_OK(skopeo_inspect(reg, k_busybox));
  EXPECT_EQ(info["Digest"], digest);
  EXPECT_EQ(info["Architecture"], "amd64");
  EXPECT_EQ(info["Layers"].size(), 1u);
  auto raw = ASSERT_OK(skopeo_inspect(reg, k_busybox, InspectWhat::raw_manifest));
  EXPECT_EQ(raw["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  auto config = ASSERT_OK(skopeo_inspect(reg, "library/busybox@" + digest, InspectWhat::config));
  EXPECT_EQ(config["config"]["Cmd"][0], "sh");

  auto missing = skopeo_inspect(reg, "library/nothing:here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found) << missing.error().message();

  auto v2 = ASSERT_OK(http_request(reg.port(), "GET", "/v2/"));
  EXPECT_EQ(v2.status, 200);
}

TEST_F(RegistryModes, DockerSchema2MultiArchAndExtraLayers) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, "library/busybox:v2s2", {.format = ManifestFormat::docker_v2s2}));
  auto raw = ASSERT_OK(skopeo_inspect(reg, "library/busybox:v2s2", InspectWhat::raw_manifest));
  EXPECT_EQ(raw["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");

  ASSERT_OK(seed_base_image(reg, "library/busybox:multi", {.platforms = Platforms::multi_arch}));
  auto index = ASSERT_OK(skopeo_inspect(reg, "library/busybox:multi", InspectWhat::raw_manifest));
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][1]["platform"]["architecture"], "arm64");
  EXPECT_EQ(index["manifests"][1]["platform"]["variant"], "v8");

  ASSERT_OK(seed_base_image(reg, "library/busybox:multi-v2s2",
                            {.format = ManifestFormat::docker_v2s2, .platforms = Platforms::multi_arch}));
  auto list = ASSERT_OK(skopeo_inspect(reg, "library/busybox:multi-v2s2", InspectWhat::raw_manifest));
  EXPECT_EQ(list["mediaType"], "application/vnd.docker.distribution.manifest.list.v2+json");

  ASSERT_OK(seed_base_image(reg, "library/busybox:layers", {.extra_layers = 2}));
  auto info = ASSERT_OK(skopeo_inspect(reg, "library/busybox:layers"));
  EXPECT_EQ(info["Layers"].size(), 3u);
}

TEST_F(RegistryModes, TlsNeedsTheTestCA) {
  auto reg = ASSERT_OK(RegistryServer::start({.transport = RegistryTransport::tls}));
  EXPECT_EQ(reg.url(), "https://" + reg.host());
  ASSERT_FALSE(reg.ca_cert().empty());
  ASSERT_TRUE(std::filesystem::exists(reg.cert_dir() + "/ca.crt"));
  ASSERT_OK(seed_base_image(reg, k_busybox));
  ASSERT_OK(skopeo_inspect(reg, k_busybox));
  // Without the CA the server certificate is not trusted.
  auto r = ASSERT_OK(run_skopeo({"inspect", "--raw", "docker://" + reg.host() + "/library/busybox:latest"}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
}

TEST_F(RegistryModes, MutualTlsNeedsAClientCertificate) {
  auto reg = ASSERT_OK(RegistryServer::start({.transport = RegistryTransport::mutual_tls}));
  ASSERT_OK(seed_base_image(reg, k_busybox));  // cert_dir() holds the client pair
  auto ca = ASSERT_OK(TestCA::get());
  auto r = ASSERT_OK(run_skopeo({"inspect", "--raw", "--cert-dir", ca->cert_dir(),
                          "docker://" + reg.host() + "/library/busybox:latest"}));
  EXPECT_NE(r.exit_code, 0) << r.describe();
}

TEST_F(RegistryModes, TlsWithHtpasswd) {
  auto reg = ASSERT_OK(RegistryServer::start(
      {.transport = RegistryTransport::tls, .auth = RegistryAuth::htpasswd}));
  ASSERT_TRUE(reg.has_credentials());
  EXPECT_FALSE(reg.user().empty());
  EXPECT_GE(reg.password().size(), 16u);
  ASSERT_OK(seed_base_image(reg, k_busybox));
  ASSERT_OK(skopeo_inspect(reg, k_busybox));
  for (std::string creds : {std::string(), reg.user() + ":wrong"}) {
    std::vector<std::string> argv{"inspect", "--raw", "--cert-dir", reg.cert_dir()};
    if (!creds.empty()) argv.insert(argv.end(), {"--creds", creds});
    argv.push_back("docker://" + reg.host() + "/library/busybox:latest");
    auto r = ASSERT_OK(run_skopeo(argv));
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.err.find("unauthorized"), std::string::npos) << r.err;
  }
}

TEST_F(RegistryModes, DeletesCanBeDisabled) {
  auto on = ASSERT_OK(RegistryServer::start());
  auto off = ASSERT_OK(RegistryServer::start({.deletes = Deletes::disabled}));
  for (auto* reg : {&on, &off}) {
    ASSERT_OK(seed_base_image(*reg, k_busybox));
    auto flags = skopeo_flags(*reg, "");
    std::vector<std::string> argv{"delete"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("docker://" + reg->host() + "/library/busybox:latest");
    auto r = ASSERT_OK(run_skopeo(argv));
    if (reg == &on) {
      EXPECT_EQ(r.exit_code, 0) << r.describe();
      EXPECT_FALSE(skopeo_inspect(*reg, k_busybox));
    } else {
      EXPECT_NE(r.exit_code, 0) << r.describe();
      ASSERT_OK(skopeo_inspect(*reg, k_busybox));
    }
  }
}

TEST_F(RegistryModes, PullThroughMirror) {
  auto upstream = ASSERT_OK(RegistryServer::start());
  std::string digest = ASSERT_OK(seed_base_image(upstream, k_busybox));
  auto mirror = ASSERT_OK(RegistryServer::start({.proxy_remote_url = upstream.url()}));
  auto info = ASSERT_OK(skopeo_inspect(mirror, k_busybox));
  EXPECT_EQ(info["Digest"], digest);
  // A mirror refuses pushes.
  auto pushed = seed_base_image(mirror, "library/other:latest");
  EXPECT_FALSE(pushed);
}

TEST_F(RegistryModes, UmociUnpacksWhatWasPushed) {
  SKIP_UNLESS("umoci");
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, "library/busybox:layers", {.extra_layers = 2}));
  auto dir = ASSERT_OK(TempDir::create("umoci"));
  ASSERT_OK(skopeo_copy_to_layout(reg, "library/busybox:layers", dir.file("layout"), "t"));
  ASSERT_OK(umoci_unpack(dir.file("layout"), "t", dir.file("bundle")));
  namespace fs = std::filesystem;
  const std::string root = dir.file("bundle/rootfs");
  EXPECT_TRUE(fs::is_regular_file(root + "/bin/busybox"));
  EXPECT_TRUE(fs::is_symlink(root + "/bin/sh"));
  EXPECT_EQ(fs::status(root + "/tmp").permissions() & fs::perms::sticky_bit, fs::perms::sticky_bit);
  EXPECT_EQ(ASSERT_OK(read_file(root + "/layer-2.txt")), "layer 2\n");
  EXPECT_FALSE(fs::exists(root + "/layer-1.txt")) << "whiteout of layer 2 not applied";
}

}  // namespace
}  // namespace strata::itest
