// Blob uploads (distribution spec "Pushing blobs"):
//   POST /v2/NAME/blobs/uploads/            → 202, Location: the upload session URL
//   PUT  LOCATION?digest=D  (whole body)     → 201                     (monolithic)
// or
//   PATCH LOCATION  Content-Range: a-b       → 202, Location: next URL  (per chunk)
//   PUT  LOCATION?digest=D  (empty body)     → 201                     (chunked)
// Location may be relative or absolute and may already carry a query (_state=...), so the digest
// is appended with '&' then. Every PUT/PATCH carries Content-Type: application/octet-stream
// (distribution 2.8 answers 400 DIGEST_INVALID without it). A failed upload is retried from a new
// POST: sessions cannot be trusted after an error.
//
// Cross-repository mount: POST /v2/NAME/blobs/uploads/?mount=D&from=OTHER → 201 when mounted; 202
// opens an ordinary session instead (the registry could not mount), which we cancel with DELETE.
#include <algorithm>

#include "registry/client.hpp"
#include "util/log.hpp"

namespace strata::registry {
namespace {

using transport::Method;

std::string with_digest(const std::string& location, const digest::Digest& d) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + auth::url_encode(d.str());
}

std::string push_scope(const std::string& repository) { return auth::repository_scope(repository, "pull,push"); }

}  // namespace

Result<void> Client::upload_once(const image::Reference& repo, const digest::Digest& d, BlobSource& src) {
  const std::string& registry = repo.registry();
  std::string base = TRY(m_session->base_url(registry, Purpose::push));
  std::string context = "uploading " + d.str() + " to " + registry + "/" + repo.repository();

  Call start;
  start.method = Method::post;
  start.registry = registry;
  start.purpose = Purpose::push;
  start.target = "/v2/" + repo.repository() + "/blobs/uploads/";
  start.scopes = {push_scope(repo.repository())};
  start.retry = false;
  transport::Response response = TRY_CTX(m_session->call(start), context);
  if (response.status != 202) return fail(transport::status_error(response.status, context + ": POST", response.body));
  auto location = response.headers.get("Location");
  if (!location) return fail(ErrorKind::corrupt, context + ": upload session without Location");
  std::string url = resolve_url(base + start.target, *location);

  const std::uint64_t total = src.size();
  const std::uint64_t chunk = m_session->options().upload_chunk_size;
  TRY_CTX(src.rewind(), context);

  Call finish;
  finish.method = Method::put;
  finish.registry = registry;
  finish.purpose = Purpose::push;
  finish.scopes = start.scopes;
  finish.retry = false;
  finish.headers.add("Content-Type", "application/octet-stream");

  if (chunk == 0 || total <= chunk) {
    finish.body_stream = &src;
  } else {
    std::string buffer;
    std::uint64_t offset = 0;
    while (offset < total) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - offset));
      buffer.resize(want);
      std::size_t got = 0;
      while (got < want) {
        std::size_t n = TRY_CTX(src.read(buffer.data() + got, want - got), context);
        if (n == 0) break;
        got += n;
      }
      if (got != want) {
        return fail(ErrorKind::io, context + ": source ended at byte " + std::to_string(offset + got) + " of " +
                                       std::to_string(total));
      }
      Call patch;
      patch.method = Method::patch;
      patch.registry = registry;
      patch.purpose = Purpose::push;
      patch.target = url;
      patch.scopes = start.scopes;
      patch.retry = false;
      patch.headers.add("Content-Type", "application/octet-stream");
      patch.headers.add("Content-Range", std::to_string(offset) + "-" + std::to_string(offset + want - 1));
      patch.body_bytes = buffer;
      transport::Response r = TRY_CTX(m_session->call(patch), context);
      if (r.status != 202) return fail(transport::status_error(r.status, context + ": PATCH", r.body));
      if (auto next = r.headers.get("Location")) url = resolve_url(url, *next);
      offset += want;
    }
  }
  finish.target = with_digest(url, d);
  transport::Response done = TRY_CTX(m_session->call(finish), context);
  if (done.status != 201 && done.status != 204) {
    return fail(transport::status_error(done.status, context + ": PUT", done.body));
  }
  if (auto header = done.headers.get("Docker-Content-Digest")) {
    auto claimed = digest::Digest::parse(*header);
    if (claimed && *claimed != d) {
      return fail(ErrorKind::corrupt, context + ": registry stored " + claimed->str());
    }
  }
  return {};
}

Result<void> Client::upload_blob(const image::Reference& repo, const digest::Digest& d, BlobSource& src) {
  auto existing = TRY(blob_size(repo, d, Purpose::push));
  if (existing && *existing == src.size()) {
    log::debug("blob " + d.str() + " already in " + repo.registry() + "/" + repo.repository());
    return {};
  }
  const int max_retries = m_session->options().retry.max_retries;
  for (int retry = 0;; ++retry) {
    auto result = upload_once(repo, d, src);
    if (result || !result.error().retryable() || retry >= max_retries) return result;
    log::debug(result.error().message() + "; retrying the upload");
    m_session->backoff(retry, nullptr);
  }
}

Result<bool> Client::mount_blob(const image::Reference& repo, const digest::Digest& d, const std::string& from_repo) {
  const std::string& registry = repo.registry();
  Call call;
  call.method = Method::post;
  call.registry = registry;
  call.purpose = Purpose::push;
  call.target = "/v2/" + repo.repository() + "/blobs/uploads/?mount=" + auth::url_encode(d.str()) +
                "&from=" + auth::url_encode(from_repo);
  call.scopes = {push_scope(repo.repository()), auth::repository_scope(from_repo, "pull")};
  std::string context = "mounting " + d.str() + " from " + from_repo + " into " + registry + "/" + repo.repository();
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status == 201) return true;
  if (response.status != 202) return fail(transport::status_error(response.status, context, response.body));
  if (auto location = response.headers.get("Location")) {
    Call cancel;
    cancel.method = Method::del;
    cancel.registry = registry;
    cancel.purpose = Purpose::push;
    cancel.target = resolve_url(TRY(m_session->base_url(registry, Purpose::push)) + "/v2/" + repo.repository() +
                                    "/blobs/uploads/",
                                *location);
    cancel.scopes = {push_scope(repo.repository())};
    cancel.retry = false;
    (void)m_session->call(cancel);
  }
  return false;
}

}  // namespace strata::registry
