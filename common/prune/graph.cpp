#include "prune/graph.hpp"

#include <algorithm>
#include <cstring>

namespace strata::prune {

std::string_view to_string(EntryKind kind) { return kind == EntryKind::image ? "image" : "layer"; }

std::string CacheGraph::repository_of(const std::string& reference) {
  std::string repo = reference.substr(0, reference.find('@'));
  auto slash = repo.rfind('/');
  auto colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  return repo;
}

namespace {

// A digest's hex is uniformly random: 16 of its characters hash as well as all of them.
std::size_t quick_hash(const digest::Digest& d) {
  const std::string& hex = d.hex();
  if (hex.size() < 16) return std::hash<std::string>()(hex);
  std::uint64_t a, b;
  std::memcpy(&a, hex.data(), 8);
  std::memcpy(&b, hex.data() + 8, 8);
  std::uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull);  // then MurmurHash3's 64-bit finaliser
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

}  // namespace

std::size_t CacheGraph::slot_of(const digest::Digest& d, std::size_t hash) const {
  const std::size_t mask = m_slots.size() - 1;
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = m_slots[i];
    if (s.id_plus_one == 0 || (s.hash == tag && *m_digests[s.id_plus_one - 1] == d)) return i;
  }
}

void CacheGraph::grow() {
  std::vector<Slot> old = std::move(m_slots);
  m_slots.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.id_plus_one == 0) continue;
    const digest::Digest& d = *m_digests[s.id_plus_one - 1];
    m_slots[slot_of(d, quick_hash(d))] = s;
  }
}

BlobId CacheGraph::intern(const digest::Digest& d, std::uint64_t size_hint) {
  if ((m_digests.size() + 1) * 2 > m_slots.size()) grow();  // load factor ≤ 1/2
  const std::size_t hash = quick_hash(d);
  Slot& s = m_slots[slot_of(d, hash)];
  if (s.id_plus_one != 0) {
    BlobId id = s.id_plus_one - 1;
    if (m_sizes[id] == 0) m_sizes[id] = size_hint;
    return id;
  }
  auto id = static_cast<BlobId>(m_digests.size());
  s = Slot{id + 1, static_cast<std::uint32_t>(hash >> 32)};
  m_digests.push_back(&d);
  m_sizes.push_back(size_hint);
  m_refcounts.push_back(0);
  return id;
}

std::optional<BlobId> CacheGraph::find(const digest::Digest& d) const {
  if (m_slots.empty()) return std::nullopt;
  const Slot& s = m_slots[slot_of(d, quick_hash(d))];
  if (s.id_plus_one == 0) return std::nullopt;
  return s.id_plus_one - 1;
}

CacheGraph CacheGraph::build(const Snapshot& snapshot) {
  CacheGraph g;
  g.m_snapshot = &snapshot;
  std::size_t expected = snapshot.blobs.size() + snapshot.manifests.size();
  g.m_digests.reserve(expected);
  while (g.m_slots.size() < expected * 2 + 2) g.grow();
  for (const auto& b : snapshot.blobs) g.intern(b.digest, b.size);
  g.m_manifest_at.reserve(snapshot.manifests.size());
  for (std::size_t i = 0; i < snapshot.manifests.size(); ++i) {
    const auto& m = snapshot.manifests[i];
    g.intern(m.digest, m.size);
    g.m_manifest_at.emplace(m.digest, i);
  }
  for (BlobId id = 0; id < g.m_sizes.size(); ++id) g.m_known_bytes += g.m_sizes[id];

  auto add_manifest_refs = [&](const digest::Digest& manifest, std::vector<BlobId>& out) {
    auto it = g.m_manifest_at.find(manifest);
    if (it == g.m_manifest_at.end()) return;
    const auto& m = snapshot.manifests[it->second];
    if (m.config) out.push_back(g.intern(*m.config, 0));
    for (const auto& l : m.layers) out.push_back(g.intern(l, 0));
  };
  auto finish = [&](Entry& e) {
    std::sort(e.blobs.begin(), e.blobs.end());
    e.blobs.erase(std::unique(e.blobs.begin(), e.blobs.end()), e.blobs.end());
    for (BlobId b : e.blobs) ++g.m_refcounts[b];
    if (e.last_used < e.created) e.last_used = e.created;
    g.m_entries.push_back(std::move(e));
  };

  g.m_entries.reserve(snapshot.images.size() + snapshot.layers.size());
  for (std::size_t i = 0; i < snapshot.images.size(); ++i) {
    const auto& r = snapshot.images[i];
    Entry e;
    e.kind = EntryKind::image;
    e.record = i;
    e.name = r.reference;
    e.repository = repository_of(r.reference);
    e.created = r.fetched;
    e.last_used = r.last_used;
    e.uses = r.use_count;
    e.size = r.total_size;
    if (r.index) e.blobs.push_back(g.intern(*r.index, r.index_size));
    e.blobs.push_back(g.intern(r.manifest, r.manifest_size));
    add_manifest_refs(r.manifest, e.blobs);
    finish(e);
  }
  for (std::size_t i = 0; i < snapshot.layers.size(); ++i) {
    const auto& r = snapshot.layers[i];
    Entry e;
    e.kind = EntryKind::layer;
    e.record = i;
    e.name = r.key;
    e.created = r.created;
    e.last_used = r.last_used;
    e.uses = r.hits;
    e.size = r.size;
    e.blobs.push_back(g.intern(r.manifest, 0));
    e.blobs.push_back(g.intern(r.layer, r.size));
    add_manifest_refs(r.manifest, e.blobs);
    finish(e);
  }
  return g;
}

std::vector<std::size_t> CacheGraph::holders(BlobId id) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    const auto& b = m_entries[i].blobs;
    if (std::binary_search(b.begin(), b.end(), id)) out.push_back(i);
  }
  return out;
}

std::set<digest::Digest> CacheGraph::closure(const std::set<digest::Digest>& digests) const {
  std::set<digest::Digest> out;
  std::vector<digest::Digest> todo(digests.begin(), digests.end());
  while (!todo.empty()) {
    digest::Digest d = std::move(todo.back());
    todo.pop_back();
    if (!out.insert(d).second) continue;
    auto it = m_manifest_at.find(d);
    if (it == m_manifest_at.end()) continue;
    for (auto& r : m_snapshot->manifests[it->second].references()) todo.push_back(std::move(r));
  }
  return out;
}

}  // namespace strata::prune
