// CurlTransport: the libcurl implementation of Transport, and the only code that includes curl.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "transport/transport.hpp"

namespace strata::transport {

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{30'000};
  // A transfer slower than low_speed_limit bytes/s for low_speed_time is a stall → timeout error
  // (retryable). There is deliberately no overall timeout: layers can be gigabytes. The environment
  // variable STRATA_STALL_TIMEOUT=SECONDS overrides low_speed_time (docs/reliability.md).
  long low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{60};
  std::string user_agent = "strata/" STRATA_VERSION;
  // Idle easy handles kept for reuse (each keeps its connections alive, so reuse means
  // keep-alive and HTTP/2 multiplexing per thread).
  std::size_t max_idle_handles = 8;
};

// Thread safety: perform() may be called concurrently; each call borrows an easy handle from a
// mutex-protected pool and returns it afterwards. Construct once per process (curl_global_init is
// done on first construction, thread-safely).
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<Response> perform(const Request& request) override;

 private:
  struct Pool;
  CurlOptions m_options;
  std::unique_ptr<Pool> m_pool;
};

}  // namespace strata::transport
