// A scripted Transport for unit tests: a handler answers each request; the fake records every
// request (with the body it read) and delivers 2xx bodies through on_body_start/body_sink like
// the real transport, optionally cutting the connection after some bytes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/client.hpp"
#include "transport/transport.hpp"

namespace strata::test {

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::size_t> cut_after;  // deliver this many body bytes, then a network error
  std::optional<Error> error;            // transport failure instead of any response
};

struct Recorded {
  transport::Method method;
  std::string url;
  transport::Headers headers;
  std::string body;
};

class FakeTransport : public transport::Transport {
 public:
  using Handler = std::function<Reply(const Recorded&)>;
  explicit FakeTransport(Handler handler) : m_handler(std::move(handler)) {}

  Result<transport::Response> perform(const transport::Request& request) override {
    Recorded rec{request.method, request.url, request.headers, {}};
    if (request.body_bytes) rec.body = *request.body_bytes;
    if (request.body_stream != nullptr) {
      TRY(request.body_stream->rewind());
      char buf[4096];
      while (true) {
        std::size_t n = TRY(request.body_stream->read(buf, sizeof buf));
        if (n == 0) break;
        rec.body.append(buf, n);
      }
    }
    Reply reply;
    {
      std::lock_guard lock(m_mutex);
      requests.push_back(rec);
    }
    reply = m_handler(rec);
    if (reply.error) return fail(*reply.error);
    transport::Response response;
    response.status = reply.status;
    for (auto& [k, v] : reply.headers) response.headers.add(k, v);
    bool ok = reply.status >= 200 && reply.status < 300;
    std::string body = reply.body;
    if (reply.cut_after) body.resize(std::min(body.size(), *reply.cut_after));
    if (request.method == transport::Method::head) body.clear();
    if (ok && !body.empty() && request.on_body_start) TRY(request.on_body_start(response.status, response.headers));
    if (ok && request.body_sink) {
      // Deliver in two pieces so streaming code sees more than one chunk.
      std::size_t half = body.size() / 2;
      if (half > 0) TRY(request.body_sink(body.data(), half));
      if (body.size() > half) TRY(request.body_sink(body.data() + half, body.size() - half));
    } else {
      response.body = body;
    }
    response.body_bytes = body.size();
    if (reply.cut_after) return fail(ErrorKind::network, "connection reset (fake)", true);
    return response;
  }

  std::vector<Recorded> requests;  // read after the calls (not while other threads call)

  std::vector<Recorded> matching(transport::Method method, std::string_view url_part) const {
    std::vector<Recorded> out;
    for (const auto& r : requests) {
      if (r.method == method && r.url.find(url_part) != std::string::npos) out.push_back(r);
    }
    return out;
  }

 private:
  Handler m_handler;
  std::mutex m_mutex;
};

// An environment whose sleeps are recorded, whose clock is settable and whose jitter is fixed.
struct FakeEnv {
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::from_time_t(1'700'000'000);

  transport::RetryEnv env() {
    transport::RetryEnv e;
    e.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    e.now = [this] { return now; };
    e.random = [] { return 1.0; };  // the top of the jitter range: deterministic delays
    return e;
  }
};

inline Reply ok_ping() { return Reply{200, {{"Docker-Distribution-API-Version", "registry/2.0"}}, "{}"}; }

inline std::unique_ptr<registry::Client> make_client(std::shared_ptr<transport::Transport> t, FakeEnv& env,
                                                     registry::RegistryOptions options = {},
                                                     registry::Login login = {}) {
  auto client = registry::Client::create(
      std::move(options), [login](std::string_view) -> Result<registry::Login> { return login; }, std::move(t),
      env.env());
  return std::move(*client);
}

inline image::Reference parse_ref(std::string_view text) { return *image::Reference::parse(text); }

}  // namespace strata::test
