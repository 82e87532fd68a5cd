// The store's notion of time. Every record keeps wall-clock times (fetched, added, last used) so
// that prune policies ("unused for 14d") survive restarts and work across nodes; tests inject a
// clock they move by hand instead of sleeping.
//
// Thread safety: a Clock is called from whichever thread uses the object holding it, so a custom
// clock must be callable concurrently (the system clock is; ManualClock uses an atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace strata::store {

using TimePoint = std::chrono::system_clock::time_point;
using Clock = std::function<TimePoint()>;

inline Clock system_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

// Records store times as Unix milliseconds.
inline std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_unix_ms(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

// A clock for tests: starts at a fixed time and only moves when advance() is called. Must
// outlive every Clock obtained from clock().
class ManualClock {
 public:
  explicit ManualClock(std::int64_t start_unix_ms = 1'700'000'000'000) : m_ms(start_unix_ms) {}
  void advance(std::chrono::milliseconds d) { m_ms += d.count(); }
  TimePoint now() const { return from_unix_ms(m_ms.load()); }
  Clock clock() const {
    return [this] { return now(); };
  }

 private:
  std::atomic<std::int64_t> m_ms;
};

}  // namespace strata::store
