#include "prune/policy.hpp"

#include <algorithm>
#include <map>

#include "util/units.hpp"

namespace strata::prune {

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::filter: return "filter";
    case Reason::age: return "older-than";
    case Reason::max_used_space: return "max-used-space";
    case Reason::min_free_space: return "min-free-space";
    case Reason::keep_last: return "keep-last";
  }
  return "?";
}

Result<Filter> parse_filter(std::string_view text) {
  Filter f;
  f.text = std::string(text);
  if (auto p = text.find("~="); p != std::string_view::npos && text.substr(0, p) == "ref") {
    try {
      f.ref = std::regex(std::string(text.substr(p + 2)), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(ErrorKind::invalid_argument, "filter '" + f.text + "': bad regular expression: " + e.what());
    }
    return f;
  }
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return fail(ErrorKind::invalid_argument,
                "filter '" + f.text + "': expected type=image|layer, until=DURATION or ref~=REGEX");
  }
  auto key = text.substr(0, eq);
  auto value = text.substr(eq + 1);
  if (key == "type") {
    if (value == "image") f.type = EntryKind::image;
    else if (value == "layer") f.type = EntryKind::layer;
    else return fail(ErrorKind::invalid_argument, "filter '" + f.text + "': type is image or layer");
  } else if (key == "until") {
    auto d = util::parse_duration(value);
    if (!d) return fail(ErrorKind::invalid_argument, "filter '" + f.text + "': " + d.error().message());
    f.until = *d;
  } else {
    return fail(ErrorKind::invalid_argument,
                "filter '" + f.text + "': unknown key '" + std::string(key) + "' (type, until, ref~)");
  }
  return f;
}

bool matches(const Filter& filter, const CacheGraph& graph, const Entry& entry, store::TimePoint now) {
  if (filter.type && *filter.type != entry.kind) return false;
  if (filter.until && !(entry.last_used < now - *filter.until)) return false;
  if (filter.ref) {
    if (std::regex_search(entry.name, *filter.ref)) return true;
    if (entry.kind == EntryKind::layer &&
        std::regex_search(graph.snapshot().layers[entry.record].step, *filter.ref)) {
      return true;
    }
    return false;
  }
  return true;
}

bool matches_all(const std::vector<Filter>& filters, const CacheGraph& graph, const Entry& entry,
                 store::TimePoint now) {
  return std::all_of(filters.begin(), filters.end(),
                     [&](const Filter& f) { return matches(f, graph, entry, now); });
}

namespace {

bool leased(const CacheGraph& graph, const Entry& e, const std::set<digest::Digest>& digests,
            const store::LeaseContents& leases) {
  const auto& snap = graph.snapshot();
  if (e.kind == EntryKind::layer) {
    const auto& r = snap.layers[e.record];
    return leases.cache_keys.count(r.key) || leases.digests.count(r.manifest);
  }
  const auto& r = snap.images[e.record];
  return digests.count(r.manifest) || (r.index && leases.digests.count(*r.index));
}

// LRU first, then LFU, then name: deterministic.
bool evict_before(const Entry& a, const Entry& b) {
  if (a.last_used != b.last_used) return a.last_used < b.last_used;
  if (a.uses != b.uses) return a.uses < b.uses;
  return a.name < b.name;
}

}  // namespace

Result<Plan> plan(const CacheGraph& graph, const Policy& policy, const store::LeaseContents& leases,
                  store::TimePoint now, std::optional<FsSpace> fs) {
  if (policy.min_free_space && !fs) {
    return fail(ErrorKind::invalid_argument, "min-free-space needs the file system's free space");
  }
  const auto& entries = graph.entries();
  Plan out;
  out.used_before = graph.known_bytes();

  // 1. Protection.
  std::vector<bool> is_candidate(entries.size(), false);
  std::vector<bool> surplus(entries.size(), false);
  std::map<std::string, std::vector<std::size_t>> by_repo;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.kind == EntryKind::image && policy.keep.count(e.name)) {
      ++out.kept_by_list;
      continue;
    }
    if (leased(graph, e, leases.digests, leases)) {
      ++out.kept_by_lease;
      continue;
    }
    if (!matches_all(policy.filters, graph, e, now)) continue;
    is_candidate[i] = true;
    if (e.kind == EntryKind::image && policy.keep_last) by_repo[e.repository].push_back(i);
  }
  if (policy.keep_last) {
    // The N most recently used of each repository are kept, counting protected ones too: they
    // exist and count towards "the last N".
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (e.kind == EntryKind::image && !is_candidate[i] && by_repo.count(e.repository)) {
        by_repo[e.repository].push_back(i);
      }
    }
    for (auto& [repo, list] : by_repo) {
      std::sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
        return evict_before(entries[b], entries[a]);  // most recent first
      });
      for (std::size_t k = 0; k < list.size(); ++k) {
        if (!is_candidate[list[k]]) continue;
        if (k < *policy.keep_last) {
          is_candidate[list[k]] = false;
          ++out.kept_by_keep_last;
        } else {
          surplus[list[k]] = true;
        }
      }
    }
  }

  std::vector<std::uint32_t> refs = graph.refcounts();
  std::set<digest::Digest> leased_digests = graph.closure(leases.digests);
  std::vector<bool> blob_leased(graph.blob_count(), false);
  for (const auto& d : leased_digests) {
    if (auto id = graph.find(d)) blob_leased[*id] = true;
  }
  std::vector<bool> removed(entries.size(), false);
  auto evict = [&](std::size_t i, Reason why) {
    removed[i] = true;
    out.evict.push_back({i, why});
    for (BlobId b : entries[i].blobs) {
      if (--refs[b] == 0 && !blob_leased[b]) {
        out.blobs.push_back(b);
        out.bytes += graph.size(b);
      }
    }
  };

  // 2. Age.
  bool space_rule = policy.max_used_space || policy.min_free_space;
  if (policy.older_than) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (is_candidate[i] && entries[i].last_used < now - *policy.older_than) evict(i, Reason::age);
    }
  }
  // 4. No age or space rule: everything selected goes.
  if (!policy.older_than && !space_rule) {
    bool only_keep_last = policy.keep_last && policy.filters.empty() && !policy.all;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!is_candidate[i]) continue;
      if (only_keep_last && !surplus[i]) continue;
      evict(i, surplus[i] ? Reason::keep_last : Reason::filter);
    }
  }
  // 3. Space.
  if (space_rule) {
    auto need = [&]() -> std::uint64_t {
      std::uint64_t n = 0;
      std::uint64_t used = out.used_before - std::min(out.used_before, out.bytes);
      if (policy.max_used_space && used > *policy.max_used_space) n = used - *policy.max_used_space;
      if (policy.min_free_space) {
        std::uint64_t free_now = fs->available + out.bytes;
        if (free_now < *policy.min_free_space) n = std::max(n, *policy.min_free_space - free_now);
      }
      return n;
    };
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (is_candidate[i] && !removed[i]) order.push_back(i);
    }
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return evict_before(entries[a], entries[b]); });
    for (std::size_t i : order) {
      if (need() == 0) break;
      std::uint64_t used = out.used_before - std::min(out.used_before, out.bytes);
      bool over_max = policy.max_used_space && used > *policy.max_used_space;
      evict(i, over_max ? Reason::max_used_space : Reason::min_free_space);
    }
    out.target_met = need() == 0;
  }
  out.used_after = out.used_before - std::min(out.used_before, out.bytes);
  return out;
}

}  // namespace strata::prune
