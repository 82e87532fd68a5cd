#include <gtest/gtest.h>

#include "unit/registry/fake_transport.hpp"

namespace strata::test {
namespace {

using transport::Method;

const std::string k_manifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{},"layers":[]})";

Reply manifest_reply(const std::string& body = k_manifest) {
  return Reply{200,
               {{"Content-Type", "application/vnd.docker.distribution.manifest.v2+json"},
                {"Docker-Content-Digest", digest::sha256(body).str()},
                {"Content-Length", std::to_string(body.size())}},
               body};
}

TEST(Manifest, GetReturnsExactBytesMediaTypeAndDigest) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return manifest_reply();
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto m = client->get_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->bytes, k_manifest);
  EXPECT_EQ(m->media_type, "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(m->digest, digest::sha256(k_manifest));
  auto get = t->matching(Method::get, "/v2/a/b/manifests/1");
  ASSERT_EQ(get.size(), 1u);
  std::string accept = get[0].headers.get("Accept").value_or("");
  EXPECT_NE(accept.find("application/vnd.oci.image.index.v1+json"), std::string::npos);
  EXPECT_NE(accept.find("application/vnd.docker.distribution.manifest.v2+json"), std::string::npos);
}

TEST(Manifest, PinnedDigestMismatchIsCorrupt) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    Reply reply = manifest_reply();
    reply.headers.clear();  // no Docker-Content-Digest: only the pin can catch it
    return reply;
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto other = digest::sha256("something else");
  auto m = client->get_manifest(parse_ref("reg.test/a/b@" + other.str()));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind(), ErrorKind::corrupt);
  EXPECT_EQ(t->matching(Method::get, "/manifests/" + other.str()).size(), 1u);
}

TEST(Manifest, ContentDigestHeaderMismatchIsCorrupt) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    Reply reply = manifest_reply();
    reply.headers[1].second = digest::sha256("x").str();
    return reply;
  });
  FakeEnv env;
  auto m = make_client(t, env)->get_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind(), ErrorKind::corrupt);
}

TEST(Manifest, MediaTypeFallsBackToContentType) {
  const std::string body = R"({"schemaVersion":2,"manifests":[]})";
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{200, {{"Content-Type", "application/vnd.oci.image.index.v1+json; charset=utf-8"}}, body};
  });
  FakeEnv env;
  auto m = make_client(t, env)->get_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->media_type, "application/vnd.oci.image.index.v1+json");
}

TEST(Manifest, HeadUsesHeadersAndFallsBackToGet) {
  bool send_digest = true;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    Reply reply = manifest_reply();
    if (!send_digest) reply.headers.erase(reply.headers.begin() + 1);
    return reply;
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto info = client->head_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->digest, digest::sha256(k_manifest));
  EXPECT_EQ(info->size, k_manifest.size());
  EXPECT_EQ(t->matching(Method::get, "/manifests/").size(), 0u);

  send_digest = false;
  info = client->head_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->digest, digest::sha256(k_manifest));
  EXPECT_EQ(t->matching(Method::get, "/manifests/").size(), 1u);
}

TEST(Manifest, HeadOfMissingManifestIsNotFound) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  auto info = make_client(t, env)->head_manifest(parse_ref("reg.test/a/b:1"));
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().kind(), ErrorKind::not_found);
}

TEST(Manifest, PutSendsContentTypeAndReturnsDigest) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{201, {{"Docker-Content-Digest", digest::sha256(r.body).str()}}, ""};
  });
  FakeEnv env;
  auto d = make_client(t, env)->put_manifest(parse_ref("reg.test/a/b:v1"), k_manifest,
                                              "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, digest::sha256(k_manifest));
  auto puts = t->matching(Method::put, "/v2/a/b/manifests/v1");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].body, k_manifest);
  EXPECT_EQ(puts[0].headers.get("Content-Type").value_or(""), "application/vnd.docker.distribution.manifest.v2+json");
}

TEST(Manifest, PutRejectedWithBlobUnknownIsInvalidArgumentWithRegistryMessage) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{400, {}, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]})"};
  });
  FakeEnv env;
  auto d = make_client(t, env)->put_manifest(parse_ref("reg.test/a/b:v1"), k_manifest, "x");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind(), ErrorKind::invalid_argument);
  EXPECT_NE(d.error().message().find("MANIFEST_BLOB_UNKNOWN"), std::string::npos);
}

TEST(Manifest, DeleteByDigestAndDisabledDeletes) {
  int status = 202;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{status, {}, ""};
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto d = digest::sha256(k_manifest);
  ASSERT_TRUE(client->delete_manifest(parse_ref("reg.test/a/b"), d));
  EXPECT_EQ(t->matching(Method::del, "/v2/a/b/manifests/" + d.str()).size(), 1u);
  status = 405;
  auto r = client->delete_manifest(parse_ref("reg.test/a/b"), d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::unsupported);
}

TEST(Tags, FollowsLinkPagination) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.url == "https://reg.test/v2/a/b/tags/list") {
      return Reply{200, {{"Link", R"(</v2/a/b/tags/list?last=2&n=2>; rel="next")"}}, R"({"name":"a/b","tags":["1","2"]})"};
    }
    if (r.url == "https://reg.test/v2/a/b/tags/list?last=2&n=2") {
      return Reply{200, {}, R"({"name":"a/b","tags":["3"]})"};
    }
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  auto tags = make_client(t, env)->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_TRUE(tags) << tags.error().message();
  EXPECT_EQ(*tags, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(Tags, NullTagListIsEmptyAndCatalogPages) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.url.ends_with("/tags/list")) return Reply{200, {}, R"({"name":"a/b","tags":null})"};
    if (r.url.ends_with("/_catalog")) {
      return Reply{200, {{"Link", R"(<https://reg.test/v2/_catalog?last=x&n=1>; rel="next")"}}, R"({"repositories":["x"]})"};
    }
    return Reply{200, {}, R"({"repositories":["y"]})"};
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto tags = client->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_TRUE(tags);
  EXPECT_TRUE(tags->empty());
  auto repos = client->list_repositories("reg.test");
  ASSERT_TRUE(repos);
  EXPECT_EQ(*repos, (std::vector<std::string>{"x", "y"}));
}

TEST(Mirrors, MirrorIsTriedFirstThenTheOriginal) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.url.starts_with("https://mirror.test/")) return Reply{404, {}, ""};
    return manifest_reply();
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.registry_mirrors = {"mirror.test/hub"};
  auto client = make_client(t, env, options);
  auto m = client->get_manifest(parse_ref("busybox"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->source, "docker.io");
  ASSERT_EQ(t->matching(Method::get, "/manifests/latest").size(), 2u);
  EXPECT_EQ(t->matching(Method::get, "/manifests/latest")[0].url,
            "https://mirror.test/v2/hub/library/busybox/manifests/latest");
  EXPECT_EQ(t->matching(Method::get, "/manifests/latest")[1].url,
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
}

TEST(Mirrors, RegistryMapServesFromMirrorAndSkipFallbackStopsThere) {
  bool mirror_has_it = true;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.url.starts_with("https://m1.test/")) return mirror_has_it ? manifest_reply() : Reply{404, {}, ""};
    return manifest_reply();
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.registry_maps["quay.io"] = {"m1.test"};
  options.skip_default_registry_fallback = true;
  auto client = make_client(t, env, options);
  auto m = client->get_manifest(parse_ref("quay.io/a/b:1"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, "m1.test");
  mirror_has_it = false;
  m = client->get_manifest(parse_ref("quay.io/a/b:1"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind(), ErrorKind::not_found);
  EXPECT_TRUE(t->matching(Method::get, "https://quay.io/").empty());
}

TEST(Scheme, InsecureRegistryFallsBackToPlainHttp) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.starts_with("https://")) return Reply{0, {}, "", {}, Error(ErrorKind::network, "SSL: wrong version", true)};
    if (r.url.ends_with("/v2/")) return ok_ping();
    return manifest_reply();
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.insecure_registries = {"reg.test:5000"};
  auto client = make_client(t, env, options);
  auto m = client->get_manifest(parse_ref("reg.test:5000/a/b:1"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(t->matching(Method::get, "http://reg.test:5000/v2/a/b/manifests/1").size(), 1u);

  // Not insecure: no plain HTTP, the error comes back after the retries.
  auto strict = make_client(t, env);
  auto r = strict->get_manifest(parse_ref("reg.test:5000/a/b:1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::network);
}

}  // namespace
}  // namespace strata::test
