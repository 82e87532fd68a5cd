// Context downloads over the project's Transport (CurlTransport in the tools):
// the body goes straight from curl's buffers into the file through
// Request::body_sink, with a Progress line, so a context of any size costs a
// constant amount of memory. Redirects are followed here because the transport
// never does; Authorization is dropped when a redirect changes the host (S3 and
// Azure redirect to presigned URLs that reject a second credential).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive/stream.hpp"
#include "context/fetch.hpp"
#include "context/safe_extract.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"
#include "util/progress.hpp"

namespace strata::context {
namespace {

std::string origin_of(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::size_t end = url.find_first_of(
      "/?#", scheme == std::string_view::npos ? 0 : scheme + 3);
  return std::string(url.substr(0, end));
}

std::string resolve_location(const std::string &base,
                             const std::string &location) {
  if (location.starts_with("http://") || location.starts_with("https://"))
    return location;
  if (location.starts_with("/"))
    return origin_of(base) + location;
  std::string path = base.substr(0, base.find_first_of("?#"));
  return path.substr(0, path.rfind('/') + 1) + location;
}

} // namespace

Error context_http_error(int status, const std::string &what,
                         std::string_view body) {
  Error kind = transport::status_error(status, what, "");
  std::string text = log::redact(body.substr(0, 400));
  for (char &c : text) {
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  }
  std::string message = what + ": HTTP " + std::to_string(status);
  if (!text.empty())
    message += ": " + text;
  return Error(kind.kind(), message, kind.retryable());
}

transport::TlsConfig tls_from_env(const EnvLookup &env) {
  transport::TlsConfig tls;
  tls.ca_file = env_or(env, "SSL_CERT_FILE");
  return tls;
}

Result<std::uint64_t> download_to_file(const FetchEnv &env, const HttpGet &get,
                                       const std::string &path) {
  int raw =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (raw < 0)
    return fail_errno(env.what + ": create " + path, errno);
  util::Fd file(raw);
  std::string shown = get.shown_url.empty() ? get.url : get.shown_url;
  transport::Request req;
  req.url = get.url;
  req.headers = get.headers;
  req.tls = get.tls;
  for (int hop = 0;; ++hop) {
    if (::ftruncate(file.get(), 0) != 0 ||
        ::lseek(file.get(), 0, SEEK_SET) != 0)
      return fail_errno(env.what + ": reset " + path, errno);
    util::Progress progress("downloading " + env.what, 0);
    req.on_body_start = [&](int,
                            const transport::Headers &headers) -> Result<void> {
      if (auto len = headers.get("Content-Length")) {
        try {
          progress.add_total(std::stoull(*len));
        } catch (...) {
        }
      }
      return {};
    };
    archive::FdSink sink(file.get(), path);
    req.body_sink = [&](const char *data, std::size_t n) -> Result<void> {
      progress.add(n);
      return sink.write(data, n);
    };
    auto resp = TRY_CTX(env.transport->perform(req), env.what);
    if (resp.status >= 300 && resp.status < 400 && resp.status != 304) {
      auto location = resp.headers.get("Location");
      if (!location || hop >= 10)
        return fail(ErrorKind::invalid_argument,
                    env.what + ": GET " + shown +
                        ": redirect without Location or too many redirects");
      std::string next = resolve_location(req.url, *location);
      if (!next.starts_with("http://") && !next.starts_with("https://"))
        return fail(ErrorKind::invalid_argument,
                    env.what + ": redirect to a non-HTTP URL");
      if (origin_of(next) != origin_of(req.url))
        req.headers.remove("Authorization");
      req.url = next;
      shown = next.substr(0, next.find('?'));
      continue;
    }
    if (resp.status < 200 || resp.status >= 300) {
      Error e = context_http_error(resp.status, "GET " + shown, resp.body);
      std::string hint;
      if (e.kind() == ErrorKind::not_found)
        hint = " (no such object)";
      else if (e.kind() == ErrorKind::unauthorized ||
               e.kind() == ErrorKind::denied)
        hint = " (check the credentials)";
      return fail(
          Error(e.kind(), env.what + hint + ": " + e.message(), e.retryable()));
    }
    progress.finish();
    if (::fsync(file.get()) != 0)
      return fail_errno(env.what + ": fsync " + path, errno);
    return resp.body_bytes;
  }
}

Result<void> download_and_extract(const FetchEnv &env, const HttpGet &get,
                                  const std::string &dest) {
  std::string path = env.work_dir + "/download";
  TRY(download_to_file(env, get, path));
  auto extracted = extract_context_archive(path, dest, env.what);
  ::unlink(path.c_str());
  TRY(extracted);
  return {};
}

} // namespace strata::context
