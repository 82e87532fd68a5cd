#include "cache/push_queue.hpp"

#include <chrono>

namespace strata::cache {

PushQueue::PushQueue(int workers) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) m_workers.emplace_back([this] { work(); });
}

PushQueue::~PushQueue() {
  {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_jobs.empty() && m_running == 0; });
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& t : m_workers) t.join();
}

void PushQueue::enqueue(std::string label, std::function<Result<void>()> job) {
  {
    std::lock_guard lock(m_mutex);
    m_jobs.emplace_back(std::move(label), std::move(job));
  }
  m_wake.notify_one();
}

std::vector<PushOutcome> PushQueue::drain() {
  std::unique_lock lock(m_mutex);
  m_idle.wait(lock, [this] { return m_jobs.empty() && m_running == 0; });
  return std::exchange(m_done, {});
}

std::size_t PushQueue::pending() const {
  std::lock_guard lock(m_mutex);
  return m_jobs.size() + m_running;
}

void PushQueue::work() {
  for (;;) {
    std::pair<std::string, std::function<Result<void>()>> job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
      if (m_jobs.empty()) return;  // stopping
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
      ++m_running;
    }
    auto start = std::chrono::steady_clock::now();
    PushOutcome outcome;
    outcome.label = std::move(job.first);
    // A job that throws (a bug, or bad_alloc) is a failed push, not a dead worker.
    try {
      auto r = job.second();
      if (!r) outcome.error = r.error();
    } catch (const std::exception& e) {
      outcome.error = Error(ErrorKind::internal, std::string("push job threw: ") + e.what());
    }
    outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    {
      std::lock_guard lock(m_mutex);
      m_done.push_back(std::move(outcome));
      --m_running;
    }
    m_idle.notify_all();
  }
}

}  // namespace strata::cache
