// The warmer against real registries: what it stores (checked from outside with skopeo and by
// re-hashing blobs), how many requests a re-warm costs (counted in the registry's access log),
// and how it fails (unknown image, bad credentials, corrupt blob, full disk, kill -9).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "digest/digest.hpp"
#include "integration/support/itest.hpp"

namespace fs = std::filesystem;

namespace strata::itest {
namespace {

constexpr const char* k_busybox = "library/busybox:latest";

struct Request {
  std::string method;
  std::string path;
};

// Requests the registry served, from its access log ("GET /v2/... HTTP/1.1" lines).
std::vector<Request> served(const RegistryServer& reg) {
  static const std::regex line("\"(GET|HEAD|PUT|POST|PATCH|DELETE) (/v2/[^ ]*) HTTP/");
  std::vector<Request> out;
  std::string log = reg.log();
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1], (*it)[2]});
  }
  return out;
}

std::vector<Request> since(const std::vector<Request>& all, std::size_t from) {
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

int count(const std::vector<Request>& reqs, const std::string& method, const std::string& path_part) {
  int n = 0;
  for (const auto& r : reqs) n += r.method == method && r.path.find(path_part) != std::string::npos;
  return n;
}

std::string describe(const std::vector<Request>& reqs) {
  std::string out;
  for (const auto& r : reqs) out += "  " + r.method + " " + r.path + "\n";
  return out;
}

RunResult warmer(const std::vector<std::string>& args, const Env& env = {}) {
  std::vector<std::string> argv{tool_path("warmer")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, env, std::chrono::seconds(120));
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? *r : RunResult{};
}

// Every file under blobs/ hashes to its name, and nothing else lies there.
void expect_blobs_verified(const std::string& cache) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(cache + "/blobs")) {
    if (!entry.is_regular_file()) continue;
    auto d = digest::hash_file(entry.path().string());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->hex(), entry.path().filename().string()) << "blob does not match its name: " << entry.path();
    ++n;
  }
  EXPECT_GT(n, 0);
}

class Warmer : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_UNLESS("docker-registry", "skopeo", "python3", "openssl", "htpasswd");
    SKIP_UNLESS_TOOL("warmer");
  }
};

TEST_F(Warmer, WarmsIntoAValidOciLayoutWithVerifiedBlobs) {
  auto reg = ASSERT_OK(RegistryServer::start());
  std::string digest = ASSERT_OK(seed_base_image(reg, k_busybox));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("cache");
  std::string ref = reg.host() + "/" + k_busybox;

  auto r = warmer({"--cache-dir", cache, "--image", ref, "--insecure-registry", reg.host()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("fetched"), std::string::npos) << r.err;
  expect_blobs_verified(cache);

  // skopeo reads the cache dir as an OCI layout, under the normalised reference.
  auto inspect = ASSERT_OK(run_skopeo({"inspect", "oci:" + cache + ":" + ref}));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.describe();
  auto info = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(info["Digest"], digest);
  EXPECT_EQ(info["Architecture"], "amd64");
  // No temp files of the download are left behind.
  EXPECT_TRUE(fs::is_empty(cache + "/ingest"));
}

TEST_F(Warmer, RewarmCostsOneHeadForATagAndNothingForADigest) {
  auto reg = ASSERT_OK(RegistryServer::start());
  std::string digest = ASSERT_OK(seed_base_image(reg, k_busybox));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("cache");
  std::string tag_ref = reg.host() + "/" + k_busybox;
  std::string digest_ref = reg.host() + "/library/busybox@" + digest;
  std::vector<std::string> common{"--cache-dir", cache, "--insecure-registry", reg.host()};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };

  ASSERT_EQ(warmer(with({"-i", tag_ref, "-i", digest_ref})).exit_code, 0);
  std::size_t before = served(reg).size();
  auto again = warmer(with({"-i", tag_ref}));
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  auto reqs = since(served(reg), before);
  // One manifest HEAD, plus the registry's version check (GET /v2/, once per registry and run).
  EXPECT_EQ(reqs.size(), 2u) << describe(reqs);
  EXPECT_EQ(count(reqs, "GET", "/v2/"), 1) << describe(reqs);
  EXPECT_EQ(count(reqs, "HEAD", "/manifests/latest"), 1) << describe(reqs);
  EXPECT_EQ(count(reqs, "GET", "/manifests/") + count(reqs, "GET", "/blobs/"), 0) << describe(reqs);
  EXPECT_NE(again.err.find("up to date"), std::string::npos) << again.err;

  // Pinned by digest: not a single request; proven by stopping the registry.
  reg.stop();
  auto pinned = warmer(with({"-i", digest_ref}));
  EXPECT_EQ(pinned.exit_code, 0) << pinned.describe();
  EXPECT_NE(pinned.err.find("cached"), std::string::npos) << pinned.err;
}

TEST_F(Warmer, ExpiredEntriesAreRefreshedAndForceRefetches) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, k_busybox));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("cache");
  std::string ref = reg.host() + "/" + k_busybox;
  std::vector<std::string> args{"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", ref};
  ASSERT_EQ(warmer(args).exit_code, 0);

  std::size_t before = served(reg).size();
  auto expired_args = args;
  expired_args.insert(expired_args.end(), {"--cache-ttl", "1ms"});
  auto expired = warmer(expired_args);
  ASSERT_EQ(expired.exit_code, 0) << expired.describe();
  EXPECT_NE(expired.err.find("refreshed"), std::string::npos) << expired.err;
  auto reqs = since(served(reg), before);
  EXPECT_EQ(count(reqs, "GET", "/manifests/latest"), 1) << describe(reqs);
  EXPECT_EQ(count(reqs, "GET", "/blobs/"), 0) << "blobs present are never fetched again\n" << describe(reqs);

  auto forced = args;
  forced.push_back("--force");
  auto f = warmer(forced);
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_NE(f.err.find("refreshed"), std::string::npos) << f.err;
}

TEST_F(Warmer, SharedBlobsAreFetchedOnceAndIndexesPickThePlatform) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, k_busybox));
  ASSERT_OK(seed_base_image(reg, "library/busybox:layers", {.extra_layers = 2}));
  std::string index_digest = ASSERT_OK(seed_base_image(reg, "library/busybox:multi", {.platforms = Platforms::multi_arch}));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("cache");
  std::string host = reg.host();

  auto r = warmer({"--cache-dir", cache, "--insecure-registry", host, "-i", host + "/" + k_busybox, "-i",
                   host + "/library/busybox:layers", "-i", host + "/library/busybox@" + index_digest});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto reqs = served(reg);
  // Every blob was downloaded at most once, although the busybox layer is in all three images.
  std::map<std::string, int> blob_gets;
  for (const auto& q : reqs) {
    if (q.method == "GET" && q.path.find("/blobs/") != std::string::npos) ++blob_gets[q.path.substr(q.path.rfind('/') + 1)];
  }
  EXPECT_FALSE(blob_gets.empty());
  for (const auto& [blob, n] : blob_gets) EXPECT_EQ(n, 1) << blob << "\n" << describe(reqs);
  expect_blobs_verified(cache);

  // The image pinned by its index digest is found again without the registry, and the arm64
  // platform, never fetched, is not claimed to be cached.
  reg.stop();
  auto again = warmer({"--cache-dir", cache, "-i", host + "/library/busybox@" + index_digest});
  EXPECT_EQ(again.exit_code, 0) << again.describe();
  auto arm = warmer({"--cache-dir", cache, "--custom-platform", "linux/arm64", "-i",
                     host + "/library/busybox@" + index_digest, "--insecure-registry", host});
  EXPECT_EQ(arm.exit_code, 1) << arm.describe();
}

TEST_F(Warmer, WarmsTheBaseImagesOfADockerfile) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, k_busybox));
  ASSERT_OK(seed_base_image(reg, "library/busybox:layers", {.extra_layers = 1}));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  ASSERT_OK(write_file(dir.file("Dockerfile"),
                       "ARG REG\nARG TAG=latest\n"
                       "FROM ${REG}/library/busybox:${TAG} AS base\nRUN true\n"
                       "FROM base\nCOPY --from=" + reg.host() + "/library/busybox:layers /layer-1.txt /\n"
                       "FROM scratch\nCOPY --from=base /bin/sh /\n"));
  std::string cache = dir.file("cache");
  auto r = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "--dockerfile", dir.file("Dockerfile"),
                   "--build-arg", "REG=" + reg.host()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find(reg.host() + "/library/busybox:latest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reg.host() + "/library/busybox:layers"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warmed 2 of 2"), std::string::npos) << r.err;

  ASSERT_OK(write_file(dir.file("Bad.Dockerfile"), "FROM busybox\nRUNN x\n"));
  auto bad = warmer({"--cache-dir", cache, "--dockerfile", dir.file("Bad.Dockerfile")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("Bad.Dockerfile:2"), std::string::npos) << bad.err;
}

TEST_F(Warmer, AuthenticatesOverTlsWithConfigJsonAndTokens) {
  for (auto auth : {RegistryAuth::htpasswd, RegistryAuth::token}) {
    auto reg = ASSERT_OK(RegistryServer::start({.transport = RegistryTransport::tls, .auth = auth}));
    ASSERT_OK(seed_base_image(reg, k_busybox));
    auto dir = ASSERT_OK(TempDir::create("warmer"));
    std::string ref = reg.host() + "/" + k_busybox;
    std::string cache = dir.file("cache");
    std::vector<std::string> args{"--cache-dir", cache, "-i", ref, "--registry-certificate",
                                  reg.host() + "=" + reg.ca_cert(), "-v", "trace"};

    // No credentials: a clear failure, exit 1.
    fs::create_directories(dir.file("empty"));
    auto anon = warmer(args, {{"DOCKER_CONFIG", dir.file("empty")}});
    EXPECT_EQ(anon.exit_code, 1) << anon.describe();
    EXPECT_NE(anon.err.find("unauthorized"), std::string::npos) << anon.err;

    // Wrong password: same, and the password is never printed.
    auto write_config = [&](const std::string& sub, const std::string& password) {
      fs::create_directories(dir.file(sub));
      nlohmann::json config;
      config["auths"][reg.host()] = {{"username", reg.user()}, {"password", password}};
      return write_file(dir.file(sub + "/config.json"), config.dump());
    };
    ASSERT_OK(write_config("wrong", "not-the-password-x1"));
    auto wrong = warmer(args, {{"DOCKER_CONFIG", dir.file("wrong")}});
    EXPECT_EQ(wrong.exit_code, 1) << wrong.describe();
    EXPECT_EQ((wrong.out + wrong.err).find("not-the-password-x1"), std::string::npos);

    ASSERT_OK(write_config("good", reg.password()));
    auto good = warmer(args, {{"DOCKER_CONFIG", dir.file("good")}});
    ASSERT_EQ(good.exit_code, 0) << good.describe();
    EXPECT_EQ((good.out + good.err).find(reg.password()), std::string::npos) << "password leaked at trace level";
    expect_blobs_verified(cache);
  }
}

TEST_F(Warmer, FailsClearlyAndStoresNothingBad) {
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, k_busybox));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("cache");

  auto unknown = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", reg.host() + "/library/nothing:here"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("library/nothing:here"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("warmer: error:"), std::string::npos) << unknown.err;

  EXPECT_EQ(warmer({"--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(warmer({"--cache-dir", cache}).exit_code, 2);  // nothing to warm
  EXPECT_EQ(warmer({"--cache-dir", cache, "-i", "Busybox"}).exit_code, 2);  // uppercase repository
  EXPECT_EQ(warmer({"--cache-dir", cache, "-i", "x", "--cache-ttl", "soon"}).exit_code, 2);

  // Corrupt every layer blob in the registry's storage: the warmer must refuse the bytes.
  for (const auto& entry : fs::recursive_directory_iterator(reg.storage_dir())) {
    if (entry.is_regular_file() && entry.path().filename() == "data" && fs::file_size(entry.path()) > 100000) {
      std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(5000);
      f.write("CORRUPTED", 9);
    }
  }
  auto corrupt = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", reg.host() + "/" + k_busybox});
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.describe();
  EXPECT_NE(corrupt.err.find("digest"), std::string::npos) << corrupt.err;
  for (const auto& entry : fs::recursive_directory_iterator(cache + "/blobs")) {
    if (!entry.is_regular_file()) continue;
    auto d = digest::hash_file(entry.path().string());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->hex(), entry.path().filename().string());
  }
}

TEST_F(Warmer, FullDiskIsAClearErrorAndTheCacheStaysUsable) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  auto reg = ASSERT_OK(RegistryServer::start());
  ASSERT_OK(seed_base_image(reg, k_busybox));
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  std::string cache = dir.file("small");
  fs::create_directories(cache);
  ASSERT_EQ(::mount("tmpfs", cache.c_str(), "tmpfs", 0, "size=600k"), 0) << strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{cache};

  auto full = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", reg.host() + "/" + k_busybox});
  EXPECT_EQ(full.exit_code, 1) << full.describe();
  EXPECT_NE(full.err.find("no space"), std::string::npos) << full.err;
  EXPECT_TRUE(!fs::exists(cache + "/ingest") || fs::is_empty(cache + "/ingest")) << "partial download left behind";

  // Remount bigger (same files): the next run completes.
  ASSERT_EQ(::mount("tmpfs", cache.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0) << strerror(errno);
  auto ok = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", reg.host() + "/" + k_busybox});
  EXPECT_EQ(ok.exit_code, 0) << ok.describe();
  expect_blobs_verified(cache);
}

// Writes an OCI layout holding one image whose single layer is an uncompressed tar of `mb` MiB
// of random bytes, and pushes it with skopeo.
Result<void> push_big_image(const RegistryServer& reg, const TempDir& dir, const std::string& repo_tag, int mb) {
  std::string layout = dir.file("big-layout");
  fs::create_directories(layout + "/blobs/sha256");
  std::string payload_dir = dir.file("big-payload");
  fs::create_directories(payload_dir);
  {
    std::ofstream out(payload_dir + "/random.bin", std::ios::binary);
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> buf(1 << 17);
    for (int i = 0; i < mb; ++i) {
      for (auto& v : buf) v = rng();
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size() * 8));
    }
  }
  std::string layer = dir.file("layer.tar");
  TRY(run_checked({"tar", "-C", payload_dir, "-cf", layer, "random.bin"}));
  std::uint64_t layer_size = 0;
  auto layer_digest = TRY(digest::hash_file(layer, digest::Algorithm::sha256, &layer_size));
  fs::rename(layer, layout + "/blobs/sha256/" + layer_digest.hex());
  nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest.str()}}}},
                           {"config", nlohmann::json::object()}};
  std::string config_bytes = config.dump();
  auto config_digest = digest::sha256(config_bytes);
  TRY(write_file(layout + "/blobs/sha256/" + config_digest.hex(), config_bytes));
  nlohmann::json manifest = {
      {"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config_digest.str()}, {"size", config_bytes.size()}}},
      {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", layer_digest.str()}, {"size", layer_size}}}}};
  std::string manifest_bytes = manifest.dump();
  auto manifest_digest = digest::sha256(manifest_bytes);
  TRY(write_file(layout + "/blobs/sha256/" + manifest_digest.hex(), manifest_bytes));
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                          {"digest", manifest_digest.str()}, {"size", manifest_bytes.size()},
                                          {"annotations", {{"org.opencontainers.image.ref.name", "big"}}}}}}};
  TRY(write_file(layout + "/index.json", index.dump()));
  TRY(write_file(layout + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  auto copy = TRY(run_skopeo({"copy", "--dest-tls-verify=false", "oci:" + layout + ":big",
                              "docker://" + reg.host() + "/" + repo_tag}));
  if (copy.exit_code != 0) return fail(ErrorKind::internal, copy.describe());
  return {};
}

TEST_F(Warmer, AKilledWarmerLeavesACacheTheNextRunCompletes) {
  auto reg = ASSERT_OK(RegistryServer::start());
  auto dir = ASSERT_OK(TempDir::create("warmer"));
  ASSERT_OK(push_big_image(reg, dir, "big/image:latest", 96));
  std::string cache = dir.file("cache");
  std::string ref = reg.host() + "/big/image:latest";
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    auto p = ASSERT_OK(Process::start({.argv = {tool_path("warmer"), "--cache-dir", cache, "--insecure-registry",
                                                reg.host(), "-i", ref},
                                       .stdout_path = dir.file("out.txt"),
                                       .stderr_path = dir.file("err.txt")}));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    ::kill(p.pid(), SIGKILL);
    p.wait(std::chrono::seconds(10));
    // Whatever was cut, no blob is partial.
    if (fs::exists(cache + "/blobs")) {
      for (const auto& entry : fs::recursive_directory_iterator(cache + "/blobs")) {
        if (!entry.is_regular_file()) continue;
        auto d = digest::hash_file(entry.path().string());
        ASSERT_TRUE(d);
        EXPECT_EQ(d->hex(), entry.path().filename().string());
      }
    }
  }
  auto r = warmer({"--cache-dir", cache, "--insecure-registry", reg.host(), "-i", ref});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  expect_blobs_verified(cache);
  auto inspect = ASSERT_OK(run_skopeo({"inspect", "oci:" + cache + ":" + ref}));
  EXPECT_EQ(inspect.exit_code, 0) << inspect.describe();
}

}  // namespace
}  // namespace strata::itest
