#include "util/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::util {

Progress::Progress(std::string label, std::uint64_t total_bytes)
    : m_label(std::move(label)), m_total(total_bytes), m_start(std::chrono::steady_clock::now()),
      m_last_report(m_start) {
  m_tty = ::isatty(STDERR_FILENO) == 1 && log::options().format != log::Format::json &&
          log::enabled(log::Level::info);
}

Progress::~Progress() {
  if (!m_finished && m_tty) std::fputs("\r\033[K", stderr);
}

void Progress::add(std::uint64_t bytes) {
  m_done += bytes;
  auto now = std::chrono::steady_clock::now();
  auto interval = m_tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(k_plain_interval);
  std::unique_lock lock(m_mutex, std::try_to_lock);
  if (!lock.owns_lock() || now - m_last_report < interval) return;
  m_last_report = now;
  report(false);
}

void Progress::finish() {
  std::lock_guard lock(m_mutex);
  if (m_finished) return;
  m_finished = true;
  report(true);
}

void Progress::report(bool final) {
  std::uint64_t done = m_done, total = m_total;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  std::string rate = seconds > 0.05 ? human_size(static_cast<std::uint64_t>(done / seconds)) + "/s" : "";
  std::string amount = human_size(done);
  if (total > 0) amount += " of " + human_size(total);
  if (log::options().format == log::Format::json) {
    log::info(m_label, {{"bytes", std::to_string(done)}, {"total", std::to_string(total)},
                        {"seconds", std::to_string(seconds)}, {"done", final ? "true" : "false"}});
    return;
  }
  if (m_tty) {
    int percent = total > 0 ? static_cast<int>(done * 100 / total) : -1;
    char buf[256];
    std::snprintf(buf, sizeof buf, "\r\033[K%s %s%s %s", m_label.c_str(),
                  percent >= 0 ? (std::to_string(percent) + "% ").c_str() : "", amount.c_str(),
                  rate.c_str());
    std::fputs(buf, stderr);
    if (final) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    if (!final) return;
  }
  if (final || !m_tty) log::info(m_label + ": " + amount + (rate.empty() ? "" : " (" + rate + ")"));
}

}  // namespace strata::util
