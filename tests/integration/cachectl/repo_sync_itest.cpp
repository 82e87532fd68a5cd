// cachectl repo ls / repo prune / sync against real registries: plain HTTP, TLS with token auth,
// and a registry with deletion disabled. Layer-cache entries are made with the library's own
// entry format (cache/entry.hpp, as the executor's layer cache writes them) in a cache dir, and
// everything else goes through the cachectl binary.
#include <gtest/gtest.h>

#include <filesystem>

#include "cache/entry.hpp"
#include "cache/local_store.hpp"
#include "digest/digest.hpp"
#include "image/media_types.hpp"
#include "integration/support/itest.hpp"
#include "nlohmann/json.hpp"
#include "store/cache_dir.hpp"

namespace fs = std::filesystem;

namespace strata::itest {
namespace {

using namespace std::chrono_literals;

// n entries in a fresh cache dir: entry i was created i days ago, step "RUN step-i"; entries 0
// and 1 share their layer bytes (so one layer blob), the others have their own.
std::string make_cache_with_entries(const TempDir& dir, const std::string& name, int n) {
  std::string root = dir.file(name);
  auto cache = store::CacheDir::open(root);
  EXPECT_TRUE(cache) << cache.error().message();
  cache::LocalLayerStore local(*cache);
  auto now = std::chrono::system_clock::now();
  for (int i = 0; i < n; ++i) {
    int n_layer = i < 2 ? 0 : i;
    std::string content = "layer bytes of entry " + std::to_string(n_layer) + std::string(1000 * (n_layer + 1), 'x');
    std::string layer_path = dir.file(name + "-layer-" + std::to_string(i));
    EXPECT_TRUE(write_file(layer_path, content));
    cache::StepKey key;
    key.key = digest::sha256("key " + name + std::to_string(i)).hex();
    key.display = "RUN step-" + std::to_string(i);
    key.platform = "linux/amd64";
    image::Descriptor layer;
    layer.media_type = std::string(image::media::oci_layer_gzip);
    layer.digest = digest::sha256(content);
    layer.size = static_cast<std::int64_t>(content.size());
    auto entry = cache::make_entry_image(key, layer, digest::sha256("diff " + content), now - 24h * i);
    auto r = local.put(entry, layer_path);
    EXPECT_TRUE(r) << r.error().message();
  }
  return root;
}

class RepoSync : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_UNLESS("docker-registry", "python3");
    SKIP_UNLESS_TOOL("cachectl");
  }

  // Runs cachectl; repo and sync get the registry flags of every registry in m_flags.
  RunResult cachectl(std::vector<std::string> args) {
    std::vector<std::string> argv{tool_path("cachectl")};
    argv.insert(argv.end(), args.begin(), args.end());
    if (args[0] == "repo" || args[0] == "sync") argv.insert(argv.end(), m_flags.begin(), m_flags.end());
    Env env(m_env.begin(), m_env.end());
    auto r = run(argv, env, std::chrono::seconds(180));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : RunResult{};
  }
  nlohmann::json json(std::vector<std::string> args, int expect = 0) {
    args.push_back("--json");
    auto r = cachectl(args);
    EXPECT_EQ(r.exit_code, expect) << r.describe();
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception&) {
      ADD_FAILURE() << "not JSON: " << r.describe();
      return {};
    }
  }
  void use_registry(const RegistryServer& reg, const TempDir& dir) {
    if (reg.url().rfind("https", 0) == 0) {
      m_flags.insert(m_flags.end(), {"--registry-certificate", reg.host() + "=" + reg.ca_cert()});
    } else {
      m_flags.insert(m_flags.end(), {"--insecure-registry", reg.host()});
    }
    if (!reg.user().empty()) {
      m_auths[reg.host()] = {{"username", reg.user()}, {"password", reg.password()}};
      fs::create_directories(dir.file("docker"));
      ASSERT_TRUE(write_file(dir.file("docker/config.json"), nlohmann::json{{"auths", m_auths}}.dump()));
      m_env["DOCKER_CONFIG"] = dir.file("docker");
    }
  }
  static std::map<std::string, std::string> by_status(const nlohmann::json& report) {
    std::map<std::string, std::string> out;
    for (const auto& e : report["entries"]) out[e["key"]] = e["status"];
    return out;
  }

  std::vector<std::string> m_flags;
  std::map<std::string, std::string> m_env;
  nlohmann::json m_auths = nlohmann::json::object();
};

TEST_F(RepoSync, PlainRegistryListsPrunesAndSyncsBothWays) {
  auto reg = ASSERT_OK(RegistryServer::start());
  auto dir = ASSERT_OK(TempDir::create("repo-sync"));
  use_registry(reg, dir);
  std::string a = make_cache_with_entries(dir, "a", 6);
  std::string repo = reg.host() + "/team/app/cache";

  // dry run: nothing written.
  auto dry = json({"sync", a, repo, "--dry-run"});
  EXPECT_EQ(dry["copied"], 6) << dry.dump(2);
  EXPECT_EQ(json({"repo", "ls", repo})["entries"].size(), 0u);

  // dir → repo, then again: everything present.
  auto first = json({"sync", a, repo});
  EXPECT_EQ(first["copied"], 6) << first.dump(2);
  // 6 configs + 5 distinct layers; the shared layer is uploaded once, unless both entries holding
  // it looked at the same moment (parallel workers), then twice.
  EXPECT_GE(first["blobs_copied"].get<int>(), 11) << first.dump(2);
  EXPECT_EQ(first["blobs_copied"].get<int>() + first["blobs_present"].get<int>(), 12);
  auto again = json({"sync", a, repo});
  EXPECT_EQ(again["copied"], 0);
  EXPECT_EQ(again["present"], 6);

  auto ls = json({"repo", "ls", repo});
  ASSERT_EQ(ls["entries"].size(), 6u) << ls.dump(2);
  std::set<std::string> steps;
  for (const auto& e : ls["entries"]) {
    EXPECT_EQ(e["kind"], "layer");
    EXPECT_EQ(e["platform"], "linux/amd64");
    EXPECT_GT(e["size"].get<std::uint64_t>(), 1000u);
    EXPECT_FALSE(e["created"].get<std::string>().empty());
    steps.insert(e["step"]);
  }
  EXPECT_EQ(steps.count("RUN step-5"), 1u);
  auto table = cachectl({"repo", "ls", repo});
  EXPECT_NE(table.out.find("CREATED"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("RUN step-3"), std::string::npos) << table.out;

  // repo → dir into a fresh cache dir, verified, then incremental.
  std::string b = dir.file("b");
  ASSERT_TRUE(store::CacheDir::open(b));
  auto down = json({"sync", repo, "dir:" + b});
  EXPECT_EQ(down["copied"], 6) << down.dump(2);
  auto verify = cachectl({"verify", "--cache-dir", b});
  EXPECT_EQ(verify.exit_code, 0) << verify.describe();
  auto local_ls = json({"ls", "--cache-dir", b, "--filter", "type=layer"});
  EXPECT_EQ(local_ls["layers"].size(), 6u);
  EXPECT_EQ(json({"sync", repo, b})["present"], 6);

  // repo → repo on the same registry (cross-repository mounts), with a filter.
  std::string mirror = reg.host() + "/mirror/cache";
  auto filtered = json({"sync", repo, mirror, "--filter", "ref~=step-[12]$"});
  EXPECT_EQ(filtered["copied"], 2) << filtered.dump(2);
  EXPECT_EQ(json({"repo", "ls", mirror})["entries"].size(), 2u);

  // A second tag naming the oldest entry's manifest, kept through --keep: its digest stays.
  std::string oldest_tag;
  for (const auto& e : ls["entries"])
    if (e["step"] == "RUN step-5") oldest_tag = e["tag"];
  const std::string accept = std::string(image::media::oci_manifest);
  auto got = ASSERT_OK(http_request(reg.port(), "GET", "/v2/team/app/cache/manifests/" + oldest_tag, {{"Accept", accept}}));
  ASSERT_EQ(got.status, 200) << got.body;
  auto put = ASSERT_OK(
      http_request(reg.port(), "PUT", "/v2/team/app/cache/manifests/pinned", {{"Content-Type", accept}}, got.body));
  ASSERT_EQ(put.status, 201) << put.body;

  auto plan = json({"repo", "prune", repo, "--older-than", "3d12h", "--keep", repo + ":pinned", "--dry-run"});
  EXPECT_EQ(plan["entries"].size(), 2u) << plan.dump(2);  // step-4 and step-5
  EXPECT_EQ(plan["manifests_deleted"], 1);
  EXPECT_EQ(plan["kept_shared"], 1);
  EXPECT_EQ(json({"repo", "ls", repo})["entries"].size(), 7u);

  auto pruned = json({"repo", "prune", repo, "--older-than", "3d12h", "--keep", repo + ":pinned"});
  EXPECT_EQ(pruned["manifests_deleted"], 1) << pruned.dump(2);
  auto after = json({"repo", "ls", repo});
  // step-0..3, pinned, and step-5's tag: deleting its digest would have deleted pinned too.
  EXPECT_EQ(after["entries"].size(), 6u) << after.dump(2);

  auto keep_last = json({"repo", "prune", repo, "--keep-last", "2", "--keep", repo + ":pinned"});
  EXPECT_EQ(keep_last["manifests_deleted"], 2) << keep_last.dump(2);
  std::set<std::string> left;
  auto final_ls = json({"repo", "ls", repo});
  for (const auto& e : final_ls["entries"]) left.insert(e["step"].get<std::string>());
  EXPECT_EQ(left, (std::set<std::string>{"RUN step-0", "RUN step-1", "RUN step-5"}));

  // Usage errors.
  EXPECT_EQ(cachectl({"repo", "prune", repo}).exit_code, 2);
  EXPECT_EQ(cachectl({"repo", "ls", repo + ":tag"}).exit_code, 2);
  EXPECT_EQ(cachectl({"sync", a, "dir:" + b}).exit_code, 2);
}

TEST_F(RepoSync, TlsTokenRegistryAcrossRegistries) {
  SKIP_UNLESS("openssl");
  auto plain = ASSERT_OK(RegistryServer::start());
  auto secure = ASSERT_OK(RegistryServer::start({.transport = RegistryTransport::tls, .auth = RegistryAuth::token}));
  auto dir = ASSERT_OK(TempDir::create("repo-sync-tls"));
  use_registry(plain, dir);
  use_registry(secure, dir);
  std::string a = make_cache_with_entries(dir, "a", 4);
  std::string src = plain.host() + "/app/cache";
  std::string dst = secure.host() + "/air-gapped/app/cache";

  EXPECT_EQ(json({"sync", a, src})["copied"], 4);
  // repo → repo across registries: staged, verified, uploaded.
  auto copy = json({"sync", src, dst, "--parallel", "2"});
  EXPECT_EQ(copy["copied"], 4) << copy.dump(2);
  EXPECT_EQ(json({"sync", src, dst})["present"], 4);
  auto ls = json({"repo", "ls", dst});
  ASSERT_EQ(ls["entries"].size(), 4u) << ls.dump(2);

  // dir → token registry and back into a fresh cache dir.
  std::string a2 = make_cache_with_entries(dir, "a2", 2);
  EXPECT_EQ(json({"sync", "dir:" + a2, dst})["copied"], 2);
  std::string c = dir.file("c");
  ASSERT_TRUE(store::CacheDir::open(c));
  auto down = json({"sync", dst, c});
  EXPECT_EQ(down["copied"], 6) << down.dump(2);
  EXPECT_EQ(cachectl({"verify", "--cache-dir", c}).exit_code, 0);

  auto pruned = json({"repo", "prune", dst, "--max-used-space", "12KB"});
  EXPECT_GT(pruned["manifests_deleted"].get<int>(), 0) << pruned.dump(2);
  EXPECT_EQ(pruned["target_met"], true);
  EXPECT_LT(json({"repo", "ls", dst})["entries"].size(), 6u);

  // Without credentials the token registry refuses: a clear error, exit 1.
  m_env["DOCKER_CONFIG"] = dir.file("nowhere");
  auto anon = cachectl({"repo", "ls", dst});
  EXPECT_EQ(anon.exit_code, 1) << anon.describe();
  EXPECT_NE(anon.err.find("rejected the credentials"), std::string::npos) << anon.err;
}

TEST_F(RepoSync, RegistryWithDeletionDisabledRefuses) {
  auto reg = ASSERT_OK(RegistryServer::start({.deletes = Deletes::disabled}));
  auto dir = ASSERT_OK(TempDir::create("repo-nodelete"));
  use_registry(reg, dir);
  std::string a = make_cache_with_entries(dir, "a", 3);
  std::string repo = reg.host() + "/app/cache";
  EXPECT_EQ(json({"sync", a, repo})["copied"], 3);

  auto pruned = json({"repo", "prune", repo, "--all"}, 1);
  EXPECT_EQ(pruned["manifests_refused"], 3) << pruned.dump(2);
  for (const auto& e : pruned["entries"]) {
    EXPECT_EQ(e["status"], "refused");
    EXPECT_NE(e["detail"].get<std::string>().find("UNSUPPORTED"), std::string::npos) << e.dump();
  }
  auto table = cachectl({"repo", "prune", repo, "--all"});
  EXPECT_EQ(table.exit_code, 1);
  EXPECT_NE(table.out.find("3 refused by the registry"), std::string::npos) << table.describe();
  EXPECT_EQ(json({"repo", "ls", repo})["entries"].size(), 3u);
}

}  // namespace
}  // namespace strata::itest
