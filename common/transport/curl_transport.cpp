// libcurl behind the Transport interface.
//
// Connection reuse: curl keeps a connection cache per easy handle, and curl_easy_reset() keeps it,
// so a pool of reset-and-reused easy handles gives keep-alive (and one HTTP/2 connection per
// handle) without the locking callbacks a share handle needs. Each perform() borrows one handle.
//
// The transport never lets curl follow redirects or answer auth (the registry client does both),
// never asks for Content-Encoding (blob bytes must arrive exactly as stored, for their digest), and
// never enables CURLOPT_VERBOSE, so request headers — Authorization included — are never printed.
// CURLcodes become Errors in curl_error() below and nowhere else.
#include "transport/curl_transport.hpp"

#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "util/log.hpp"

namespace strata::transport {
namespace {

constexpr std::size_t k_max_error_body = 64 * 1024;

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::once_flag g_global_init;

// libcurl's default CA directory when it can stand in for its default CA bundle, else "".
//
// OpenSSL parses a bundle file whole for every new TLS connection (~50 ms for Debian's 140 roots:
// half of a re-warm); a directory of subject-hash links is looked up lazily, one issuer at a time.
// Debian's libcurl uses both (cainfo /etc/ssl/certs/ca-certificates.crt, capath /etc/ssl/certs),
// which update-ca-certificates writes together, so the directory alone trusts the same roots —
// unless someone appended a CA to the bundle by hand (a common Dockerfile habit), which leaves the
// bundle newer than the directory: then the bundle stays. A directory without hash links is
// never used alone either.
const std::string& default_ca_dir_alone() {
  static const std::string dir = []() -> std::string {
    const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
    if (!v || v->age < CURLVERSION_SEVENTH || !v->cainfo || !v->capath) return "";
    struct stat bundle {}, certs {};
    if (::stat(v->cainfo, &bundle) != 0 || ::stat(v->capath, &certs) != 0 || !S_ISDIR(certs.st_mode)) return "";
    auto ns = [](const timespec& t) { return static_cast<long long>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
    if (ns(bundle.st_mtim) > ns(certs.st_mtim)) return "";
    DIR* d = ::opendir(v->capath);
    if (!d) return "";
    bool hashed = false;
    while (const dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name.size() == 10 && name.substr(8) == ".0" && name.find_first_not_of("0123456789abcdef") == 8) {
        hashed = true;
        break;
      }
    }
    ::closedir(d);
    return hashed ? std::string(v->capath) : "";
  }();
  return dir;
}

Error curl_error(CURLcode code, std::string_view what, const char* detail) {
  std::string message = std::string(what) + ": " + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') message += " (" + std::string(detail) + ")";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error(ErrorKind::timeout, message, true);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return Error(ErrorKind::network, message, true);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(ErrorKind::invalid_argument, message);
    default:
      // Certificate problems and the rest: retrying the same request will not help.
      return Error(ErrorKind::network, message);
  }
}

struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  std::size_t bytes_offset = 0;         // position in request->body_bytes
  std::optional<Error> callback_error;  // the sink's or source's own error
  bool body_started = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue): only the final response's headers count.
    t->response->headers.clear();
    auto sp = line.find(' ');
    t->response->status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->response->headers.add(std::string(line.substr(0, colon)), std::string(value));
  return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t total = size * n;
  Response& r = *t->response;
  r.body_bytes += total;
  if (r.status >= 200 && r.status < 300 && t->request->on_body_start && !t->body_started) {
    t->body_started = true;
    auto started = t->request->on_body_start(r.status, r.headers);
    if (!started) {
      t->callback_error = started.error();
      return CURL_WRITEFUNC_ERROR;
    }
  }
  if (r.status >= 200 && r.status < 300 && t->request->body_sink) {
    auto written = t->request->body_sink(data, total);
    if (!written) {
      t->callback_error = written.error();
      return CURL_WRITEFUNC_ERROR;
    }
    return total;
  }
  if (r.body.size() < k_max_error_body || (r.status >= 200 && r.status < 300)) r.body.append(data, total);
  return total;
}

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t want = size * n;
  if (t->request->body_stream != nullptr) {
    auto got = t->request->body_stream->read(buf, want);
    if (!got) {
      t->callback_error = got.error();
      return CURL_READFUNC_ABORT;
    }
    return *got;
  }
  if (!t->request->body_bytes) return 0;
  const std::string& bytes = *t->request->body_bytes;
  std::size_t count = std::min(want, bytes.size() - t->bytes_offset);
  std::memcpy(buf, bytes.data() + t->bytes_offset, count);
  t->bytes_offset += count;
  return count;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  t->bytes_offset = 0;
  if (t->request->body_stream != nullptr) {
    auto rewound = t->request->body_stream->rewind();
    if (!rewound) {
      t->callback_error = rewound.error();
      return CURL_SEEKFUNC_FAIL;
    }
  }
  return CURL_SEEKFUNC_OK;
}

}  // namespace

struct CurlTransport::Pool {
  std::mutex mutex;
  std::vector<EasyHandle> idle;
};

CurlTransport::CurlTransport(CurlOptions options) : m_options(std::move(options)), m_pool(std::make_unique<Pool>()) {
  std::call_once(g_global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (const char* env = std::getenv("STRATA_STALL_TIMEOUT")) {
    char* end = nullptr;
    long seconds = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && seconds > 0) m_options.low_speed_time = std::chrono::seconds(seconds);
  }
}

CurlTransport::~CurlTransport() = default;

Result<Response> CurlTransport::perform(const Request& request) {
  std::string what = std::string(to_string(request.method)) + " " + request.url;

  EasyHandle handle;
  {
    std::lock_guard lock(m_pool->mutex);
    if (!m_pool->idle.empty()) {
      handle = std::move(m_pool->idle.back());
      m_pool->idle.pop_back();
    }
  }
  if (!handle) handle.reset(curl_easy_init());
  if (!handle) return fail(ErrorKind::internal, what + ": curl_easy_init failed");
  CURL* h = handle.get();

  Response response;
  Transfer transfer{&request, &response, 0, std::nullopt, false};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  Slist headers;
  auto append = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers.items()) {
    // "Name;" is curl's spelling of a header with an empty value.
    append(value.empty() ? name + ";" : name + ": " + value);
  }
  append("Expect:");

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, m_options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, m_options.low_speed_limit);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_options.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer, larger writes of blob bodies
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);

  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2L : 0L);
  if (!request.tls.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, request.tls.ca_file.c_str());
  } else if (!request.tls.verify) {  // nothing to verify against: load no CA store at all
    curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  } else if (const std::string& dir = default_ca_dir_alone(); !dir.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);  // the same roots, looked up lazily
    curl_easy_setopt(h, CURLOPT_CAPATH, dir.c_str());
  }
  if (!request.tls.client_cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, request.tls.client_cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, request.tls.client_key_file.c_str());
  }

  switch (request.method) {
    case Method::get:
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      break;
    case Method::head:
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
      break;
    case Method::del:
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
      break;
    case Method::post:
    case Method::put:
    case Method::patch: {
      std::uint64_t size = request.body_stream != nullptr ? request.body_stream->size()
                           : request.body_bytes      ? request.body_bytes->size()
                                                     : 0;
      if (request.body_stream != nullptr) {
        auto rewound = request.body_stream->rewind();
        if (!rewound) return fail(rewound.error().with_context(what));
      }
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, std::string(to_string(request.method)).c_str());
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &transfer);
      break;
    }
  }

  CURLcode code = curl_easy_perform(h);
  // Drop references to this call's stack before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_reset(h);
  {
    std::lock_guard lock(m_pool->mutex);
    if (m_pool->idle.size() < m_options.max_idle_handles) m_pool->idle.push_back(std::move(handle));
  }

  if (transfer.callback_error) return fail(transfer.callback_error->with_context(what));
  if (code != CURLE_OK) return fail(curl_error(code, what, error_buffer));
  if (log::enabled(log::Level::trace)) {
    log::trace("http", {{"request", what}, {"status", std::to_string(response.status)}});
  }
  return response;
}

}  // namespace strata::transport
