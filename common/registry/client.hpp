// registry::Client: the distribution (OCI) API client — manifests, blobs, uploads, mounts, tags —
// over an injected Transport, with the auth flow, retries and mirrors of registry/session.hpp.
//
// Thread safety: one Client per tool, shared by worker threads; every member function may be
// called concurrently. Sinks and sources passed in are used only by the calling thread.
// Errors: Result with ErrorKind from the HTTP status (401 unauthorized, 403 denied, 404
// not_found, ...; see transport::status_error), corrupt when bytes do not match their digest or
// size, network/timeout (retryable) after the retries are spent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.hpp"
#include "image/reference.hpp"
#include "registry/options.hpp"
#include "registry/session.hpp"
#include "transport/retry.hpp"
#include "transport/transport.hpp"

namespace strata::registry {

struct ManifestResponse {
  std::string bytes;       // exactly as served (the digest is over these bytes)
  std::string media_type;  // the manifest's mediaType field, else the Content-Type
  digest::Digest digest;   // of bytes, in the pinned digest's algorithm (sha256 otherwise)
  std::string source;      // registry that served it (a mirror or the original), for logs
};

struct ManifestInfo {
  std::string media_type;
  digest::Digest digest;
  std::uint64_t size = 0;
};

// Receives a blob's bytes as they arrive, before they are verified: the caller must keep them
// provisional (a temp file) and commit only when fetch_blob succeeds.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  virtual Result<void> write(const char* data, std::size_t size) = 0;
  // Discard everything written so far (the server restarted the body, or verification failed).
  virtual Result<void> restart() = 0;
  // A sink that hashes every byte written since its last restart() with `algorithm` says so, and
  // written_digest() returns that digest; the client then verifies with it instead of hashing
  // the same bytes a second time. A sink that says false is never asked for written_digest().
  virtual bool hashes_written(digest::Algorithm) const { return false; }
  virtual digest::Digest written_digest() const { return {}; }
};

// Collects a blob in memory (configs, small layers, tests).
class StringBlobSink final : public BlobSink {
 public:
  Result<void> write(const char* data, std::size_t size) override {
    m_data.append(data, size);
    return {};
  }
  Result<void> restart() override {
    m_data.clear();
    return {};
  }
  const std::string& data() const { return m_data; }

 private:
  std::string m_data;
};

// Upload source: re-readable from the start (uploads are retried from scratch).
using BlobSource = transport::BodySource;

// A BlobSource over bytes the caller keeps alive.
class BytesBlobSource final : public BlobSource {
 public:
  explicit BytesBlobSource(std::string_view bytes) : m_bytes(bytes) {}
  std::uint64_t size() const override { return m_bytes.size(); }
  Result<std::size_t> read(char* buf, std::size_t n) override;
  Result<void> rewind() override {
    m_offset = 0;
    return {};
  }

 private:
  std::string_view m_bytes;
  std::size_t m_offset = 0;
};

class Client {
 public:
  // transport: nullptr → a CurlTransport. env: the sleep/clock/random seams (tests inject).
  static Result<std::unique_ptr<Client>> create(RegistryOptions options, LoginLookup logins,
                                                std::shared_ptr<transport::Transport> transport = nullptr,
                                                transport::RetryEnv env = transport::RetryEnv::real());

  // GET by tag or digest, trying mirrors first for pulls. Verifies the pinned digest and any
  // Docker-Content-Digest header; rejects manifests over 4 MiB (corrupt).
  Result<ManifestResponse> get_manifest(const image::Reference& ref);
  // HEAD; falls back to GET when the registry sends no Docker-Content-Digest.
  Result<ManifestInfo> head_manifest(const image::Reference& ref);
  // PUT to ref's tag (or digest). Returns the digest of bytes; corrupt if the registry disagrees.
  Result<digest::Digest> put_manifest(const image::Reference& ref, std::string_view bytes, std::string_view media_type);
  // DELETE by digest (deleting by tag is not part of the API). unsupported if deletes are disabled.
  Result<void> delete_manifest(const image::Reference& repo, const digest::Digest& d);

  // Streams the blob into sink, verifying size (when non-zero) and digest while streaming; on a
  // dropped connection resumes with Range (restarting the sink if the server ignores Range). On
  // any failure the sink has been restarted: nothing unverified is left in it. Mirrors first.
  Result<void> fetch_blob(const image::Reference& repo, const digest::Digest& d, std::uint64_t size, BlobSink& sink);
  // HEAD: the size when the blob exists, nullopt on 404. purpose picks the scheme/TLS rules and
  // token scope (upload_blob asks with push).
  Result<std::optional<std::uint64_t>> blob_size(const image::Reference& repo, const digest::Digest& d,
                                                 Purpose purpose = Purpose::pull);
  // Uploads unless already present: POST, then one PUT (or PATCH chunks + PUT per
  // options.upload_chunk_size). The digest is the caller's claim; the registry verifies it.
  Result<void> upload_blob(const image::Reference& repo, const digest::Digest& d, BlobSource& src);
  // Cross-repository mount from from_repo (same registry). true: mounted; false: the registry
  // did not mount (the caller uploads). The upload session a refused mount opens is cancelled.
  Result<bool> mount_blob(const image::Reference& repo, const digest::Digest& d, const std::string& from_repo);

  // Every tag, following Link pagination.
  Result<std::vector<std::string>> list_tags(const image::Reference& repo);
  // The registry's catalog (/v2/_catalog), following Link pagination.
  Result<std::vector<std::string>> list_repositories(const std::string& registry);
  // Fails (unauthorized/denied) unless we may push to repo: gets a push-scoped token if the
  // registry uses tokens, then opens and cancels an upload session.
  Result<void> check_push(const image::Reference& repo);

  Session& session() { return *m_session; }

 private:
  explicit Client(std::unique_ptr<Session> session) : m_session(std::move(session)) {}

  Result<ManifestResponse> get_manifest_from(const PullSource& source, const image::Reference& ref);
  Result<void> fetch_blob_from(const PullSource& source, const digest::Digest& d, std::uint64_t size, BlobSink& sink);
  Result<void> upload_once(const image::Reference& repo, const digest::Digest& d, BlobSource& src);
  Result<std::vector<std::string>> paginate(const std::string& registry, Purpose purpose, std::string target,
                                            const std::vector<std::string>& scopes, const char* field);

  std::unique_ptr<Session> m_session;
};

}  // namespace strata::registry
