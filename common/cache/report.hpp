// CacheReport: what the layer cache did in one build — the summary line the executor prints at
// the end and the JSON document --cache-report FILE writes:
//
//   {"version":1,"enabled":true,"ttl":"336h0m0s","repo":"reg/app/cache","local":"/cache",
//    "summary":{"steps":4,"hits":3,"hitsLocal":2,"hitsRemote":1,"misses":1,"skipped":0,
//               "bytesFromCache":123,"bytesDownloaded":100,"pushed":1,"pushFailures":0,"timeMs":40},
//    "steps":[{"stage":0,"index":2,"step":"RUN make","kind":"run","key":"<hex>",
//              "result":"hit|miss|skipped","source":"local|remote","reason":"...",
//              "differs":["var:VERSION"],"bytes":123,"stored":"local","push":"ok|failed|queued|off",
//              "pushError":"..."}],
//    "pushFailures":[{"key":"<hex>","error":"..."}]}
//
// Plain values; not thread-safe (LayerCache serialises access).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cache/cache_key.hpp"
#include "util/result.hpp"

namespace strata::cache {

enum class StepResult { hit, miss, skipped };
std::string_view to_string(StepResult result);

struct StepRecord {
  std::size_t stage = 0;
  std::size_t index = 0;  // instruction index within the stage
  std::string step;       // display text
  StepKind kind = StepKind::run;
  std::string key;
  StepResult result = StepResult::miss;
  std::string source;                // hit: "local" or "remote"
  std::string reason;                // miss/skip: "not present", "expired ...", "lookup failed: ..."
  std::vector<std::string> differs;  // miss: key inputs that differ from the nearest entry of this step
  std::uint64_t bytes = 0;           // hit: layer size
  std::string stored;                // miss: "local", "" (not stored), "failed: ..."
  std::string push;                  // "ok", "failed", "queued", "off", "" (nothing to push)
  std::string push_error;
};

struct PushFailure {
  std::string key;
  std::string error;
};

struct CacheReport {
  bool enabled = false;
  std::chrono::milliseconds ttl{0};
  std::string repo;   // describe() of the cache repo, "" when none
  std::string local;  // cache dir, "" when none
  std::vector<StepRecord> steps;
  std::vector<PushFailure> push_failures;
  std::size_t pushed = 0;
  std::uint64_t bytes_downloaded = 0;
  std::chrono::milliseconds time{0};  // spent in cache lookups, stores and waiting for pushes

  std::size_t hits(const char* source = nullptr) const;
  std::size_t misses() const;
  std::size_t skipped() const;
  std::uint64_t bytes_from_cache() const;

  // "cache: 5 steps, 3 hits (2 local, 1 remote), 2 misses, 1.2 MiB from cache (300 KiB
  // downloaded), 0.4s; pushed 2 entries, 1 push failed"
  std::string summary_line() const;
  std::string to_json() const;
};

// Writes to_json() to path (temp + rename). Errors: io/no_space/denied naming the path.
Result<void> write_report(const CacheReport& report, const std::string& path);

}  // namespace strata::cache
