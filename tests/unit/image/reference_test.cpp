// Expectations ported from distribution/reference's normalize and reference tests.
#include "image/reference.hpp"

#include <gtest/gtest.h>

#include <string>

using strata::ErrorKind;
using strata::image::Reference;

namespace {

const std::string k_hex = "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

Reference parse_ok(const std::string& text) {
  auto r = Reference::parse(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message());
  return r ? *r : Reference();
}

TEST(Reference, FamiliarNamesNormalise) {
  struct Case {
    const char* input;
    const char* full;
    const char* familiar;
  };
  const Case cases[] = {
      {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"user/app", "docker.io/user/app:latest", "user/app:latest"},
      {"docker.io/debian", "docker.io/library/debian:latest", "debian:latest"},
      {"index.docker.io/debian", "docker.io/library/debian:latest", "debian:latest"},
      {"index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest"},
      {"library/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"},
      {"library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest"},
      {"store/foo/bar", "docker.io/store/foo/bar:latest", "store/foo/bar:latest"},
      {"other/library", "docker.io/other/library:latest", "other/library:latest"},
      {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest",
       "127.0.0.1:8000/private/moonbase:latest"},
      {"example.com/privatebase", "example.com/privatebase:latest", "example.com/privatebase:latest"},
      {"example.com:8000/private/moonbase:v1", "example.com:8000/private/moonbase:v1",
       "example.com:8000/private/moonbase:v1"},
      {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
      {"localhost:5000/app:1.0", "localhost:5000/app:1.0", "localhost:5000/app:1.0"},
      {"ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest"},
      {"Foo/bar", "Foo/bar:latest", "Foo/bar:latest"},
      {"FOO/bar", "FOO/bar:latest", "FOO/bar:latest"},
      {"test_com/foo", "docker.io/test_com/foo:latest", "test_com/foo:latest"},
      {"test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080/foo:latest"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest", "xn--n3h.com:18080/foo:latest"},
      {"[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker:latest", "[fc00::1]:5000/docker/docker:latest"},
      {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest"},
      {"192.168.0.1", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest"},
      {"192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80"},
      {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"},
      {"docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
       "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
       "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest"},
      {"docker---rules/docker", "docker.io/docker---rules/docker:latest", "docker---rules/docker:latest"},
      {"dock__er/docker", "docker.io/dock__er/docker:latest", "dock__er/docker:latest"},
      {"jess/t", "docker.io/jess/t:latest", "jess/t:latest"},
      // Docker would shorten these to a form that reads back as another registry.
      {"docker.io/foo.bar/x", "docker.io/foo.bar/x:latest", "docker.io/foo.bar/x:latest"},
      {"docker.io/localhost/x", "docker.io/localhost/x:latest", "docker.io/localhost/x:latest"},
      {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
       "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
       "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest"},
  };
  for (const auto& c : cases) {
    Reference r = parse_ok(c.input);
    EXPECT_EQ(r.str(), c.full) << c.input;
    EXPECT_EQ(r.familiar(), c.familiar) << c.input;
  }
}

TEST(Reference, Components) {
  Reference r = parse_ok("busybox");
  EXPECT_EQ(r.registry(), "docker.io");
  EXPECT_EQ(r.repository(), "library/busybox");
  EXPECT_EQ(r.tag(), "latest");
  EXPECT_FALSE(r.digest().has_value());
  EXPECT_EQ(r.api_host(), "registry-1.docker.io");
  EXPECT_EQ(r.name(), "docker.io/library/busybox");
  EXPECT_EQ(r.identifier(), "latest");

  Reference local = parse_ok("127.0.0.1:5000/a/b:tag");
  EXPECT_EQ(local.registry(), "127.0.0.1:5000");
  EXPECT_EQ(local.repository(), "a/b");
  EXPECT_EQ(local.tag(), "tag");
  EXPECT_EQ(local.api_host(), "127.0.0.1:5000");
}

TEST(Reference, Digests) {
  Reference pinned = parse_ok("busybox@sha256:" + k_hex);
  EXPECT_EQ(pinned.tag(), "");
  ASSERT_TRUE(pinned.digest().has_value());
  EXPECT_EQ(pinned.digest()->hex(), k_hex);
  EXPECT_EQ(pinned.str(), "docker.io/library/busybox@sha256:" + k_hex);
  EXPECT_EQ(pinned.identifier(), "sha256:" + k_hex);

  std::string short_ref = "busybox:latest@sha256:" + k_hex;
  Reference both = parse_ok(short_ref);
  EXPECT_EQ(both.str(), "docker.io/library/" + short_ref);
  EXPECT_EQ(both.familiar(), short_ref);
  EXPECT_EQ(both.tag(), "latest");
  EXPECT_EQ(both.identifier(), "sha256:" + k_hex);

  Reference host = parse_ok("h:5000/r:t@sha256:" + k_hex);
  EXPECT_EQ(host.str(), "h:5000/r:t@sha256:" + k_hex);
}

TEST(Reference, Builders) {
  Reference r = parse_ok("busybox:1@sha256:" + k_hex);
  EXPECT_EQ(r.with_tag("2").str(), "docker.io/library/busybox:2");
  auto d = strata::digest::Digest::parse("sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(d);
  EXPECT_EQ(parse_ok("a/b:t").with_digest(*d).str(), "docker.io/a/b:t@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(parse_ok("busybox").with_registry("mirror.local:5000").str(), "mirror.local:5000/library/busybox:latest");
  EXPECT_EQ(parse_ok("r.io/x").with_registry("index.docker.io").registry(), "docker.io");
  EXPECT_TRUE(Reference::is_valid_tag("v1.2-rc_3"));
  EXPECT_FALSE(Reference::is_valid_tag("-foo"));
  EXPECT_FALSE(Reference::is_valid_tag(std::string(129, 'a')));
  EXPECT_TRUE(Reference::is_valid_tag(std::string(128, 'a')));
  EXPECT_TRUE(Reference::is_valid_registry("[::1]:5000"));
  EXPECT_FALSE(Reference::is_valid_registry("host:"));
  EXPECT_EQ(parse_ok("a/b"), parse_ok("docker.io/a/b:latest"));
}

TEST(Reference, InvalidReferences) {
  const std::string invalid[] = {
      "",
      "https://github.com/docker/docker",
      "docker/Docker",
      "-docker",
      "-docker/docker",
      "-docker.io/docker/docker",
      "docker///docker",
      "docker.io/docker/Docker",
      "docker.io/docker///docker",
      "[fc00::1]",
      "[fc00::1]:5000",
      "fc00::1:5000/debian",
      "[fe80::1%eth0]:5000/debian",
      "[2001:db8:3:4::192.0.2.33]:5000/debian",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "docker-/docker",
      "-docker-/docker",
      "____/____",
      "_docker/_docker",
      "dock..er/docker",
      "dock_.er/docker",
      "dock-.er/docker",
      "docker/",
      "busybox:",
      "busybox:-tag",
      "busybox:" + std::string(129, 'a'),
      "busybox@sha256:abc",
      "busybox@sha256:" + k_hex.substr(1) + "Z",
      "busybox@md5:" + k_hex,
      "busybox@" + k_hex,
      "a b",
      "host:port/x",
      "host:5000/",
      "Busybox",
      "busybox:tag:tag",
      "busybox@sha256:" + k_hex + "@sha256:" + k_hex,
      "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
      "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_"
      "not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
  };
  for (const auto& text : invalid) {
    auto r = Reference::parse(text);
    ASSERT_FALSE(r.has_value()) << "should be invalid: '" << text << "' parsed as " << r->str();
    EXPECT_EQ(r.error().kind(), ErrorKind::invalid_argument) << text;
  }
}

TEST(Reference, ErrorMessagesSayWhatIsWrong) {
  auto upper = Reference::parse("Busybox");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message(), "invalid reference format: repository name must be lowercase: 'Busybox'");
  auto empty = Reference::parse("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
  auto tag = Reference::parse("busybox:-x");
  ASSERT_FALSE(tag);
  EXPECT_NE(tag.error().message().find("invalid tag"), std::string::npos);
  auto digest = Reference::parse("busybox@sha256:1234");
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message().find("invalid digest"), std::string::npos);
  auto long_name = Reference::parse("a/" + std::string(254, 'b'));
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().message().find("255"), std::string::npos);
  auto hex = Reference::parse(k_hex);
  ASSERT_FALSE(hex);
  EXPECT_NE(hex.error().message().find("64-byte hexadecimal"), std::string::npos);
}

TEST(Reference, LengthLimitCountsThePathOnly) {
  // 255 bytes of path on a long registry name is fine, 256 is not.
  std::string path = "a/" + std::string(253, 'b');
  ASSERT_EQ(path.size(), 255u);
  EXPECT_TRUE(Reference::parse("registry.example.com:5000/" + path));
  EXPECT_FALSE(Reference::parse("registry.example.com:5000/" + path + "c"));
}

TEST(Reference, Sha512Digest) {
  std::string hex(128, 'e');
  Reference r = parse_ok("x.io/a@sha512:" + hex);
  EXPECT_EQ(r.digest()->str(), "sha512:" + hex);
}

}  // namespace
