#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "cache/cache_repo.hpp"
#include "cache_test_support.hpp"
#include "store/blob_store.hpp"

namespace strata::cache {
namespace {

StepKey key_for(const std::string& instruction) {
  StepInputs s;
  s.instruction = instruction;
  s.display = instruction;
  return compute_key("linux/amd64", "scratch", s);
}

TEST(OciLayoutRepo, PushFindFetch) {
  test::TempDir tmp;
  auto repo = open_cache_repo("oci:" + tmp / "repo", nullptr);
  ASSERT_TRUE(repo) << repo.error().message();
  EXPECT_EQ((*repo)->describe(), "oci:" + tmp / "repo");

  auto key = key_for("RUN a");
  auto layer = test::make_layer(tmp / "work/layer", "layer A");
  auto entry = make_entry_image(key, layer.descriptor, layer.diff_id, store::from_unix_ms(1'700'000'000'000));
  ASSERT_TRUE((*repo)->push(entry, layer.path));

  auto missing = (*repo)->find(key_for("RUN b").key);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  auto found = (*repo)->find(key.key);
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->manifest_digest, entry.manifest_digest);
  EXPECT_EQ((*found)->config.key, key.key);

  auto target = store::BlobStore::open(tmp / "other");
  ASSERT_TRUE(target);
  ASSERT_TRUE((*repo)->fetch_layer(**found, *target));
  EXPECT_EQ(test::read_file(target->path(layer.descriptor.digest)), "layer A");

  // A valid OCI layout whose entry is named by the key.
  auto index = nlohmann::json::parse(test::read_file(tmp / "repo/index.json"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], key.key);
  EXPECT_EQ(index["manifests"][0]["digest"], entry.manifest_digest.str());
  EXPECT_NE(test::read_file(tmp / "repo/oci-layout").find("imageLayoutVersion"), std::string::npos);
}

TEST(OciLayoutRepo, RepushReplacesAndConcurrentPushesKeepEveryEntry) {
  test::TempDir tmp;
  auto repo = make_oci_layout_repo(tmp / "repo");
  ASSERT_TRUE(repo);
  auto layer = test::make_layer(tmp / "work/layer", "shared layer");
  auto key = key_for("RUN a");
  ASSERT_TRUE((*repo)->push(make_entry_image(key, layer.descriptor, layer.diff_id, store::from_unix_ms(1000)), layer.path));
  auto newer = make_entry_image(key, layer.descriptor, layer.diff_id, store::from_unix_ms(2000));
  ASSERT_TRUE((*repo)->push(newer, layer.path));
  auto found = (*repo)->find(key.key);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->manifest_digest, newer.manifest_digest);

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto k = key_for("RUN t" + std::to_string(i));
      if (!(*repo)->push(make_entry_image(k, layer.descriptor, layer.diff_id, store::from_unix_ms(1000)), layer.path))
        ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto index = nlohmann::json::parse(test::read_file(tmp / "repo/index.json"));
  EXPECT_EQ(index["manifests"].size(), 9u);
  for (int i = 0; i < 8; ++i) {
    auto f = (*repo)->find(key_for("RUN t" + std::to_string(i)).key);
    ASSERT_TRUE(f && *f) << i;
  }
}

TEST(CacheRepo, DefaultRepoAndBadValues) {
  EXPECT_EQ(*default_cache_repo("127.0.0.1:5000/team/app:v1"), "127.0.0.1:5000/team/app/cache");
  EXPECT_EQ(*default_cache_repo("busybox"), "docker.io/library/busybox/cache");
  EXPECT_FALSE(default_cache_repo("Not A Ref"));
  EXPECT_FALSE(open_cache_repo("oci:", nullptr));
  EXPECT_FALSE(open_cache_repo("127.0.0.1:5000/cache", nullptr));
}

}  // namespace
}  // namespace strata::cache
