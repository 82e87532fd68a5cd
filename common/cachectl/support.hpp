// What several cachectl subcommands share: opening the cache dir, reading the index in one
// session, the policy flags (prune and du), tables and times for people, and the deletion
// protocol (records first, in one write session; blobs after, outside it; see docs/cachectl.md).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cachectl/command.hpp"
#include "prune/graph.hpp"
#include "prune/policy.hpp"
#include "store/cache_dir.hpp"
#include "util/json_writer.hpp"
#include "util/result.hpp"

namespace strata::cachectl {

// Opens ctx.cache_dir with ctx.clock. not_found (not created) when the directory does not exist.
Result<store::CacheDir> open_cache(const Context& ctx);

// Every record of the index, read through one session (read or write).
Result<prune::Snapshot> load_snapshot(const store::IndexView& view);

// "3h 5m ago" / "never".
std::string age(store::TimePoint now, store::TimePoint t);
// RFC 3339 UTC, for JSON ("" for the epoch).
std::string rfc3339(store::TimePoint t);
std::string short_digest(const digest::Digest& d);  // "sha256:0123456789ab"

// A left-aligned text table; the last column may be long.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : m_headers(std::move(headers)) {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  void print(std::ostream& os) const;
  bool empty() const { return m_rows.empty(); }

 private:
  std::vector<std::string> m_headers;
  std::vector<std::vector<std::string>> m_rows;
};

// The policy flags prune takes and du evaluates ("what would a prune reclaim").
struct PolicyFlags {
  std::vector<std::string> filters;
  std::string older_than;
  std::string max_used_space;
  std::string min_free_space;
  std::optional<std::size_t> keep_last;
  std::vector<std::string> keep;
  std::string keep_file;
  bool all = false;

  void add(CLI::App& app);
  // Errors: usage errors naming the flag.
  Result<prune::Policy> policy() const;
};

// Runs fn(0..n-1) on up to `threads` threads (the caller's included); returns when all are done.
// fn must be thread-safe.
void run_parallel(std::size_t n, int threads, const std::function<void(std::size_t)>& fn);

// Deletes the blobs of a plan after their records are gone: re-reads the leases just before
// unlinking (a build may have started since) and keeps what they name; afterwards checks that no
// concurrent writer re-recorded a removed digest without its file, dropping such records.
struct BlobRemoval {
  std::size_t removed = 0;
  std::uint64_t bytes = 0;
  std::size_t kept_leased = 0;
  std::size_t dangling_dropped = 0;  // records a concurrent writer added and we had to drop
  std::vector<std::string> errors;
};
Result<BlobRemoval> remove_blobs(const store::CacheDir& cache, const std::vector<digest::Digest>& digests,
                                 const std::vector<std::uint64_t>& sizes);

// In an open write session: deletes every record that refers to one of `digests` (entries that
// hold them, and the manifest/blob records of the digests themselves). Returns how many entries
// were dropped. Does not commit.
Result<std::size_t> drop_records_referring(store::WriteSession& session, const std::set<digest::Digest>& digests);

// An entry's fields (type, name, digests, size, times, uses), into an object the caller opened.
void write_entry_fields(util::JsonWriter& w, const prune::CacheGraph& graph, const prune::Entry& e);
// The same fields as a document (inspect adds to it; lists stream with write_entry_fields).
nlohmann::json entry_json(const prune::CacheGraph& graph, const prune::Entry& e);

}  // namespace strata::cachectl
