// Retry policy: bounded attempts with exponential backoff, full jitter, and Retry-After.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace strata::transport {

struct RetryPolicy {
  int max_retries = 3;  // retries after the first attempt (kaniko's --push-retry / --image-fs-extract-retry)
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  // Longest Retry-After we are willing to honour; a server asking for more gets this.
  std::chrono::milliseconds max_retry_after{120'000};
};

// The side effects a retry loop needs, injectable so unit tests never sleep: `sleep` records the
// delays, `now` fixes the wall clock (for Retry-After dates and token expiry), `random` returns a
// value in [0, 1) for jitter. Defaults are the real thing. Copyable; the functions must be
// thread-safe when shared by threads.
struct RetryEnv {
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<double()> random;

  static RetryEnv real();
};

// Delay before retry number `retry` (0-based): uniform in [d/2, d] with d = initial * 2^retry
// capped at max_backoff ("equal jitter": never zero, so a herd of workers spreads out).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00
// GMT", also the obsolete RFC 850 and asctime forms). Returns the wait relative to `now` (zero
// for dates in the past), nullopt when unparseable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace strata::transport
