// The HTTP transport seam. Everything above this header (the registry client, the auth flow) speaks
// HTTP through `Transport`, so unit tests inject a scripted fake and never touch the network; the
// one real implementation is CurlTransport (transport/curl_transport.hpp), the only code that
// includes curl.
//
// A transport performs exactly one request: it never follows redirects, never retries and never
// answers auth challenges — the registry client does those, because it must strip Authorization on
// cross-host redirects, resume blobs with Range and pick tokens per scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace strata::transport {

enum class Method { get, head, post, put, patch, del };
std::string_view to_string(Method method);

// A request body that can be read more than once: the transport rewinds it when a request is
// retried. size() is the exact number of bytes read() yields from the start.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual std::uint64_t size() const = 0;
  // Reads up to n bytes; 0 means end. Errors abort the request with that error.
  virtual Result<std::size_t> read(char* buf, std::size_t n) = 0;
  virtual Result<void> rewind() = 0;
};

// Header list in wire order; names compare case-insensitively (see Headers::get).
class Headers {
 public:
  void add(std::string name, std::string value) { m_items.emplace_back(std::move(name), std::move(value)); }
  // Replaces every header of that name (case-insensitive) with one value.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  // First value of the header, if any.
  std::optional<std::string> get(std::string_view name) const;
  // All values of the header in order (WWW-Authenticate may come several times).
  std::vector<std::string> get_all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return m_items; }
  void clear() { m_items.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> m_items;
};

bool iequals(std::string_view a, std::string_view b);

// Per-request TLS settings (the registry client derives them from RegistryOptions per host).
struct TlsConfig {
  bool verify = true;            // false: --skip-tls-verify (no peer or host name check)
  std::string ca_file;           // extra CA bundle for this registry (--registry-certificate)
  std::string client_cert_file;  // mTLS (--registry-client-cert)
  std::string client_key_file;
};

// Called with successive chunks of a 2xx response body; an error aborts the transfer and becomes
// the result of perform().
using BodySink = std::function<Result<void>(const char* data, std::size_t size)>;

struct Request {
  Method method = Method::get;
  std::string url;  // absolute http(s) URL
  Headers headers;
  // At most one of body_bytes / body_stream is used. body_stream is not owned and must outlive
  // perform(). A POST/PUT/PATCH without either sends Content-Length: 0.
  std::optional<std::string> body_bytes;
  BodySource* body_stream = nullptr;
  TlsConfig tls;
  // When set, a 2xx body is streamed here instead of being collected in Response::body. Bodies of
  // other statuses are always collected (truncated to 64 KiB) for error messages.
  BodySink body_sink;
  // Called once with the status and headers of a 2xx response, just before its first body byte
  // reaches body_sink (not at all for an empty body). An error aborts the transfer.
  std::function<Result<void>(int status, const Headers& headers)> on_body_start;
};

struct Response {
  int status = 0;
  Headers headers;  // of the final response (never of a 100 Continue)
  std::string body;
  std::uint64_t body_bytes = 0;  // bytes received, including those handed to the sink
};

// Thread safety: implementations must allow concurrent perform() calls from several threads.
class Transport {
 public:
  virtual ~Transport() = default;
  // Performs the request. Any HTTP status is a successful Result; errors are transport failures
  // (network/timeout, retryable; TLS verification → network, not retryable) or the body sink's or
  // body source's own error. After a failure, Response data already delivered to the sink stays
  // delivered: callers resuming downloads count what they got.
  virtual Result<Response> perform(const Request& request) = 0;
};

// The one place an HTTP status becomes an Error: 401 unauthorized, 403 denied, 404 not_found,
// 405/501 unsupported, 408/429/5xx retryable (timeout/network), 400/409/416/other 4xx
// invalid_argument (or corrupt for DIGEST_INVALID/SIZE_INVALID). `what` is the context, e.g.
// "GET https://h/v2/r/manifests/t"; the registry's JSON error list (if any) is appended.
Error status_error(int status, std::string_view what, std::string_view body);

}  // namespace strata::transport
