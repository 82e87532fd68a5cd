// The layer cache against a real registry (docker-registry from the fixture): entries pushed by
// one "node" (cache dir) are found by another with a fresh cache dir, imported so that the next
// lookup is local, and ignored once older than the TTL.
#include <gtest/gtest.h>

#include <fstream>

#include "cache/cache_repo.hpp"
#include "cache/layer_cache.hpp"
#include "integration/support/itest.hpp"
#include "registry/client.hpp"

namespace strata {
namespace {

using namespace std::chrono_literals;
using itest::RegistryServer;

std::unique_ptr<registry::Client> make_client(const RegistryServer& server) {
  registry::RegistryOptions options;
  options.insecure_registries = {server.host()};
  auto client = registry::Client::create(options, [](std::string_view) -> Result<registry::Login> {
    return registry::Login{};
  });
  EXPECT_TRUE(client) << client.error().message();
  return std::move(*client);
}

cache::LayerFile make_layer(const std::string& path, std::size_t size) {
  std::string content;
  for (std::size_t i = 0; i < size; ++i) content += static_cast<char>((i * 131 + i / 13) % 256);
  std::ofstream(path, std::ios::binary) << content;
  cache::LayerFile l;
  l.descriptor.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  l.descriptor.digest = digest::sha256(content);
  l.descriptor.size = static_cast<std::int64_t>(content.size());
  l.diff_id = digest::sha256("diff:" + content);
  l.path = path;
  return l;
}

cache::StepKey run_key(const std::string& command) {
  auto chain = cache::KeyChain::from_image("linux/amd64", digest::sha256("base manifest"));
  cache::StepInputs s;
  s.kind = cache::StepKind::run;
  s.instruction = "RUN " + command;
  s.display = s.instruction;
  return chain.next(s);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LayerCacheRegistry, PushThenHitFromAFreshCacheDirThenLocallyAndTtl) {
  SKIP_UNLESS("docker-registry");
  auto server = ASSERT_OK(RegistryServer::start({}));
  auto tmp = ASSERT_OK(itest::TempDir::create("layer-cache"));
  auto client = make_client(server);
  ASSERT_TRUE(client);
  const std::string repo_name = server.host() + "/team/app/cache";
  EXPECT_EQ(ASSERT_OK(cache::default_cache_repo(server.host() + "/team/app:v1")), repo_name);
  store::ManualClock clock;
  cache::CacheOptions options;
  options.enabled = true;

  auto layer = make_layer(tmp.file("layer.tgz"), 200'000);
  auto key = run_key("make");

  // Node 1: a miss, the step "runs", the entry is stored locally and pushed in the background.
  {
    auto dir = ASSERT_OK(store::CacheDir::open(tmp.file("node1"), {clock.clock()}));
    auto repo = ASSERT_OK(cache::open_cache_repo(repo_name, client.get()));
    cache::LayerCache lc(options, &dir, std::move(repo), nullptr, clock.clock());
    EXPECT_FALSE(lc.lookup(key, 0, 1));
    lc.store(key, layer);
    auto report = lc.finish();
    EXPECT_EQ(report.pushed, 1u) << report.to_json();
    EXPECT_TRUE(report.push_failures.empty()) << report.to_json();
  }
  // The entry is an image tagged with the key.
  auto ref = ASSERT_OK(image::Reference::parse(repo_name + ":" + key.key));
  auto manifest = ASSERT_OK(client->get_manifest(ref));
  auto entry = ASSERT_OK(cache::parse_entry_image(manifest.bytes, [&] {
    registry::StringBlobSink sink;
    auto m = image::Manifest::parse(manifest.bytes);
    EXPECT_TRUE(m);
    EXPECT_TRUE(client->fetch_blob(ref, m->config.digest, static_cast<std::uint64_t>(m->config.size), sink));
    return sink.data();
  }()));
  EXPECT_EQ(entry.config.key, key.key);
  EXPECT_EQ(entry.config.step, "RUN make");
  EXPECT_EQ(entry.layer.digest, layer.descriptor.digest);

  // Node 2, empty cache dir: a remote hit, imported locally.
  auto dir2 = ASSERT_OK(store::CacheDir::open(tmp.file("node2"), {clock.clock()}));
  {
    auto repo = ASSERT_OK(cache::open_cache_repo(repo_name, client.get()));
    cache::LayerCache lc(options, &dir2, std::move(repo), nullptr, clock.clock());
    auto hit = lc.lookup(key, 0, 1);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->source, "remote");
    EXPECT_EQ(slurp(hit->layer.path), slurp(layer.path));
    EXPECT_EQ(hit->layer.diff_id, layer.diff_id);
    // Another key is not there: a plain miss, not an error.
    EXPECT_FALSE(lc.lookup(run_key("make install"), 0, 2));
    auto report = lc.finish();
    EXPECT_EQ(report.hits("remote"), 1u);
    EXPECT_EQ(report.bytes_downloaded, 200'000u);
    ASSERT_EQ(report.steps.size(), 2u);
    EXPECT_EQ(report.steps[1].reason, "not present");
  }
  // Node 2 again, registry gone: the entry is local now.
  server.stop();
  {
    cache::LayerCache lc(options, &dir2, nullptr, nullptr, clock.clock());
    auto hit = lc.lookup(key, 0, 1);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->source, "local");
  }
}

TEST(LayerCacheRegistry, ExpiredRemoteEntryIsNotUsedAndUnreachableRepoIsAMiss) {
  SKIP_UNLESS("docker-registry");
  auto server = ASSERT_OK(RegistryServer::start({}));
  auto tmp = ASSERT_OK(itest::TempDir::create("layer-cache"));
  auto client = make_client(server);
  const std::string repo_name = server.host() + "/cache";
  store::ManualClock clock;
  cache::CacheOptions options;
  options.enabled = true;
  options.ttl = 24h;
  auto layer = make_layer(tmp.file("layer.tgz"), 1000);
  auto key = run_key("make");
  {
    auto repo = ASSERT_OK(cache::open_cache_repo(repo_name, client.get()));
    cache::LayerCache lc(options, nullptr, std::move(repo), nullptr, clock.clock());
    lc.store(key, layer);
    ASSERT_EQ(lc.finish().pushed, 1u);
  }
  clock.advance(25h);
  auto dir = ASSERT_OK(store::CacheDir::open(tmp.file("node"), {clock.clock()}));
  {
    auto repo = ASSERT_OK(cache::open_cache_repo(repo_name, client.get()));
    cache::LayerCache lc(options, &dir, std::move(repo), nullptr, clock.clock());
    EXPECT_FALSE(lc.lookup(key, 0, 0));
    auto report = lc.finish();
    ASSERT_EQ(report.steps.size(), 1u);
    EXPECT_NE(report.steps[0].reason.find("expired in cache repo"), std::string::npos) << report.steps[0].reason;
  }
  server.stop();
  {
    registry::RegistryOptions ro;
    ro.insecure_registries = {server.host()};
    ro.retry.max_retries = 0;
    auto quick = ASSERT_OK(registry::Client::create(ro, [](std::string_view) -> Result<registry::Login> {
      return registry::Login{};
    }));
    auto repo = ASSERT_OK(cache::open_cache_repo(repo_name, quick.get()));
    cache::LayerCache lc(options, &dir, std::move(repo), nullptr, clock.clock());
    EXPECT_FALSE(lc.lookup(key, 0, 0));
    lc.store(run_key("other"), layer);
    auto report = lc.finish();
    EXPECT_NE(report.steps[0].reason.find("lookup in cache repo failed"), std::string::npos) << report.steps[0].reason;
    EXPECT_EQ(report.push_failures.size(), 1u) << report.to_json();
  }
}

}  // namespace
}  // namespace strata
