#include "cachectl/support.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/app.hpp"
#include "image/reference.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cachectl {

namespace {
constexpr int k_unlink_threads = 8;
}  // namespace

Result<store::CacheDir> open_cache(const Context& ctx) {
  struct stat st {};
  if (::stat(ctx.cache_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(ErrorKind::not_found, "cache dir " + ctx.cache_dir + " does not exist");
  }
  store::CacheDirOptions options;
  options.clock = ctx.clock;
  return TRY_CTX(store::CacheDir::open(ctx.cache_dir, options), "cache dir " + ctx.cache_dir);
}

Result<prune::Snapshot> load_snapshot(const store::IndexView& view) {
  // Two halves on two threads (decoding is most of an ls/du/prune on a big index). Safe: a view
  // only reads, RocksDB iterators are independent, and the session's lock keeps writers out.
  prune::Snapshot s;
  Result<void> other{};
  std::thread t([&] {
    other = [&]() -> Result<void> {
      s.blobs = TRY(view.blobs());
      s.manifests = TRY(view.manifests());
      return {};
    }();
  });
  auto mine = [&]() -> Result<void> {
    s.layers = TRY(view.layer_cache_entries());
    s.images = TRY(view.images());
    return {};
  }();
  t.join();
  TRY(std::move(mine));
  TRY(std::move(other));
  return s;
}

std::string age(store::TimePoint now, store::TimePoint t) {
  if (t.time_since_epoch().count() == 0) return "never";
  if (t >= now) return "just now";
  return util::human_duration(std::chrono::duration_cast<std::chrono::milliseconds>(now - t)) + " ago";
}

std::string rfc3339(store::TimePoint t) {
  if (t.time_since_epoch().count() == 0) return "";
  // Calendar arithmetic instead of gmtime_r + strftime: ls --json formats 200k of these.
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(secs - day);
  auto put = [](char* p, unsigned v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  };
  std::string out = "0000-00-00T00:00:00Z";
  put(out.data(), static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  put(out.data() + 5, static_cast<unsigned>(ymd.month()), 2);
  put(out.data() + 8, static_cast<unsigned>(ymd.day()), 2);
  put(out.data() + 11, static_cast<unsigned>(hms.hours().count()), 2);
  put(out.data() + 14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(out.data() + 17, static_cast<unsigned>(hms.seconds().count()), 2);
  return out;
}

std::string short_digest(const digest::Digest& d) {
  return std::string(d.algorithm_name()) + ":" + d.hex().substr(0, 12);
}

void Table::print(std::ostream& os) const {
  std::vector<std::size_t> width(m_headers.size());
  for (std::size_t c = 0; c < m_headers.size(); ++c) width[c] = m_headers[c].size();
  for (const auto& row : m_rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += row[c];
      if (c + 1 < row.size()) out.append(width[c] - std::min(width[c], row[c].size()) + 2, ' ');
    }
    os << out << "\n";
  };
  line(m_headers);
  for (const auto& row : m_rows) line(row);
}

void PolicyFlags::add(CLI::App& app) {
  app.add_option("--filter", filters, "type=image|layer, until=DURATION, ref~=REGEX (repeatable, ANDed)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--older-than,--keep-duration", older_than,
                 "Evict entries unused for longer than DURATION (e.g. 336h, 14d)");
  app.add_option("--max-used-space", max_used_space, "Evict LRU entries until the cache holds at most SIZE (10GiB)");
  app.add_option("--min-free-space", min_free_space, "Evict LRU entries until the file system has SIZE free");
  app.add_option("--keep-last", keep_last, "Keep the N most recently used images of each repository");
  app.add_option("--keep", keep, "Never remove this image reference (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--keep-file", keep_file, "File of image references never to remove, one per line (# comments)");
  app.add_flag("--all", all, "Select every entry (still honouring --keep, --keep-last and leases)");
}

Result<prune::Policy> PolicyFlags::policy() const {
  prune::Policy p;
  for (const auto& f : filters) {
    auto parsed = prune::parse_filter(f);
    if (!parsed) return fail(cli::usage_error("--filter: " + parsed.error().message()));
    p.filters.push_back(std::move(*parsed));
  }
  if (!older_than.empty()) {
    auto d = util::parse_duration(older_than);
    if (!d) return fail(cli::usage_error("--older-than: " + d.error().message()));
    p.older_than = *d;
  }
  if (!max_used_space.empty()) {
    auto s = util::parse_size(max_used_space);
    if (!s) return fail(cli::usage_error("--max-used-space: " + s.error().message()));
    p.max_used_space = *s;
  }
  if (!min_free_space.empty()) {
    auto s = util::parse_size(min_free_space);
    if (!s) return fail(cli::usage_error("--min-free-space: " + s.error().message()));
    p.min_free_space = *s;
  }
  p.keep_last = keep_last;
  p.all = all;
  std::vector<std::string> names = keep;
  if (!keep_file.empty()) {
    std::ifstream in(keep_file);
    if (!in) return fail(cli::usage_error("--keep-file: cannot read " + keep_file));
    std::string line;
    while (std::getline(in, line)) {
      auto hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      auto b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos) continue;
      auto e = line.find_last_not_of(" \t\r");
      names.push_back(line.substr(b, e - b + 1));
    }
  }
  for (const auto& n : names) {
    auto ref = image::Reference::parse(n);
    if (!ref) return fail(cli::usage_error("--keep " + n + ": " + ref.error().message()));
    p.keep.insert(ref->str());
  }
  return p;
}

Result<std::size_t> drop_records_referring(store::WriteSession& session, const std::set<digest::Digest>& digests) {
  auto snapshot = TRY(load_snapshot(session));
  auto graph = prune::CacheGraph::build(snapshot);
  std::set<std::size_t> doomed;
  for (const auto& d : digests) {
    if (auto id = graph.find(d)) {
      for (auto e : graph.holders(*id)) doomed.insert(e);
    }
  }
  for (auto i : doomed) {
    const auto& e = graph.entries()[i];
    if (e.kind == prune::EntryKind::image) {
      const auto& r = snapshot.images[e.record];
      TRY(session.delete_image(r.reference, r.platform));
    } else {
      TRY(session.delete_layer_cache(snapshot.layers[e.record].key));
    }
  }
  for (const auto& d : digests) {
    TRY(session.delete_manifest(d));
    TRY(session.delete_blob(d));
  }
  // Manifest records whose config or layers are gone would name missing blobs too.
  for (const auto& m : snapshot.manifests) {
    bool broken = (m.config && digests.count(*m.config)) ||
                  std::any_of(m.layers.begin(), m.layers.end(), [&](const auto& l) { return digests.count(l) > 0; });
    if (broken) TRY(session.delete_manifest(m.digest));
  }
  return doomed.size();
}

void run_parallel(std::size_t n, int threads, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < n; i = next++) fn(i);
  };
  std::size_t count = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, threads)));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < count; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

Result<BlobRemoval> remove_blobs(const store::CacheDir& cache, const std::vector<digest::Digest>& digests,
                                 const std::vector<std::uint64_t>& sizes) {
  BlobRemoval out;
  if (digests.empty()) return out;
  // Leases published after our plan: their blobs stay (now unreferenced; gc takes them later).
  // The deletion fence keeps new leases out until the last unlink (store/lease.hpp).
  auto fence = TRY(store::lock_deletions(cache.root()));
  auto leases = TRY(cache.active_leases());
  // unlink() is latency-bound (a discard per freed block on some mounts: ~2 ms each, serially
  // 20k blobs took 45 s here); in parallel the latencies overlap (~0.1 ms each with 8 threads).
  std::vector<std::optional<Error>> results(digests.size());
  std::vector<bool> kept(digests.size(), false);
  run_parallel(digests.size(), k_unlink_threads, [&](std::size_t i) {
    if (leases.in_use.digests.count(digests[i])) {
      kept[i] = true;
      return;
    }
    auto r = cache.blobs().remove(digests[i]);
    if (!r) results[i] = r.error();
  });
  std::vector<digest::Digest> gone;
  for (std::size_t i = 0; i < digests.size(); ++i) {
    if (kept[i]) {
      ++out.kept_leased;
      continue;
    }
    if (results[i]) {
      out.errors.push_back(results[i]->message());
      continue;
    }
    ++out.removed;
    out.bytes += i < sizes.size() ? sizes[i] : 0;
    gone.push_back(digests[i]);
  }
  fence.reset();
  // A writer that found one of these blobs present just before we unlinked it may have recorded
  // it since: find such records (cheap point lookups) and drop them, so the index never names a
  // missing blob.
  std::set<digest::Digest> dangling;
  {
    auto view = TRY(cache.index().read());
    for (const auto& d : gone) {
      if (!view.blob(d) && !view.manifest(d)) continue;  // the common case: a lookup in memory
      if (!cache.blobs().has(d)) dangling.insert(d);     // present: re-downloaded meanwhile, consistent
    }
  }
  if (!dangling.empty()) {
    auto session = TRY(cache.index().write());
    std::set<digest::Digest> still;
    for (const auto& d : dangling) {
      if (!cache.blobs().has(d)) still.insert(d);
    }
    out.dangling_dropped = TRY(drop_records_referring(session, still));
    TRY(session.commit());
    log::warn("dropped " + std::to_string(out.dangling_dropped) +
              " entries recorded concurrently with blobs this run removed");
  }
  return out;
}

void write_entry_fields(util::JsonWriter& w, const prune::CacheGraph& graph, const prune::Entry& e) {
  const auto& snap = graph.snapshot();
  w.member("type", prune::to_string(e.kind));
  if (e.kind == prune::EntryKind::image) {
    const auto& r = snap.images[e.record];
    w.member("reference", r.reference);
    w.member("platform", r.platform);
    w.member("digest", r.top_digest().str());
    w.member("manifest", r.manifest.str());
    w.member("size", r.total_size);
    w.member("fetched", rfc3339(r.fetched));
    w.member("last_used", rfc3339(r.last_used));
    w.member("uses", r.use_count);
  } else {
    const auto& r = snap.layers[e.record];
    w.member("key", r.key);
    w.member("step", r.step);
    w.member("platform", r.platform);
    w.member("manifest", r.manifest.str());
    w.member("layer", r.layer.str());
    w.member("diff_id", r.diff_id.str());
    w.member("size", r.size);
    w.member("created", rfc3339(r.created));
    w.member("last_used", rfc3339(r.last_used));
    w.member("hits", r.hits);
  }
}

nlohmann::json entry_json(const prune::CacheGraph& graph, const prune::Entry& e) {
  std::ostringstream out;
  {
    util::JsonWriter w(out, 0);
    w.begin_object();
    write_entry_fields(w, graph, e);
    w.end_object();
  }
  return nlohmann::json::parse(out.str(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace strata::cachectl
