#include <gtest/gtest.h>

#include "context/context_spec.hpp"

namespace strata::context {
namespace {

Kind kind_of(const std::string &c) {
  auto s = parse_context(c);
  EXPECT_TRUE(s) << c << ": " << (s ? "" : s.error().message());
  return s ? s->kind : Kind::dir;
}

TEST(ContextSpec, EveryKaniKoSchemeIsRecognised) {
  EXPECT_EQ(kind_of("/workspace"), Kind::dir);
  EXPECT_EQ(kind_of("relative/dir"), Kind::dir);
  EXPECT_EQ(kind_of("dir:///workspace"), Kind::dir);
  EXPECT_EQ(kind_of("tar:///ctx.tar.gz"), Kind::tar_file);
  EXPECT_EQ(kind_of("tar://stdin"), Kind::tar_stdin);
  EXPECT_EQ(kind_of("git://github.com/acme/app.git#refs/heads/main"),
            Kind::git);
  EXPECT_EQ(kind_of("https://git.example.com/acme/app.git"), Kind::git);
  EXPECT_EQ(kind_of("https://git.example.com/acme/app#v1.0"), Kind::git);
  EXPECT_EQ(kind_of("s3://bucket/path/ctx.tar.gz"), Kind::s3);
  EXPECT_EQ(kind_of("gs://bucket"), Kind::gcs);
  EXPECT_EQ(kind_of("https://acct.blob.core.windows.net/c/ctx.tar.gz"),
            Kind::azure_blob);
  EXPECT_EQ(kind_of("https://acct.blob.core.chinacloudapi.cn/c/ctx.tar.gz"),
            Kind::azure_blob);
  EXPECT_EQ(
      kind_of(
          "https://acct.blob.core.usgovcloudapi.net/c/ctx.tar.gz?sv=1&sig=x"),
      Kind::azure_blob);
  EXPECT_EQ(kind_of("https://acct.blob.core.cloudapi.de/c/ctx.tar.gz"),
            Kind::azure_blob);
  EXPECT_EQ(kind_of("https://example.com/ctx.tar.gz"), Kind::https_tar);
  EXPECT_EQ(kind_of("http://127.0.0.1:8080/ctx.tgz"), Kind::https_tar);
}

TEST(ContextSpec, LocationsAndErrors) {
  EXPECT_EQ(parse_context("dir:///w")->location, "/w");
  EXPECT_EQ(parse_context("s3://b/k/x.tgz")->location, "b/k/x.tgz");
  EXPECT_EQ(parse_context("tar:///a.tar")->location, "/a.tar");
  auto bad = parse_context("ftp://host/x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), ErrorKind::invalid_argument);
  EXPECT_NE(bad.error().message().find("unknown scheme"), std::string::npos);
  EXPECT_FALSE(parse_context(""));
  EXPECT_FALSE(parse_context("s3://"));
  EXPECT_FALSE(is_azure_blob_host("blob.core.windows.net.evil.com"));
  EXPECT_FALSE(is_azure_blob_host(".blob.core.windows.net"));
}

TEST(ContextSpec, GitLocationSplitsRefAndCommit) {
  std::string commit(40, 'a');
  auto a = split_git_location("git://h/r.git#refs/heads/dev#" + commit);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->url, "git://h/r.git");
  EXPECT_EQ(a->ref, "refs/heads/dev");
  EXPECT_EQ(a->commit, commit);
  auto b = split_git_location("https://h/r.git#" + commit);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ref, "");
  EXPECT_EQ(b->commit, commit);
  auto c = split_git_location("https://h/r.git#refs/pull/7/head");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ref, "refs/pull/7/head");
  EXPECT_FALSE(split_git_location("git://h/r.git#--upload-pack=evil"));
  EXPECT_FALSE(split_git_location("git://h/r.git#main#notahash"));
}

TEST(ContextSpec, GitOptionsAsKaniko) {
  auto o =
      parse_git_options({"branch=dev,single-branch=true",
                         "recurse-submodules=true,insecure-skip-tls=false"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->branch, "dev");
  EXPECT_TRUE(o->single_branch);
  EXPECT_TRUE(o->recurse_submodules);
  EXPECT_FALSE(o->insecure_skip_tls);
  EXPECT_FALSE(parse_git_options({"depth=1"}));
  EXPECT_FALSE(parse_git_options({"single-branch=maybe"}));
  EXPECT_FALSE(parse_git_options({"branch"}));
}

} // namespace
} // namespace strata::context
