// Progress of long work (downloads, pushes, extraction). On a terminal (stderr is a TTY and the log
// format is text/color) one line is redrawn at most 10 times a second; otherwise a plain line is
// logged every k_plain_interval (and once at the end), so CI logs stay readable; with
// --log-format=json those lines are JSON records with numeric fields.
//
// Thread safety: add() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace strata::util {

class Progress {
 public:
  static constexpr std::chrono::seconds k_plain_interval{5};

  // total_bytes may be 0 when unknown.
  Progress(std::string label, std::uint64_t total_bytes);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add_total(std::uint64_t bytes) { m_total += bytes; }
  void add(std::uint64_t bytes);
  // Prints the final line (on a TTY: clears the redrawn one).
  void finish();

 private:
  void report(bool final);

  std::string m_label;
  std::atomic<std::uint64_t> m_total;
  std::atomic<std::uint64_t> m_done{0};
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last_report;
  std::mutex m_mutex;
  bool m_tty = false;
  bool m_finished = false;
};

}  // namespace strata::util
