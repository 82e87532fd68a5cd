#include "store/oci_layout.hpp"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/file_ops.hpp"
#include "seed_image.hpp"
#include "store_test_support.hpp"

namespace strata::store {
namespace {

using test::TempDir;

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

TEST(OciLayout, OpenWritesOciLayoutFile) {
  TempDir dir;
  ASSERT_TRUE(CacheDir::open(dir.path()));
  auto text = read_file(dir / "oci-layout");
  ASSERT_TRUE(text);
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["imageLayoutVersion"], "1.0.0");
}

TEST(OciLayout, IndexJsonFollowsImageRecords) {
  TempDir dir;
  auto cd = *CacheDir::open(dir.path());
  auto multi = test::seed_image(cd, "127.0.0.1:5000/library/busybox:latest", {"linux/amd64", "linux/arm64"}, true);
  ASSERT_TRUE(multi) << multi.error().message();
  auto single = test::seed_image(cd, "docker.io/library/alpine:3.19", {"linux/amd64"}, false);
  ASSERT_TRUE(single) << single.error().message();

  auto entries = read_index_json(dir.path());
  ASSERT_TRUE(entries) << entries.error().message();
  ASSERT_EQ(entries->size(), 2u) << "one entry per reference, not per platform";
  EXPECT_EQ((*entries)[0].ref_name, "127.0.0.1:5000/library/busybox:latest");
  EXPECT_EQ((*entries)[0].digest, multi->top);
  EXPECT_EQ((*entries)[0].media_type, image::media::oci_index);
  EXPECT_EQ((*entries)[0].size, *cd.blobs().size(multi->top));
  EXPECT_EQ((*entries)[1].ref_name, "docker.io/library/alpine:3.19");
  EXPECT_EQ((*entries)[1].digest, single->top);
  EXPECT_EQ((*entries)[1].platform, "linux/amd64");

  {
    auto w = *cd.index().write();
    ASSERT_TRUE(w.delete_image("docker.io/library/alpine:3.19", "linux/amd64"));
    ASSERT_TRUE(w.commit());
  }
  entries = read_index_json(dir.path());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].digest, multi->top);
  auto names = *list_dir(dir.path());
  for (const auto& n : names) EXPECT_EQ(n.find(".tmp-"), std::string::npos) << "leftover temp " << n;
}

TEST(OciLayout, MostRecentlyFetchedRecordNamesTheReference) {
  ImageRecord a;
  a.reference = "r:t";
  a.platform = "linux/amd64";
  a.manifest = digest::sha256("old");
  a.fetched = from_unix_ms(1000);
  ImageRecord b = a;
  b.platform = "linux/arm64";
  b.manifest = digest::sha256("new");
  b.fetched = from_unix_ms(2000);
  auto e = layout_entries({a, b});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].digest, b.manifest);
}

// The layout must be readable by the real tools under the reference names we write.
TEST(OciLayout, SkopeoAndUmociReadCachedImages) {
  if (!have("skopeo")) GTEST_SKIP() << "skopeo is not installed";
  TempDir dir;
  auto cd = *CacheDir::open(dir.path());
  const std::string ref = "127.0.0.1:5000/library/busybox:latest";
  auto multi = test::seed_image(cd, ref, {"linux/amd64", "linux/arm64"}, true);
  ASSERT_TRUE(multi);
  const std::string one = "127.0.0.1:5000/team/app:v1.2";
  auto single = test::seed_image(cd, one, {"linux/amd64"}, false);
  ASSERT_TRUE(single);

  int status = 0;
  std::string out = run("skopeo inspect --raw oci:" + dir.path() + ":" + ref, &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(digest::sha256(out), multi->top) << "skopeo must find the index under its ref.name";
  out = run("skopeo inspect oci:" + dir.path() + ":" + one, &status);
  ASSERT_EQ(status, 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_EQ(j["Digest"], single->top.str());
  EXPECT_EQ(j["Architecture"], "amd64");

  if (!have("umoci")) GTEST_SKIP() << "umoci is not installed";
  out = run("umoci ls --layout " + dir.path(), &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find(one), std::string::npos) << out;
  out = run("umoci unpack --image " + dir.path() + ":" + one + " " + dir.path() + "/bundle", &status);
  ASSERT_EQ(status, 0) << out;
  auto hello = read_file(dir / "bundle/rootfs/hello-amd64");
  ASSERT_TRUE(hello) << hello.error().message();
  EXPECT_EQ(*hello, "hello from " + one + " linux/amd64\n");
}

}  // namespace
}  // namespace strata::store
