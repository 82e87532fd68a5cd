// Blob downloads: streamed, verified while streaming, resumed after a cut.
//
// Bytes go to the caller's sink as they arrive and into a hasher at the same time (or only to the
// sink, when it hashes them itself: a BlobWriter does, and one pass of SHA-256 is most of a
// warm's CPU); nothing is trusted until the whole blob is in: size (when the caller knows it) and
// digest are checked at the end, and a mismatch restarts the sink (discarding what it holds)
// before returning corrupt.
// More bytes than the expected size abort the transfer at once.
//
// A dropped connection is resumed with "Range: bytes=N-" where N is what we already hold, hashing
// on. A 206 must start at N (Content-Range); a 200 means the server (or the storage behind a
// redirect) ignored the Range, so the sink and the hasher restart from zero; a 416 restarts too.
// Attempts that made progress do not count against the retry budget.
#include <cstdlib>

#include "registry/client.hpp"
#include "util/log.hpp"

namespace strata::registry {
namespace {

using transport::Method;

// "bytes 100-199/200" → 100; nullopt when absent or unparseable.
std::optional<std::uint64_t> content_range_start(const transport::Headers& headers) {
  auto value = headers.get("Content-Range");
  if (!value || !value->starts_with("bytes ")) return std::nullopt;
  char* end = nullptr;
  std::uint64_t start = std::strtoull(value->c_str() + 6, &end, 10);
  if (end == value->c_str() + 6 || *end != '-') return std::nullopt;
  return start;
}

}  // namespace

Result<void> Client::fetch_blob_from(const PullSource& source, const digest::Digest& d, std::uint64_t size,
                                     BlobSink& sink) {
  std::string context = "GET " + source.registry + "/v2/" + source.repository + "/blobs/" + d.str();
  digest::Hasher hasher(d.algorithm());
  const bool sink_hashes = sink.hashes_written(d.algorithm());
  std::uint64_t received = 0;
  int failures = 0;
  const int max_failures = m_session->options().retry.max_retries;

  auto restart = [&]() -> Result<void> {
    hasher = digest::Hasher(d.algorithm());
    received = 0;
    return sink.restart();
  };

  while (true) {
    std::uint64_t at_start = received;
    Call call;
    call.registry = source.registry;
    call.target = "/v2/" + source.repository + "/blobs/" + d.str();
    call.scopes = {auth::repository_scope(source.repository, "pull")};
    call.follow_redirects = true;
    call.retry = false;
    if (received > 0) call.headers.add("Range", "bytes=" + std::to_string(received) + "-");
    call.on_body_start = [&, requested = received](int status, const transport::Headers& headers) -> Result<void> {
      if (requested == 0) return {};
      if (status == 206 && content_range_start(headers) == requested) return {};
      if (status == 206) return fail(ErrorKind::corrupt, context + ": partial content does not start at byte " +
                                                              std::to_string(requested));
      log::debug(context + ": server ignored Range; restarting the download");
      return restart();
    };
    call.body_sink = [&](const char* data, std::size_t n) -> Result<void> {
      if (size != 0 && received + n > size) {
        return fail(ErrorKind::corrupt, context + ": more than the expected " + std::to_string(size) + " bytes");
      }
      if (!sink_hashes) hasher.update(data, n);
      received += n;
      return sink.write(data, n);
    };

    auto response = m_session->call(call);
    bool progressed = received > at_start;
    if (!response) {
      Error error = response.error();
      if (!error.retryable() || (!progressed && failures >= max_failures)) {
        (void)sink.restart();
        return fail(error.context("fetching blob"));
      }
      failures = progressed ? 0 : failures + 1;
      log::debug(context + ": " + error.message() + "; resuming at byte " + std::to_string(received));
      m_session->backoff(failures, nullptr);
      continue;
    }
    int status = response->status;
    if (status == 200 || status == 206) {
      if (status == 200 && at_start > 0 && !progressed) TRY(restart());  // empty 200 to a Range
      if (size != 0 && received != size) {
        (void)sink.restart();
        return fail(ErrorKind::corrupt, context + ": got " + std::to_string(received) + " bytes, expected " +
                                            std::to_string(size));
      }
      digest::Digest actual = sink_hashes ? sink.written_digest() : hasher.finish();
      if (actual != d) {
        (void)sink.restart();
        return fail(ErrorKind::corrupt, context + ": digest mismatch: content hashes to " + actual.str());
      }
      return {};
    }
    if (status == 416 && received > 0 && failures < max_failures) {
      ++failures;
      TRY(restart());
      continue;
    }
    bool retryable = status == 408 || status == 429 || status >= 500;
    if (retryable && failures < max_failures) {
      ++failures;
      m_session->backoff(failures - 1, &*response);
      continue;
    }
    (void)sink.restart();
    return fail(transport::status_error(status, context, response->body));
  }
}

Result<void> Client::fetch_blob(const image::Reference& repo, const digest::Digest& d, std::uint64_t size,
                                BlobSink& sink) {
  auto sources = pull_sources(m_session->options(), repo.registry(), repo.repository());
  std::optional<Error> last;
  for (const auto& source : sources) {
    auto result = fetch_blob_from(source, d, size, sink);
    if (result) {
      log::debug("blob " + d.str() + " from " + source.registry + "/" + source.repository);
      return result;
    }
    if (source.mirror) log::debug("mirror " + source.registry + " failed: " + result.error().message());
    last = result.error();
  }
  return fail(*last);
}

Result<std::optional<std::uint64_t>> Client::blob_size(const image::Reference& repo, const digest::Digest& d,
                                                       Purpose purpose) {
  Call call;
  call.method = Method::head;
  call.registry = repo.registry();
  call.purpose = purpose;
  call.target = "/v2/" + repo.repository() + "/blobs/" + d.str();
  call.scopes = {auth::repository_scope(repo.repository(), purpose == Purpose::push ? "pull,push" : "pull")};
  call.follow_redirects = true;
  std::string context = "HEAD " + repo.registry() + call.target;
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status == 404) return std::optional<std::uint64_t>();
  if (response.status != 200) return fail(transport::status_error(response.status, context, ""));
  auto length = response.headers.get("Content-Length");
  if (!length) return fail(ErrorKind::corrupt, context + ": no Content-Length");
  return std::optional<std::uint64_t>(std::strtoull(length->c_str(), nullptr, 10));
}

}  // namespace strata::registry
