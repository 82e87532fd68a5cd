#include "cache/layer_cache.hpp"

#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cache {

namespace {

class Stopwatch {
 public:
  explicit Stopwatch(std::chrono::milliseconds& total) : m_total(total), m_start(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    m_total += std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_start);
  }

 private:
  std::chrono::milliseconds& m_total;
  std::chrono::steady_clock::time_point m_start;
};

std::string age_text(std::chrono::milliseconds age, std::chrono::milliseconds ttl) {
  return "age " + util::human_duration(age) + " > ttl " + util::human_duration(ttl);
}

}  // namespace

LayerCache::LayerCache(CacheOptions options, const store::CacheDir* local, std::unique_ptr<CacheRepo> repo,
                       const store::BlobStore* fallback, store::Clock clock)
    : m_options(std::move(options)),
      m_local(local),
      m_repo(std::move(repo)),
      m_fallback(fallback),
      m_clock(std::move(clock)) {
  if (m_local) m_local_store.emplace(*m_local);
  m_report.enabled = enabled();
  m_report.ttl = m_options.ttl;
  if (m_repo) m_report.repo = m_repo->describe();
  if (m_local) m_report.local = m_local->root();
  if (enabled() && m_repo && m_options.push) m_pushes = std::make_unique<PushQueue>(m_options.push_workers);
}

LayerCache::~LayerCache() {
  if (!m_finished) finish();
}

void LayerCache::lease_key(const std::string& key) {
  if (!m_local || m_lease_failed) return;
  if (!m_lease) m_lease = std::make_shared<store::LeaseSet>(m_local->root(), "executor (layer cache)");
  store::LeaseContents more;
  more.cache_keys.insert(key);
  if (auto r = m_lease->add(more); !r) {
    // Without a lease a concurrent prune may remove an entry mid-build; at worst that fails the
    // extraction of its layer, so the build goes on (and says so once).
    m_lease_failed = true;
    log::warn("layer cache: cannot take a lease in " + m_local->root() + ": " + r.error().message());
  }
}

bool LayerCache::caches(StepKind kind) const {
  if (!enabled()) return false;
  switch (kind) {
    case StepKind::run: return m_options.run_layers;
    case StepKind::copy:
    case StepKind::add: return m_options.copy_layers;
    case StepKind::metadata: return false;
  }
  return false;
}

StepRecord& LayerCache::record_for(const std::string& key) {
  for (auto it = m_report.steps.rbegin(); it != m_report.steps.rend(); ++it) {
    if (it->key == key) return *it;
  }
  auto& rec = m_report.steps.emplace_back();
  rec.key = key;
  rec.reason = "not looked up";  // store() without lookup(): the step ran unconditionally
  return rec;
}

void LayerCache::reject(const StepKey& key, std::string reason) {
  std::lock_guard lock(m_mutex);
  auto& rec = record_for(key.key);
  rec.result = StepResult::miss;
  rec.source.clear();
  rec.bytes = 0;
  rec.reason = std::move(reason);
  log::info("layer cache entry for " + key.display + " not used: " + rec.reason, {{"key", key.key}});
}

void LayerCache::skip(const StepKey& key, std::size_t stage, std::size_t index, std::string reason) {
  std::lock_guard lock(m_mutex);
  auto& rec = m_report.steps.emplace_back();
  rec.stage = stage;
  rec.index = index;
  rec.step = key.display;
  rec.kind = key.kind;
  rec.key = key.key;
  rec.result = StepResult::skipped;
  rec.reason = std::move(reason);
}

std::optional<CacheHit> LayerCache::lookup(const StepKey& key, std::size_t stage, std::size_t index) {
  std::lock_guard lock(m_mutex);
  Stopwatch watch(m_report.time);
  auto& rec = m_report.steps.emplace_back();
  rec.stage = stage;
  rec.index = index;
  rec.step = key.display;
  rec.kind = key.kind;
  rec.key = key.key;
  if (!caches(key.kind)) {
    rec.result = StepResult::skipped;
    rec.reason = enabled() ? "caching of " + std::string(to_string(key.kind)) + " layers is off" : "cache off";
    return std::nullopt;
  }
  rec.result = StepResult::miss;
  lease_key(key.key);
  std::vector<std::string> reasons;
  if (m_local_store) {
    auto found = m_local_store->lookup(key.key, m_options.ttl);
    if (!found) {
      log::warn("layer cache: local lookup failed: " + found.error().message());
      reasons.push_back("local lookup failed: " + found.error().message());
    } else if (found->status == LocalStatus::hit) {
      rec.result = StepResult::hit;
      rec.source = "local";
      rec.bytes = static_cast<std::uint64_t>(found->layer.descriptor.size);
      log::info("layer cache hit (local) for " + key.display, {{"key", key.key}});
      return CacheHit{found->layer, "local"};
    } else if (found->status == LocalStatus::expired) {
      reasons.push_back("expired locally (" + age_text(found->age, m_options.ttl) + ")");
    } else if (found->status == LocalStatus::incomplete) {
      reasons.push_back("local entry incomplete (blobs pruned)");
    }
  }
  if (m_repo) {
    if (auto hit = lookup_remote(key, rec)) return hit;
    if (!rec.reason.empty()) reasons.push_back(rec.reason);
  }
  rec.reason.clear();
  for (const auto& r : reasons) rec.reason += (rec.reason.empty() ? "" : "; ") + r;
  if (rec.reason.empty()) rec.reason = "not present";
  explain_miss(key, rec);
  log::info("layer cache miss for " + key.display + ": " + rec.reason, {{"key", key.key}});
  return std::nullopt;
}

std::optional<CacheHit> LayerCache::lookup_remote(const StepKey& key, StepRecord& rec) {
  rec.reason.clear();
  auto found = m_repo->find(key.key);
  if (!found) {
    log::warn("layer cache: lookup in " + m_repo->describe() + " failed: " + found.error().message());
    rec.reason = "lookup in cache repo failed: " + found.error().message();
    return std::nullopt;
  }
  if (!*found) return std::nullopt;
  auto& entry = **found;
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock() - entry.config.created);
  if (age > m_options.ttl) {
    rec.reason = "expired in cache repo (" + age_text(age, m_options.ttl) + ")";
    return std::nullopt;
  }
  const store::BlobStore* target = m_local ? &m_local->blobs() : m_fallback;
  if (!target) {
    rec.reason = "found in cache repo but there is no store to fetch it into";
    return std::nullopt;
  }
  bool had = target->has(entry.layer.digest);
  if (auto r = m_repo->fetch_layer(entry, *target); !r) {
    log::warn("layer cache: fetching " + key.key + " from " + m_repo->describe() + " failed: " + r.error().message());
    rec.reason = "fetch from cache repo failed: " + r.error().message();
    return std::nullopt;
  }
  if (m_local_store) {
    // Recording is best effort: the layer is in the store and usable either way.
    if (auto r = m_local_store->record(entry); !r)
      log::warn("layer cache: recording " + key.key + " in the cache dir failed: " + r.error().message());
  }
  CacheHit hit;
  hit.source = "remote";
  hit.layer.descriptor = entry.layer;
  hit.layer.diff_id = entry.config.diff_id;
  hit.layer.path = target->path(entry.layer.digest);
  rec.result = StepResult::hit;
  rec.source = "remote";
  rec.reason.clear();
  rec.bytes = static_cast<std::uint64_t>(entry.layer.size);
  if (!had) m_report.bytes_downloaded += static_cast<std::uint64_t>(entry.layer.size);
  log::info("layer cache hit (" + m_repo->describe() + ") for " + key.display, {{"key", key.key}});
  return hit;
}

void LayerCache::explain_miss(const StepKey& key, StepRecord& rec) {
  if (!m_local_store) return;
  auto previous = m_local_store->entries_for_step(key.display, key.platform, 1);
  if (!previous || previous->empty()) return;
  const auto& nearest = previous->front();
  if (nearest.key == key.key) return;  // same key: the miss was expiry or incompleteness
  rec.differs = differing_inputs(key.inputs, nearest.inputs);
}

void LayerCache::store(const StepKey& key, const LayerFile& layer) {
  std::lock_guard lock(m_mutex);
  Stopwatch watch(m_report.time);
  auto& rec = record_for(key.key);
  if (rec.step.empty()) {
    rec.step = key.display;
    rec.kind = key.kind;
  }
  if (!caches(key.kind)) return;
  auto entry = std::make_shared<EntryImage>(make_entry_image(key, layer.descriptor, layer.diff_id, m_clock()));
  std::string push_path = layer.path;
  if (m_local_store) {
    auto stored = m_local_store->put(*entry, layer.path);
    if (stored) {
      rec.stored = "local";
      push_path = m_local->blobs().path(entry->layer.digest);
    } else {
      rec.stored = "failed: " + stored.error().message();
      log::warn("layer cache: storing " + key.key + " in the cache dir failed: " + stored.error().message());
    }
  }
  if (!m_repo) return;
  if (!m_pushes) {
    rec.push = "off";
    return;
  }
  rec.push = "queued";
  CacheRepo* repo = m_repo.get();
  m_pushes->enqueue(key.key, [repo, entry, push_path]() { return repo->push(*entry, push_path); });
}

CacheReport LayerCache::finish() {
  if (m_pushes) {
    auto start = std::chrono::steady_clock::now();
    auto outcomes = m_pushes->drain();
    std::lock_guard lock(m_mutex);
    m_report.time += std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    for (const auto& o : outcomes) {
      auto& rec = record_for(o.label);
      if (o.error) {
        rec.push = "failed";
        rec.push_error = o.error->message();
        m_report.push_failures.push_back({o.label, o.error->message()});
        log::warn("layer cache: push of " + o.label + " failed: " + o.error->message());
      } else {
        rec.push = "ok";
        ++m_report.pushed;
      }
    }
  }
  m_finished = true;
  std::lock_guard lock(m_mutex);
  return m_report;
}

}  // namespace strata::cache
