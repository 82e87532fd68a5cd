#include "util/log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::log {
namespace {

std::mutex g_mutex;
Options g_options;
std::vector<std::string> g_secrets;
int g_sink = STDERR_FILENO;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::panic: return "panic";
    case Level::fatal: return "fatal";
    case Level::error: return "error";
    case Level::warn: return "warning";
    case Level::info: return "info";
    case Level::debug: return "debug";
    case Level::trace: return "trace";
  }
  return "info";
}

std::string_view level_color(Level level) {
  switch (level) {
    case Level::panic:
    case Level::fatal:
    case Level::error: return "\033[31m";
    case Level::warn: return "\033[33m";
    case Level::info: return "\033[36m";
    default: return "\033[37m";
  }
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string redact_locked(std::string_view text) {
  std::string out(text);
  for (const auto& secret : g_secrets) {
    for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

void write_all(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void configure(const Options& options) {
  std::lock_guard lock(g_mutex);
  g_options = options;
}

const Options& options() { return g_options; }

Result<Level> parse_level(std::string_view text) {
  static const std::pair<std::string_view, Level> names[] = {
      {"panic", Level::panic}, {"fatal", Level::fatal}, {"error", Level::error},
      {"warn", Level::warn},   {"warning", Level::warn}, {"info", Level::info},
      {"debug", Level::debug}, {"trace", Level::trace}};
  for (const auto& [name, level] : names) {
    if (text == name) return level;
  }
  return fail(ErrorKind::invalid_argument,
              "unknown verbosity '" + std::string(text) + "' (panic, fatal, error, warn, info, debug, trace)");
}

Result<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::text;
  if (text == "color") return Format::color;
  if (text == "json") return Format::json;
  return fail(ErrorKind::invalid_argument, "unknown log format '" + std::string(text) + "' (text, color, json)");
}

bool enabled(Level level) { return level <= g_options.level; }

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  std::lock_guard lock(g_mutex);
  std::string line;
  if (g_options.format == Format::json) {
    nlohmann::json j;
    j["level"] = level_name(level);
    j["msg"] = redact_locked(message);
    if (g_options.timestamps) j["time"] = timestamp();
    if (!g_options.tool.empty()) j["tool"] = g_options.tool;
    for (const auto& f : fields) j[f.key] = redact_locked(f.value);
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    if (g_options.timestamps) line += timestamp() + " ";
    bool color = g_options.format == Format::color;
    if (level <= Level::warn || level >= Level::debug) {
      if (color) line += level_color(level);
      line += level_name(level);
      if (color) line += "\033[0m";
      line += ": ";
    }
    line += redact_locked(message);
    for (const auto& f : fields) {
      line += " " + f.key + "=" + redact_locked(f.value);
    }
  }
  line += '\n';
  write_all(g_sink, line);
}

void add_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(g_mutex);
  for (const auto& s : g_secrets) {
    if (s == secret) return;
  }
  g_secrets.emplace_back(secret);
}

std::string redact(std::string_view text) {
  std::lock_guard lock(g_mutex);
  return redact_locked(text);
}

void set_sink(int fd) { g_sink = fd; }

}  // namespace strata::log
