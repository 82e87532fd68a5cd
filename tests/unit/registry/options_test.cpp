#include <gtest/gtest.h>

#include "registry/options.hpp"
#include "registry/session.hpp"

namespace strata::registry {
namespace {

TEST(Options, FlagParsers) {
  auto cert = parse_registry_certificate("my.reg:5000=/etc/ca.pem");
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->first, "my.reg:5000");
  EXPECT_EQ(cert->second, "/etc/ca.pem");
  EXPECT_FALSE(parse_registry_certificate("noequals"));
  EXPECT_FALSE(parse_registry_certificate("=x"));

  auto client = parse_registry_client_cert("r=/c.pem,/k.pem");
  ASSERT_TRUE(client);
  EXPECT_EQ(client->second.cert_file, "/c.pem");
  EXPECT_EQ(client->second.key_file, "/k.pem");
  EXPECT_FALSE(parse_registry_client_cert("r=/c.pem"));
  EXPECT_FALSE(parse_registry_client_cert("r=,/k"));

  auto map = parse_registry_map("index.docker.io=m1.local;https://m2.local/prefix");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->first, "docker.io");
  EXPECT_EQ(map->second, (std::vector<std::string>{"m1.local", "m2.local/prefix"}));
  EXPECT_FALSE(parse_registry_map("a="));
  EXPECT_FALSE(parse_registry_map("a=;"));
}

TEST(Options, DockerHubAliases) {
  EXPECT_EQ(canonical_registry("index.docker.io"), "docker.io");
  EXPECT_EQ(canonical_registry("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(canonical_registry("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(api_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(api_host("127.0.0.1:5000"), "127.0.0.1:5000");
}

TEST(Options, TlsAndPlainHttpPerPurpose) {
  RegistryOptions o;
  o.skip_tls_verify = true;
  o.skip_tls_verify_registries = {"self.signed"};
  o.registry_certificates["my.reg"] = "/ca.pem";
  o.registry_client_certs["my.reg"] = {"/c", "/k"};
  o.insecure_pull = true;
  o.insecure_registries = {"plain:5000"};
  EXPECT_FALSE(tls_for(o, "any", Purpose::push).verify);
  EXPECT_TRUE(tls_for(o, "any", Purpose::pull).verify);
  EXPECT_FALSE(tls_for(o, "self.signed", Purpose::pull).verify);
  auto tls = tls_for(o, "my.reg", Purpose::pull);
  EXPECT_EQ(tls.ca_file, "/ca.pem");
  EXPECT_EQ(tls.client_cert_file, "/c");
  EXPECT_EQ(tls.client_key_file, "/k");
  EXPECT_TRUE(allows_plain_http(o, "x", Purpose::pull));
  EXPECT_FALSE(allows_plain_http(o, "x", Purpose::push));
  EXPECT_TRUE(allows_plain_http(o, "plain:5000", Purpose::push));
}

TEST(Options, PullSourcesOrder) {
  RegistryOptions o;
  o.registry_mirrors = {"mirror.gcr.io", "https://m2/pre/fix"};
  o.registry_maps["docker.io"] = {"mapped.local"};
  auto s = pull_sources(o, "docker.io", "library/busybox");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].registry, "mapped.local");
  EXPECT_EQ(s[1].registry, "mirror.gcr.io");
  EXPECT_EQ(s[2].registry, "m2");
  EXPECT_EQ(s[2].repository, "pre/fix/library/busybox");
  EXPECT_EQ(s[3].registry, "docker.io");
  EXPECT_FALSE(s[3].mirror);

  // Docker Hub mirrors do not apply to other registries.
  EXPECT_EQ(pull_sources(o, "quay.io", "a/b").size(), 1u);
  o.skip_default_registry_fallback = true;
  EXPECT_EQ(pull_sources(o, "docker.io", "library/busybox").size(), 3u);
  EXPECT_EQ(pull_sources(o, "quay.io", "a/b").size(), 1u) << "no mirror: the original stays";
}

TEST(Urls, ResolveOriginAndLink) {
  EXPECT_EQ(url_origin("https://h:5000/v2/x?y"), "https://h:5000");
  EXPECT_EQ(resolve_url("https://h/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u?_state=1"),
            "https://h/v2/a/blobs/uploads/u?_state=1");
  EXPECT_EQ(resolve_url("https://h/v2/a", "http://s3/x"), "http://s3/x");
  EXPECT_EQ(resolve_url("https://h/v2/a", "//cdn/x"), "https://cdn/x");
  EXPECT_EQ(resolve_url("https://h/v2/a/b?q", "c"), "https://h/v2/a/c");
  EXPECT_EQ(next_link("https://h/v2/_catalog", {R"(</v2/_catalog?last=b&n=2>; rel="next")"}),
            "https://h/v2/_catalog?last=b&n=2");
  EXPECT_EQ(next_link("https://h/x", {R"(<https://h/prev>; rel="prev", <https://h/next>; rel="next")"}), "https://h/next");
  EXPECT_EQ(next_link("https://h/x", {}), "");
}

}  // namespace
}  // namespace strata::registry
