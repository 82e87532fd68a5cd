#include "cache/report.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "store/file_ops.hpp"
#include "util/units.hpp"

namespace strata::cache {

std::string_view to_string(StepResult result) {
  switch (result) {
    case StepResult::hit: return "hit";
    case StepResult::miss: return "miss";
    case StepResult::skipped: return "skipped";
  }
  return "miss";
}

std::size_t CacheReport::hits(const char* source) const {
  std::size_t n = 0;
  for (const auto& s : steps) {
    if (s.result == StepResult::hit && (!source || s.source == source)) ++n;
  }
  return n;
}

std::size_t CacheReport::misses() const {
  std::size_t n = 0;
  for (const auto& s : steps) n += s.result == StepResult::miss;
  return n;
}

std::size_t CacheReport::skipped() const {
  std::size_t n = 0;
  for (const auto& s : steps) n += s.result == StepResult::skipped;
  return n;
}

std::uint64_t CacheReport::bytes_from_cache() const {
  std::uint64_t n = 0;
  for (const auto& s : steps) {
    if (s.result == StepResult::hit) n += s.bytes;
  }
  return n;
}

std::string CacheReport::summary_line() const {
  if (!enabled) return "cache: off";
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1fs", static_cast<double>(time.count()) / 1000.0);
  std::string line = "cache: " + std::to_string(steps.size() - skipped()) + " steps, " + std::to_string(hits()) +
                     " hits (" + std::to_string(hits("local")) + " local, " + std::to_string(hits("remote")) +
                     " remote), " + std::to_string(misses()) + " misses, " + util::human_size(bytes_from_cache()) +
                     " from cache (" + util::human_size(bytes_downloaded) + " downloaded), " + seconds;
  if (pushed || !push_failures.empty()) {
    line += "; pushed " + std::to_string(pushed) + (pushed == 1 ? " entry" : " entries");
    if (!push_failures.empty())
      line += ", " + std::to_string(push_failures.size()) + (push_failures.size() == 1 ? " push failed" : " pushes failed");
  }
  return line;
}

std::string CacheReport::to_json() const {
  using Json = nlohmann::ordered_json;
  Json j;
  j["version"] = 1;
  j["enabled"] = enabled;
  j["ttl"] = util::go_duration(ttl);
  j["repo"] = repo;
  j["local"] = local;
  j["summary"] = {{"steps", steps.size() - skipped()},
                  {"hits", hits()},
                  {"hitsLocal", hits("local")},
                  {"hitsRemote", hits("remote")},
                  {"misses", misses()},
                  {"skipped", skipped()},
                  {"bytesFromCache", bytes_from_cache()},
                  {"bytesDownloaded", bytes_downloaded},
                  {"pushed", pushed},
                  {"pushFailures", push_failures.size()},
                  {"timeMs", time.count()}};
  j["steps"] = Json::array();
  for (const auto& s : steps) {
    Json e;
    e["stage"] = s.stage;
    e["index"] = s.index;
    e["step"] = s.step;
    e["kind"] = std::string(to_string(s.kind));
    e["key"] = s.key;
    e["result"] = std::string(to_string(s.result));
    if (!s.source.empty()) e["source"] = s.source;
    if (!s.reason.empty()) e["reason"] = s.reason;
    if (!s.differs.empty()) e["differs"] = s.differs;
    if (s.result == StepResult::hit) e["bytes"] = s.bytes;
    if (!s.stored.empty()) e["stored"] = s.stored;
    if (!s.push.empty()) e["push"] = s.push;
    if (!s.push_error.empty()) e["pushError"] = s.push_error;
    j["steps"].push_back(std::move(e));
  }
  j["pushFailures"] = Json::array();
  for (const auto& f : push_failures) j["pushFailures"].push_back({{"key", f.key}, {"error", f.error}});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<void> write_report(const CacheReport& report, const std::string& path) {
  TRY_CTX(store::write_file_atomic(path, report.to_json()), "--cache-report " + path);
  return {};
}

}  // namespace strata::cache
