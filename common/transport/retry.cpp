#include "transport/retry.hpp"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <thread>

namespace strata::transport {

RetryEnv RetryEnv::real() {
  RetryEnv env;
  env.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  env.now = [] { return std::chrono::system_clock::now(); };
  env.random = [] {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  };
  return env;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01) {
  double base = static_cast<double>(policy.initial_backoff.count());
  double cap = static_cast<double>(policy.max_backoff.count());
  double d = base;
  for (int i = 0; i < retry && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  random01 = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(d / 2 + d / 2 * random01));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(std::string(value)));
  }

  // RFC 9110 §5.6.7: IMF-fixdate, then the two obsolete forms recipients must accept.
  static const char* const k_formats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                          "%a %b %e %H:%M:%S %Y"};
  std::string text(value);
  for (const char* format : k_formats) {
    struct tm tm {};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    time_t when = timegm(&tm);
    auto at = std::chrono::system_clock::from_time_t(when);
    if (at <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  }
  return std::nullopt;
}

}  // namespace strata::transport
