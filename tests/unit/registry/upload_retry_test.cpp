#include <gtest/gtest.h>

#include "unit/registry/fake_transport.hpp"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using transport::Method;

// A registry that stores uploads the way distribution does (session → Location, PATCH appends,
// PUT with digest commits), checking Content-Type like distribution 2.8.
struct UploadRegistry {
  std::map<std::string, std::string> sessions;
  std::map<std::string, std::string> blobs;  // digest → bytes
  int next = 0;
  bool absolute_location = false;

  Reply handle(const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (r.method == Method::head) {
      for (auto& [d, b] : blobs) {
        if (r.url.find(d) != std::string::npos) return Reply{200, {{"Content-Length", std::to_string(b.size())}}, ""};
      }
      return Reply{404, {}, ""};
    }
    if (r.method == Method::post && r.url.find("mount=") != std::string::npos) {
      for (auto& [d, b] : blobs) {
        if (r.url.find(auth::url_encode(d)) != std::string::npos) return Reply{201, {}, ""};
      }
      return new_session();
    }
    if (r.method == Method::post) return new_session();
    std::string path = r.url.substr(r.url.find("/v2/"));
    std::string id = path.substr(0, path.find('?'));
    if (!sessions.count(id)) return Reply{404, {}, R"({"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]})"};
    if (r.method == Method::del) {
      sessions.erase(id);
      return Reply{204, {}, ""};
    }
    if (r.headers.get("Content-Type") != "application/octet-stream") {
      return Reply{400, {}, R"({"errors":[{"code":"DIGEST_INVALID"}]})"};
    }
    if (r.method == Method::patch) {
      auto range = r.headers.get("Content-Range").value_or("");
      if (range.substr(0, range.find('-')) != std::to_string(sessions[id].size())) return Reply{416, {}, ""};
      sessions[id] += r.body;
      return Reply{202, {{"Location", id + "?_state=s" + std::to_string(sessions[id].size())}}, ""};
    }
    if (r.method == Method::put) {
      std::string bytes = sessions[id] + r.body;
      auto d = digest::sha256(bytes).str();
      if (r.url.find("digest=" + auth::url_encode(d)) == std::string::npos) {
        return Reply{400, {}, R"({"errors":[{"code":"DIGEST_INVALID"}]})"};
      }
      blobs[d] = bytes;
      sessions.erase(id);
      return Reply{201, {{"Docker-Content-Digest", d}}, ""};
    }
    return Reply{405, {}, ""};
  }

  Reply new_session() {
    std::string id = "/v2/a/b/blobs/uploads/u" + std::to_string(++next);
    sessions[id] = "";
    std::string location = absolute_location ? "https://reg.test" + id + "?_state=x" : id;
    return Reply{202, {{"Location", location}}, ""};
  }
};

TEST(Upload, MonolithicPut) {
  UploadRegistry reg;
  reg.absolute_location = true;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  std::string data(5000, 'x');
  registry::BytesBlobSource src(data);
  auto d = digest::sha256(data);
  auto r = make_client(t, env)->upload_blob(parse_ref("reg.test/a/b"), d, src);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(reg.blobs[d.str()], data);
  EXPECT_EQ(t->matching(Method::put, "").size(), 1u);
  EXPECT_EQ(t->matching(Method::patch, "").size(), 0u);
}

TEST(Upload, ChunkedPatchesThenPut) {
  UploadRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::RegistryOptions options;
  options.upload_chunk_size = 1000;
  std::string data;
  for (int i = 0; i < 2500; ++i) data += static_cast<char>(i % 251);
  registry::BytesBlobSource src(data);
  auto d = digest::sha256(data);
  auto r = make_client(t, env, options)->upload_blob(parse_ref("reg.test/a/b"), d, src);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(reg.blobs[d.str()], data);
  auto patches = t->matching(Method::patch, "");
  ASSERT_EQ(patches.size(), 3u);
  EXPECT_EQ(patches[2].headers.get("Content-Range").value_or(""), "2000-2499");
  EXPECT_NE(t->matching(Method::put, "")[0].url.find("_state=s2500&digest="), std::string::npos);
}

TEST(Upload, ExistingBlobIsNotUploadedAgain) {
  UploadRegistry reg;
  std::string data = "hello";
  auto d = digest::sha256(data);
  reg.blobs[d.str()] = data;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::BytesBlobSource src(data);
  ASSERT_TRUE(make_client(t, env)->upload_blob(parse_ref("reg.test/a/b"), d, src));
  EXPECT_TRUE(t->matching(Method::post, "").empty());
}

TEST(Upload, WrongDigestIsCorruptFromTheRegistry) {
  UploadRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  std::string data = "hello world";
  registry::BytesBlobSource src(data);
  auto r = make_client(t, env)->upload_blob(parse_ref("reg.test/a/b"), digest::sha256("other"), src);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
}

TEST(Upload, MountDoneOrRefused) {
  UploadRegistry reg;
  std::string data = "layer";
  auto d = digest::sha256(data);
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  auto client = make_client(t, env);
  auto refused = client->mount_blob(parse_ref("reg.test/a/b"), d, "other/repo");
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  EXPECT_TRUE(reg.sessions.empty()) << "the session opened by a refused mount must be cancelled";
  reg.blobs[d.str()] = data;
  auto mounted = client->mount_blob(parse_ref("reg.test/a/b"), d, "other/repo");
  ASSERT_TRUE(mounted);
  EXPECT_TRUE(*mounted);
  EXPECT_NE(t->matching(Method::post, "mount=sha256%3A")[0].url.find("&from=other%2Frepo"), std::string::npos);
}

TEST(CheckPush, OpensAndCancelsAnUploadSession) {
  UploadRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  ASSERT_TRUE(make_client(t, env)->check_push(parse_ref("reg.test/a/b")));
  EXPECT_EQ(t->matching(Method::del, "/blobs/uploads/u1").size(), 1u);
  EXPECT_TRUE(reg.sessions.empty());

  auto denied = std::make_shared<FakeTransport>([](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{403, {}, R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})"};
  });
  auto r = make_client(denied, env)->check_push(parse_ref("reg.test/a/b"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::denied);
}

TEST(Retry, ServerErrorsAreRetriedWithExponentialBackoff) {
  int failures = 3;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    if (failures-- > 0) return Reply{503, {}, ""};
    return Reply{200, {}, R"({"tags":[]})"};
  });
  FakeEnv env;
  auto r = make_client(t, env)->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_TRUE(r) << r.error().message();
  // random()=1 → the top of each window: 500, 1000, 2000 ms.
  EXPECT_EQ(env.sleeps, (std::vector<std::chrono::milliseconds>{500ms, 1000ms, 2000ms}));
}

TEST(Retry, AttemptsAreBounded) {
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    return Reply{502, {}, ""};
  });
  FakeEnv env;
  registry::RegistryOptions options;
  options.retry.max_retries = 2;
  auto r = make_client(t, env, options)->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::network);
  EXPECT_TRUE(r.error().retryable());
  EXPECT_EQ(t->matching(Method::get, "/tags/list").size(), 3u);
  EXPECT_EQ(env.sleeps.size(), 2u);
}

TEST(Retry, RetryAfterSecondsAndDateAreHonoured) {
  int calls = 0;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    ++calls;
    if (calls == 1) return Reply{429, {{"Retry-After", "7"}}, R"({"errors":[{"code":"TOOMANYREQUESTS"}]})"};
    // now is 1'700'000'000 = Tue, 14 Nov 2023 22:13:20 GMT; ask for 12 s later.
    if (calls == 2) return Reply{429, {{"Retry-After", "Tue, 14 Nov 2023 22:13:32 GMT"}}, ""};
    return Reply{200, {}, R"({"tags":["a"]})"};
  });
  FakeEnv env;
  auto r = make_client(t, env)->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_TRUE(r);
  EXPECT_EQ(env.sleeps, (std::vector<std::chrono::milliseconds>{7000ms, 12000ms}));
}

TEST(Retry, NetworkErrorsAreRetriedButNotFoundIsNot) {
  int calls = 0;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return ok_ping();
    ++calls;
    if (calls == 1) return Reply{0, {}, "", {}, Error(ErrorKind::timeout, "stalled", true)};
    return Reply{404, {}, ""};
  });
  FakeEnv env;
  auto r = make_client(t, env)->list_tags(parse_ref("reg.test/a/b"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(env.sleeps.size(), 1u);
}

TEST(Retry, FailedUploadRestartsFromANewSession) {
  UploadRegistry reg;
  int put_failures = 1;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.method == Method::put && put_failures-- > 0) {
      return Reply{0, {}, "", {}, Error(ErrorKind::network, "connection reset", true)};
    }
    return reg.handle(r);
  });
  FakeEnv env;
  std::string data(3000, 'q');
  registry::BytesBlobSource src(data);
  auto d = digest::sha256(data);
  ASSERT_TRUE(make_client(t, env)->upload_blob(parse_ref("reg.test/a/b"), d, src));
  EXPECT_EQ(reg.blobs[d.str()], data);
  EXPECT_EQ(t->matching(Method::post, "/blobs/uploads/").size(), 2u);
}

}  // namespace
}  // namespace strata::test
