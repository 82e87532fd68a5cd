#include <gtest/gtest.h>

#include "unit/registry/fake_transport.hpp"

namespace strata::test {
namespace {

using transport::Method;

std::string make_blob(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

// Serves one blob, honouring Range, optionally cutting the first `cuts` responses midway.
struct BlobServer {
  std::string blob = make_blob(10'000);
  digest::Digest digest = digest::sha256(blob);
  int cuts = 0;
  bool honour_range = true;

  Reply handle(const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    std::size_t start = 0;
    auto range = r.headers.get("Range");
    if (range && honour_range) start = std::stoull(range->substr(6));
    Reply reply;
    reply.status = range && honour_range ? 206 : 200;
    reply.body = blob.substr(start);
    if (reply.status == 206) {
      reply.headers.push_back({"Content-Range", "bytes " + std::to_string(start) + "-" +
                                                    std::to_string(blob.size() - 1) + "/" + std::to_string(blob.size())});
    }
    if (cuts > 0) {
      --cuts;
      reply.cut_after = 3000;
    }
    return reply;
  }
};

TEST(BlobFetch, StreamsAndVerifies) {
  BlobServer server;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, server.blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), server.blob);
  EXPECT_EQ(t->matching(Method::get, "/v2/a/b/blobs/" + server.digest.str()).size(), 1u);
}

TEST(BlobFetch, ResumesWithRangeAfterACut) {
  BlobServer server;
  server.cuts = 2;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, server.blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), server.blob);
  auto gets = t->matching(Method::get, "/blobs/");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_FALSE(gets[0].headers.get("Range"));
  EXPECT_EQ(gets[1].headers.get("Range").value_or(""), "bytes=3000-");
  EXPECT_EQ(gets[2].headers.get("Range").value_or(""), "bytes=6000-");
}

TEST(BlobFetch, RestartsCleanlyWhenServerIgnoresRange) {
  BlobServer server;
  server.cuts = 1;
  server.honour_range = false;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, 0, sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), server.blob);  // not the first 3000 bytes twice
}

TEST(BlobFetch, DigestMismatchIsCorruptAndNothingIsKept) {
  BlobServer server;
  server.blob[5000] ^= 1;  // served bytes differ from the digest asked for
  auto wanted = digest::sha256(make_blob(10'000));
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), wanted, 10'000, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  EXPECT_TRUE(sink.data().empty());
}

TEST(BlobFetch, MoreBytesThanExpectedAbortsAsCorrupt) {
  BlobServer server;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, 100, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  EXPECT_TRUE(sink.data().empty());
}

TEST(BlobFetch, RedirectToStorageDropsAuthorization) {
  std::string blob = make_blob(500);
  auto d = digest::sha256(blob);
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return Reply{401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    if (r.url.starts_with("https://reg.test/v2/a/b/blobs/")) {
      if (!r.headers.get("Authorization")) return Reply{401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
      return Reply{307, {{"Location", "https://storage.test/bucket/blob?X-Sig=abc"}}, ""};
    }
    if (r.url.starts_with("https://storage.test/")) {
      if (r.headers.get("Authorization")) return Reply{400, {}, "Authorization on a signed URL"};
      return Reply{200, {}, blob};
    }
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto client = make_client(t, env, {}, registry::Login{"user", "password1", "", ""});
  auto r = client->fetch_blob(parse_ref("reg.test/a/b"), d, blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), blob);
  auto storage = t->matching(Method::get, "storage.test");
  ASSERT_EQ(storage.size(), 1u);
  EXPECT_FALSE(storage[0].headers.get("Authorization"));
}

TEST(BlobFetch, RelativeRedirectOnSameHostKeepsAuthorization) {
  std::string blob = make_blob(50);
  auto d = digest::sha256(blob);
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return Reply{401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    if (!r.headers.get("Authorization")) return Reply{401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    if (r.url.find("/blobs/") != std::string::npos) return Reply{302, {{"Location", "/data/x"}}, ""};
    if (r.url == "https://reg.test/data/x") return Reply{200, {}, blob};
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  registry::StringBlobSink sink;
  auto client = make_client(t, env, {}, registry::Login{"user", "password1", "", ""});
  ASSERT_TRUE(client->fetch_blob(parse_ref("reg.test/a/b"), d, 0, sink));
  EXPECT_EQ(sink.data(), blob);
}

TEST(BlobFetch, MirrorFailureFallsBackToOriginal) {
  BlobServer server;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.starts_with("https://mirror.test/v2/library")) return Reply{404, {}, ""};
    return server.handle(r);
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.registry_mirrors = {"mirror.test"};
  registry::StringBlobSink sink;
  auto r = make_client(t, env, options)->fetch_blob(parse_ref("busybox"), server.digest, server.blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(t->matching(Method::get, "registry-1.docker.io/v2/library/busybox/blobs/").size(), 1u);
}

// A sink that hashes what it holds (as StoreSink does through its BlobWriter); `lie` makes it
// report the digest of other bytes, which the client must then reject.
class HashingSink final : public registry::BlobSink {
 public:
  Result<void> write(const char* data, std::size_t n) override {
    m_data.append(data, n);
    m_hasher.update(data, n);
    return {};
  }
  Result<void> restart() override {
    m_data.clear();
    m_hasher = digest::Hasher();
    ++restarts;
    return {};
  }
  bool hashes_written(digest::Algorithm a) const override { return a == digest::Algorithm::sha256; }
  digest::Digest written_digest() const override {
    ++asked;
    return lie ? digest::sha256("other bytes") : m_hasher.peek();
  }
  const std::string& data() const { return m_data; }

  bool lie = false;
  int restarts = 0;
  mutable int asked = 0;

 private:
  std::string m_data;
  digest::Hasher m_hasher;
};

TEST(BlobFetch, TrustsTheSinksHashAcrossResumes) {
  BlobServer server;
  server.cuts = 2;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  HashingSink sink;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, server.blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), server.blob);
  EXPECT_EQ(sink.asked, 1);
  EXPECT_EQ(sink.restarts, 0);
}

TEST(BlobFetch, SinkHashMismatchIsCorrupt) {
  BlobServer server;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return server.handle(r); });
  FakeEnv env;
  HashingSink sink;
  sink.lie = true;
  auto r = make_client(t, env)->fetch_blob(parse_ref("reg.test/a/b"), server.digest, server.blob.size(), sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  EXPECT_TRUE(sink.data().empty());
}

TEST(BlobFetch, CorruptMirrorFallsBackWithAHashingSink) {
  BlobServer server;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.starts_with("https://mirror.test/v2/library")) {
      Reply bad = server.handle(r);
      bad.body[10] ^= 1;
      return bad;
    }
    return server.handle(r);
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.registry_mirrors = {"mirror.test"};
  HashingSink sink;
  auto r = make_client(t, env, options)->fetch_blob(parse_ref("busybox"), server.digest, server.blob.size(), sink);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(sink.data(), server.blob);
  EXPECT_EQ(t->matching(Method::get, "mirror.test/v2/library/busybox/blobs/").size(), 1u);
  EXPECT_EQ(t->matching(Method::get, "registry-1.docker.io/v2/library/busybox/blobs/").size(), 1u);
}

TEST(BlobSize, ExistsAndMissing) {
  auto t = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.url.find("sha256:aaaa") != std::string::npos) return Reply{200, {{"Content-Length", "1234"}}, ""};
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  auto client = make_client(t, env);
  auto present = client->blob_size(parse_ref("reg.test/a/b"), *digest::Digest::parse("sha256:" + std::string(64, 'a')));
  ASSERT_TRUE(present);
  EXPECT_EQ(present->value_or(0), 1234u);
  auto missing = client->blob_size(parse_ref("reg.test/a/b"), *digest::Digest::parse("sha256:" + std::string(64, 'b')));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace strata::test
