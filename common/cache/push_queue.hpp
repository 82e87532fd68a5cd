// PushQueue: background workers that publish cache entries while the build goes on. Jobs run in
// the order queued (one worker keeps pushes to one repo in order; more overlap uploads). Every
// job's outcome is kept and handed back by drain(), so a failed push is reported, never dropped.
//
// Thread safety: enqueue() and drain() may be called from any thread. The destructor drains
// (waits for queued jobs) before joining the workers.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/result.hpp"

namespace strata::cache {

struct PushOutcome {
  std::string label;  // what was pushed, e.g. the cache key
  std::optional<Error> error;
  std::chrono::milliseconds elapsed{0};
};

class PushQueue {
 public:
  explicit PushQueue(int workers = 1);
  PushQueue(const PushQueue&) = delete;
  PushQueue& operator=(const PushQueue&) = delete;
  ~PushQueue();

  void enqueue(std::string label, std::function<Result<void>()> job);
  // Waits until every queued job has run; returns the outcomes since the last drain(), in
  // completion order.
  std::vector<PushOutcome> drain();
  std::size_t pending() const;

 private:
  void work();

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_idle;
  std::deque<std::pair<std::string, std::function<Result<void>()>>> m_jobs;
  std::vector<PushOutcome> m_done;
  std::size_t m_running = 0;
  bool m_stop = false;
  std::vector<std::thread> m_workers;
};

}  // namespace strata::cache
