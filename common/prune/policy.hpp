// Prune policy: which cache entries to evict, decided from records, sizes, leases and a clock
// alone (pure: no I/O, so every rule is unit-tested with a manual clock and synthetic records).
//
// Rules, in order:
//  1. Candidates are the entries matching every --filter. Never candidates: images whose
//     reference is in the keep list, entries a lease names (its top/manifest digest or its
//     cache key), and, with keep_last = N, the N most recently used images of each repository.
//  2. With older_than = D, every candidate unused for longer than D (last used, or created if
//     never used, before now - D) is evicted.
//  3. With max_used_space and/or min_free_space, further candidates are evicted, least recently
//     used first (ties: least frequently used, then name), until the bytes the index knows drop to
//     max_used_space and the file system's free space (as measured + what the plan frees) reaches
//     min_free_space. Only bytes that actually become free count: a blob shared with a kept entry
//     frees nothing.
//  4. With no age or space rule, every candidate is evicted (prune --filter ..., prune --all); a
//     plan with only keep_last evicts the surplus images and leaves layer-cache entries alone.
// A blob is deleted when no remaining entry holds it and no lease (closed over manifests) names
// it. Blobs nothing referenced before the prune are left to gc.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "prune/graph.hpp"
#include "store/clock.hpp"
#include "store/lease.hpp"
#include "util/result.hpp"

namespace strata::prune {

// One --filter: "type=image|layer", "until=DURATION" (last used before now - DURATION),
// "ref~=REGEX" (searched in the reference of images, the key and step text of layer entries).
struct Filter {
  std::optional<EntryKind> type;
  std::optional<std::chrono::milliseconds> until;
  std::optional<std::regex> ref;
  std::string text;  // as given, for messages
};

// Errors: invalid_argument naming the filter.
Result<Filter> parse_filter(std::string_view text);
bool matches(const Filter& filter, const CacheGraph& graph, const Entry& entry, store::TimePoint now);
bool matches_all(const std::vector<Filter>& filters, const CacheGraph& graph, const Entry& entry,
                 store::TimePoint now);

struct Policy {
  std::vector<Filter> filters;
  std::optional<std::chrono::milliseconds> older_than;
  std::optional<std::uint64_t> max_used_space;
  std::optional<std::uint64_t> min_free_space;
  std::optional<std::size_t> keep_last;
  std::set<std::string> keep;  // normalised references
  bool all = false;

  // Whether anything selects entries at all (else a prune would be a no-op by accident).
  bool selects_anything() const {
    return !filters.empty() || older_than || max_used_space || min_free_space || keep_last || all;
  }
};

struct FsSpace {
  std::uint64_t available = 0;
  std::uint64_t total = 0;
};

enum class Reason { filter, age, max_used_space, min_free_space, keep_last };
std::string_view to_string(Reason reason);

struct Eviction {
  std::size_t entry = 0;  // index into CacheGraph::entries()
  Reason reason = Reason::filter;
};

struct Plan {
  std::vector<Eviction> evict;
  std::vector<BlobId> blobs;     // to delete: held by no remaining entry and not leased
  std::uint64_t bytes = 0;       // their total size
  std::uint64_t used_before = 0; // bytes the index knows
  std::uint64_t used_after = 0;
  std::size_t kept_by_list = 0;
  std::size_t kept_by_lease = 0;
  std::size_t kept_by_keep_last = 0;
  bool target_met = true;        // false when space rules could not be satisfied
};

// fs is required when policy.min_free_space is set (else invalid_argument).
Result<Plan> plan(const CacheGraph& graph, const Policy& policy, const store::LeaseContents& leases,
                  store::TimePoint now, std::optional<FsSpace> fs = std::nullopt);

}  // namespace strata::prune
