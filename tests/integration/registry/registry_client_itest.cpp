// registry::Client against a real docker-registry (distribution 2.8) through the shared fixture:
// plain HTTP, TLS + htpasswd with the test CA, mutual TLS, and token auth with the test token server.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "integration/support/itest.hpp"
#include "registry/client.hpp"
#include "transport/curl_transport.hpp"

namespace strata {
namespace {

using itest::RegistryAuth;
using itest::RegistryServer;
using itest::RegistryTransport;

image::Reference parse_ref(const std::string& text) {
  auto r = image::Reference::parse(text);
  EXPECT_TRUE(r) << text;
  return *r;
}

struct TestImage {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer;
  std::string manifest;
  digest::Digest config_digest = digest::sha256(config);
  digest::Digest layer_digest;

  TestImage() {
    for (int i = 0; i < 300'000; ++i) layer += static_cast<char>((i * 31 + i / 7) % 256);
    layer_digest = digest::sha256(layer);
    manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
               config_digest.str() + R"(","size":)" + std::to_string(config.size()) +
               R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
               layer_digest.str() + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  }
};

std::unique_ptr<registry::Client> make_client(registry::RegistryOptions options, registry::Login login = {}) {
  auto client = registry::Client::create(std::move(options),
                                         [login](std::string_view) -> Result<registry::Login> { return login; });
  EXPECT_TRUE(client);
  return std::move(*client);
}

// Pushes TestImage to host/repo:tag and checks the round trip; returns the manifest digest.
void push_and_pull(registry::Client& client, const std::string& host, const std::string& repo, const TestImage& img) {
  auto ref = parse_ref(host + "/" + repo + ":v1");
  registry::BytesBlobSource config(img.config);
  registry::BytesBlobSource layer(img.layer);
  ASSERT_OK(client.upload_blob(ref, img.config_digest, config));
  ASSERT_OK(client.upload_blob(ref, img.layer_digest, layer));
  auto size = ASSERT_OK(client.blob_size(ref, img.layer_digest));
  EXPECT_EQ(size.value_or(0), img.layer.size());

  auto pushed = ASSERT_OK(client.put_manifest(ref, img.manifest, "application/vnd.oci.image.manifest.v1+json"));
  EXPECT_EQ(pushed, digest::sha256(img.manifest));

  auto got = ASSERT_OK(client.get_manifest(ref));
  EXPECT_EQ(got.bytes, img.manifest);
  EXPECT_EQ(got.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(got.digest, pushed);
  auto by_digest = ASSERT_OK(client.get_manifest(ref.with_digest(pushed)));
  EXPECT_EQ(by_digest.bytes, img.manifest);

  auto info = ASSERT_OK(client.head_manifest(ref));
  EXPECT_EQ(info.digest, pushed);
  EXPECT_EQ(info.size, img.manifest.size());

  registry::StringBlobSink sink;
  ASSERT_OK(client.fetch_blob(ref, img.layer_digest, img.layer.size(), sink));
  EXPECT_EQ(sink.data(), img.layer);
}

TEST(RegistryClient, PlainHttpFullCycle) {
  SKIP_UNLESS("docker-registry");
  auto server = ASSERT_OK(RegistryServer::start({}));
  registry::RegistryOptions options;
  options.insecure_registries = {server.host()};
  auto client = make_client(options);
  TestImage img;
  push_and_pull(*client, server.host(), "strata/app", img);
  if (HasFatalFailure()) return;

  // Chunked upload of another blob.
  registry::RegistryOptions chunked = options;
  chunked.upload_chunk_size = 64 * 1024;
  auto chunk_client = make_client(chunked);
  std::string big(200'000, 'z');
  big[1234] = 'y';
  registry::BytesBlobSource big_src(big);
  auto big_digest = digest::sha256(big);
  auto repo = parse_ref(server.host() + "/strata/app");
  ASSERT_OK(chunk_client->upload_blob(repo, big_digest, big_src));
  registry::StringBlobSink sink;
  ASSERT_OK(client->fetch_blob(repo, big_digest, big.size(), sink));
  EXPECT_EQ(sink.data(), big);

  // A digest that does not match the bytes is refused by the registry.
  registry::BytesBlobSource wrong(std::string_view("not what the digest says"));
  auto refused = client->upload_blob(repo, digest::sha256("something else"), wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::corrupt) << refused.error().message();

  // Cross-repository mount.
  auto other = parse_ref(server.host() + "/strata/other");
  EXPECT_TRUE(ASSERT_OK(client->mount_blob(other, img.layer_digest, "strata/app")));
  EXPECT_EQ(ASSERT_OK(client->blob_size(other, img.layer_digest)).value_or(0), img.layer.size());
  EXPECT_FALSE(ASSERT_OK(client->mount_blob(other, digest::sha256("missing"), "strata/app")));

  // Tags and catalog.
  auto second = parse_ref(server.host() + "/strata/app:v2");
  ASSERT_OK(client->put_manifest(second, img.manifest, "application/vnd.oci.image.manifest.v1+json"));
  auto tags = ASSERT_OK(client->list_tags(repo));
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"v1", "v2"}));
  auto repos = ASSERT_OK(client->list_repositories(server.host()));
  EXPECT_NE(std::find(repos.begin(), repos.end(), "strata/app"), repos.end());

  ASSERT_OK(client->check_push(repo));

  // Delete by digest removes every tag.
  ASSERT_OK(client->delete_manifest(repo, digest::sha256(img.manifest)));
  auto gone = client->get_manifest(parse_ref(server.host() + "/strata/app:v1"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind(), ErrorKind::not_found);
}

TEST(RegistryClient, PlainHttpNeedsInsecure) {
  SKIP_UNLESS("docker-registry");
  auto server = ASSERT_OK(RegistryServer::start({}));
  registry::RegistryOptions options;
  options.retry.max_retries = 0;
  auto client = make_client(options);
  auto r = client->list_tags(parse_ref(server.host() + "/a/b"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::network) << r.error().message();
}

TEST(RegistryClient, SeededBusyboxPullsAndVerifies) {
  SKIP_UNLESS("docker-registry", "skopeo", "python3", "busybox");
  auto server = ASSERT_OK(RegistryServer::start({}));
  auto pushed = ASSERT_OK(itest::seed_base_image(server, "library/busybox:latest"));
  registry::RegistryOptions options;
  options.insecure_pull = true;
  auto client = make_client(options);
  auto ref = parse_ref(server.host() + "/library/busybox:latest");
  auto m = ASSERT_OK(client->get_manifest(ref));
  EXPECT_EQ(m.digest.str(), pushed);
  auto j = nlohmann::json::parse(m.bytes);
  ASSERT_TRUE(j.contains("layers"));
  for (const auto& layer : j["layers"]) {
    auto d = *digest::Digest::parse(layer["digest"].get<std::string>());
    registry::StringBlobSink sink;
    ASSERT_OK(client->fetch_blob(ref, d, layer["size"].get<std::uint64_t>(), sink));
    EXPECT_EQ(digest::sha256(sink.data()), d);
  }
}

TEST(RegistryClient, TlsWithHtpasswd) {
  SKIP_UNLESS("docker-registry", "openssl", "htpasswd");
  itest::RegistryOptions server_options;
  server_options.transport = RegistryTransport::tls;
  server_options.auth = RegistryAuth::htpasswd;
  auto server = ASSERT_OK(RegistryServer::start(server_options));

  registry::RegistryOptions options;
  options.registry_certificates[server.host()] = server.ca_cert();
  auto client = make_client(options, registry::Login{server.user(), server.password(), "", ""});
  TestImage img;
  push_and_pull(*client, server.host(), "secure/app", img);

  auto wrong = make_client(options, registry::Login{server.user(), "not-the-password", "", ""});
  auto r = wrong->list_tags(parse_ref(server.host() + "/secure/app"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::unauthorized) << r.error().message();

  // Without the CA the certificate cannot be verified (not retryable); skip-tls-verify works.
  registry::RegistryOptions no_ca;
  auto untrusted = make_client(no_ca, registry::Login{server.user(), server.password(), "", ""});
  auto bad = untrusted->list_tags(parse_ref(server.host() + "/secure/app"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), ErrorKind::network);
  no_ca.skip_tls_verify_registries = {server.host()};
  auto skipping = make_client(no_ca, registry::Login{server.user(), server.password(), "", ""});
  EXPECT_TRUE(skipping->list_tags(parse_ref(server.host() + "/secure/app")));
}

TEST(RegistryClient, MutualTls) {
  SKIP_UNLESS("docker-registry", "openssl");
  itest::RegistryOptions server_options;
  server_options.transport = RegistryTransport::mutual_tls;
  auto server = ASSERT_OK(RegistryServer::start(server_options));
  auto ca = ASSERT_OK(itest::TestCA::get());
  registry::RegistryOptions options;
  options.registry_certificates[server.host()] = server.ca_cert();
  options.retry.max_retries = 0;
  auto without = make_client(options);
  EXPECT_FALSE(without->list_tags(parse_ref(server.host() + "/a/b")));
  options.registry_client_certs[server.host()] = {ca->client_cert(), ca->client_key()};
  auto with = make_client(options);
  auto tags = with->list_tags(parse_ref(server.host() + "/a/b"));
  ASSERT_FALSE(tags);  // the repository does not exist, but we got through TLS to the registry
  EXPECT_EQ(tags.error().kind(), ErrorKind::not_found) << tags.error().message();
}

TEST(RegistryClient, TokenAuthReusesTokensAndRefreshes) {
  SKIP_UNLESS("docker-registry", "openssl", "python3");
  itest::RegistryOptions server_options;
  server_options.auth = RegistryAuth::token;
  auto server = ASSERT_OK(RegistryServer::start(server_options));
  registry::RegistryOptions options;
  options.insecure_registries = {server.host()};

  auto client = make_client(options, registry::Login{server.user(), server.password(), "", ""});
  TestImage img;
  push_and_pull(*client, server.host(), "tok/app", img);
  if (HasFatalFailure()) return;
  int used = client->session().token_requests();
  auto stats = ASSERT_OK(server.token_server()->stats());
  EXPECT_EQ(stats["token_requests"].get<int>(), used);
  // One pull,push token for every push-side call and one pull token: far fewer than requests.
  EXPECT_LE(used, 3);
  ASSERT_OK(client->check_push(parse_ref(server.host() + "/tok/app")));

  // Identity token: the OAuth2 refresh POST.
  registry::Login identity;
  identity.identity_token = server.token_server()->identity_token();
  auto refreshing = make_client(options, identity);
  auto m = ASSERT_OK(refreshing->get_manifest(parse_ref(server.host() + "/tok/app:v1")));
  EXPECT_EQ(m.bytes, img.manifest);
  auto after = ASSERT_OK(server.token_server()->stats());
  EXPECT_GE(after["refresh_requests"].get<int>(), 1);

  // Anonymous access is refused by this token server.
  auto anonymous = make_client(options);
  auto denied = anonymous->get_manifest(parse_ref(server.host() + "/tok/app:v1"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind(), ErrorKind::unauthorized) << denied.error().message();
}

TEST(RegistryClient, TokenAuthAnonymousPull) {
  SKIP_UNLESS("docker-registry", "openssl", "python3");
  itest::RegistryOptions server_options;
  server_options.auth = RegistryAuth::token;
  server_options.token.anonymous_pull = itest::AnonymousPull::allowed;
  auto server = ASSERT_OK(RegistryServer::start(server_options));
  registry::RegistryOptions options;
  options.insecure_registries = {server.host()};
  auto pusher = make_client(options, registry::Login{server.user(), server.password(), "", ""});
  TestImage img;
  push_and_pull(*pusher, server.host(), "pub/app", img);
  if (HasFatalFailure()) return;

  auto anonymous = make_client(options);
  auto m = ASSERT_OK(anonymous->get_manifest(parse_ref(server.host() + "/pub/app:v1")));
  EXPECT_EQ(m.bytes, img.manifest);
  auto push = anonymous->check_push(parse_ref(server.host() + "/pub/app"));
  ASSERT_FALSE(push);
  EXPECT_TRUE(push.error().kind() == ErrorKind::unauthorized || push.error().kind() == ErrorKind::denied)
      << push.error().message();
}

TEST(RegistryClient, ConcurrentPullsShareTokensAndConnections) {
  SKIP_UNLESS("docker-registry", "openssl", "python3");
  itest::RegistryOptions server_options;
  server_options.transport = RegistryTransport::tls;
  server_options.auth = RegistryAuth::token;
  auto server = ASSERT_OK(RegistryServer::start(server_options));
  registry::RegistryOptions options;
  options.registry_certificates[server.host()] = server.ca_cert();
  auto client = make_client(options, registry::Login{server.user(), server.password(), "", ""});
  TestImage img;
  push_and_pull(*client, server.host(), "par/app", img);
  if (HasFatalFailure()) return;
  int before = client->session().token_requests();

  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        registry::StringBlobSink sink;
        auto r = client->fetch_blob(parse_ref(server.host() + "/par/app"), img.layer_digest, img.layer.size(), sink);
        if (r && sink.data() == img.layer) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 20);
  // The pull token cached by push_and_pull serves every thread.
  EXPECT_EQ(client->session().token_requests(), before);
}

TEST(RegistryClient, PullThroughMirrorIsUsedFirst) {
  SKIP_UNLESS("docker-registry");
  auto upstream = ASSERT_OK(RegistryServer::start({}));
  itest::RegistryOptions mirror_options;
  mirror_options.proxy_remote_url = upstream.url();
  auto mirror = ASSERT_OK(RegistryServer::start(mirror_options));

  registry::RegistryOptions options;
  options.insecure_registries = {upstream.host(), mirror.host()};
  auto client = make_client(options);
  TestImage img;
  push_and_pull(*client, upstream.host(), "library/app", img);
  if (HasFatalFailure()) return;

  options.registry_maps[upstream.host()] = {mirror.host()};
  options.retry.initial_backoff = std::chrono::milliseconds(10);
  auto mirrored = make_client(options);
  auto m = ASSERT_OK(mirrored->get_manifest(parse_ref(upstream.host() + "/library/app:v1")));
  EXPECT_EQ(m.source, mirror.host());
  registry::StringBlobSink sink;
  ASSERT_OK(mirrored->fetch_blob(parse_ref(upstream.host() + "/library/app"), img.layer_digest, img.layer.size(), sink));
  EXPECT_EQ(sink.data(), img.layer);
  // What the mirror lacks and cannot fetch falls back to the original.
  upstream.stop();
  auto missing = mirrored->get_manifest(parse_ref(upstream.host() + "/library/nothing:v1"));
  ASSERT_FALSE(missing);
}

}  // namespace
}  // namespace strata
