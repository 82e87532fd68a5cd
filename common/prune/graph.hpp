// CacheGraph: the reference graph of a cache index, as prune, gc, du and inspect see it.
//
// The "entries" of a cache are what users name and what policies evict: image records (one per
// reference and platform) and layer-cache records. Each entry holds a set of blobs:
//   image record  → its index (when resolved through one), its manifest, and the manifest's
//                   config and layers (from the ManifestRecord);
//   layer entry   → its manifest and layer, and that manifest's config and layers.
// A blob is shared when more than one entry holds it, unique when exactly one does, and
// unreferenced when none does (gc's business). Sizes come from the blob records (else the
// manifest records, else the entry's own figures), so building the graph never touches disk.
//
// Blobs are numbered (BlobId) so that the per-blob state a policy keeps (reference counts) is a
// flat vector: a graph of 100k entries is built and walked in well under a second.
//
// Thread safety: immutable after build(); share freely.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "digest/digest.hpp"
#include "store/clock.hpp"
#include "store/records.hpp"

namespace strata::prune {

// Everything the index holds, read in one session.
struct Snapshot {
  std::vector<store::ImageRecord> images;
  std::vector<store::LayerCacheRecord> layers;
  std::vector<store::ManifestRecord> manifests;
  std::vector<store::BlobRecord> blobs;
};

enum class EntryKind { image, layer };
std::string_view to_string(EntryKind kind);

using BlobId = std::uint32_t;

struct Entry {
  EntryKind kind = EntryKind::image;
  std::size_t record = 0;    // index into Snapshot::images or Snapshot::layers
  std::string name;          // image: the reference; layer: the cache key
  std::string repository;    // image: reference without tag/digest; layer: ""
  store::TimePoint created{};    // fetched / created
  store::TimePoint last_used{};  // never earlier than created
  std::uint64_t uses = 0;
  std::uint64_t size = 0;    // the record's own size figure
  std::vector<BlobId> blobs;  // distinct
};

class CacheGraph {
 public:
  // Keeps a reference to snapshot, which must outlive the graph.
  static CacheGraph build(const Snapshot& snapshot);

  const Snapshot& snapshot() const { return *m_snapshot; }
  const std::vector<Entry>& entries() const { return m_entries; }
  std::size_t blob_count() const { return m_digests.size(); }
  const digest::Digest& digest(BlobId id) const { return *m_digests[id]; }
  std::uint64_t size(BlobId id) const { return m_sizes[id]; }
  std::optional<BlobId> find(const digest::Digest& d) const;
  // How many entries hold each blob (indexed by BlobId).
  const std::vector<std::uint32_t>& refcounts() const { return m_refcounts; }
  // Entries holding a blob.
  std::vector<std::size_t> holders(BlobId id) const;
  // Sum of the sizes of every blob the index knows.
  std::uint64_t known_bytes() const { return m_known_bytes; }

  // The digests plus everything they reference through manifest records (index → children →
  // config/layers), for leases that name only a top digest.
  std::set<digest::Digest> closure(const std::set<digest::Digest>& digests) const;

  // "docker.io/library/busybox:latest@sha256:.." → "docker.io/library/busybox".
  static std::string repository_of(const std::string& reference);

 private:
  BlobId intern(const digest::Digest& d, std::uint64_t size_hint);  // d must live in the snapshot
  std::size_t slot_of(const digest::Digest& d, std::size_t hash) const;  // its slot, or the empty one to use
  void grow();


  const Snapshot* m_snapshot = nullptr;
  std::vector<Entry> m_entries;
  std::vector<const digest::Digest*> m_digests;  // into the snapshot's records
  std::vector<std::uint64_t> m_sizes;
  std::vector<std::uint32_t> m_refcounts;
  // digest → BlobId: open addressing over m_digests (no allocation per digest; a graph of 100k
  // entries interns half a million digests). A slot holds BlobId + 1 (0 = empty) and 32 bits of
  // the hash, compared before the digest itself so that a probe rarely leaves the table.
  struct Slot {
    BlobId id_plus_one = 0;
    std::uint32_t hash = 0;
  };
  std::vector<Slot> m_slots;
  std::unordered_map<digest::Digest, std::size_t> m_manifest_at;  // digest → Snapshot::manifests index  // digest → Snapshot::manifests index
  std::uint64_t m_known_bytes = 0;
};

}  // namespace strata::prune
