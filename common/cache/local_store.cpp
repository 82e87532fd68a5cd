#include "cache/local_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "image/media_types.hpp"
#include "util/fd.hpp"

namespace strata::cache {

std::string_view to_string(LocalStatus status) {
  switch (status) {
    case LocalStatus::hit: return "hit";
    case LocalStatus::absent: return "absent";
    case LocalStatus::expired: return "expired";
    case LocalStatus::incomplete: return "incomplete";
  }
  return "absent";
}

Result<LocalLookup> LocalLayerStore::lookup(std::string_view key, std::chrono::milliseconds ttl,
                                            Refresh refresh) const {
  LocalLookup out;
  {
    auto session = TRY(m_dir.index().read());
    auto rec = session.layer_cache(key);
    if (!rec) {
      if (rec.error().kind() == ErrorKind::not_found) return out;
      return fail(rec.error());
    }
    out.record = std::move(*rec);
  }
  const auto& r = *out.record;
  auto now = m_dir.blobs().now();
  auto last = std::max(r.last_used, r.created);
  out.age = std::chrono::duration_cast<std::chrono::milliseconds>(now - last);
  if (out.age > ttl) {
    out.status = LocalStatus::expired;
    return out;
  }
  const auto& blobs = m_dir.blobs();
  if (!blobs.has(r.layer) || !blobs.has(r.manifest)) {
    out.status = LocalStatus::incomplete;
    return out;
  }
  auto manifest = entry_image(r);
  if (!manifest) {
    out.status = LocalStatus::incomplete;
    return out;
  }
  out.layer.descriptor = manifest->layer;
  out.layer.diff_id = r.diff_id;
  out.layer.path = blobs.path(r.layer);
  out.status = LocalStatus::hit;
  if (refresh == Refresh::yes) {
    auto session = TRY(m_dir.index().write());
    TRY(session.hit_layer_cache(key));
    TRY(session.commit());
  }
  return out;
}

Result<store::LayerCacheRecord> LocalLayerStore::put(const EntryImage& entry, const std::string& layer_path) const {
  const auto& blobs = m_dir.blobs();
  if (!blobs.has(entry.layer.digest)) {
    util::Fd fd(::open(layer_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("open layer " + layer_path, errno);
    store::BlobExpectation expect{entry.layer.digest, static_cast<std::uint64_t>(entry.layer.size)};
    auto writer = TRY(blobs.writer(expect));
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("read layer " + layer_path, errno);
      if (n == 0) break;
      TRY(writer.write(buf.data(), static_cast<std::size_t>(n)));
    }
    TRY_CTX(writer.commit(), "layer cache: store layer " + entry.layer.digest.str());
  }
  return record(entry);
}

Result<store::LayerCacheRecord> LocalLayerStore::record(const EntryImage& entry) const {
  const auto& blobs = m_dir.blobs();
  if (!blobs.has(entry.layer.digest))
    return fail(ErrorKind::not_found, "layer cache: layer " + entry.layer.digest.str() + " is not in " + blobs.root());
  TRY(blobs.put(entry.config_bytes, {entry.config_digest, entry.config_bytes.size()}));
  TRY(blobs.put(entry.manifest_bytes, {entry.manifest_digest, entry.manifest_bytes.size()}));

  auto now = blobs.now();
  store::LayerCacheRecord r;
  r.key = entry.config.key;
  r.manifest = entry.manifest_digest;
  r.layer = entry.layer.digest;
  r.diff_id = entry.config.diff_id;
  r.step = entry.config.step;
  r.platform = entry.config.platform;
  // A fetched entry keeps its creation time, so the TTL (from last use) starts now locally.
  r.created = entry.config.created;
  r.last_used = now;
  r.size = static_cast<std::uint64_t>(entry.layer.size);

  auto blob_record = [&](const digest::Digest& d, std::uint64_t size, std::string media_type) {
    store::BlobRecord b;
    b.digest = d;
    b.size = size;
    b.media_type = std::move(media_type);
    b.added = now;
    b.last_used = now;
    return b;
  };
  store::ManifestRecord m;
  m.kind = store::ManifestKind::image;
  m.digest = entry.manifest_digest;
  m.media_type = std::string(image::media::oci_manifest);
  m.size = entry.manifest_bytes.size();
  m.config = entry.config_digest;
  m.layers = {entry.layer.digest};
  m.platform = entry.config.platform;
  m.added = now;

  auto session = TRY(m_dir.index().write());
  // Keep counters of an entry recorded again (another builder stored the same key).
  if (auto old = session.layer_cache(r.key)) r.hits = old->hits;
  TRY(session.put_blob(blob_record(entry.layer.digest, r.size, entry.layer.media_type)));
  TRY(session.put_blob(blob_record(entry.config_digest, entry.config_bytes.size(), std::string(k_entry_config_media_type))));
  TRY(session.put_blob(blob_record(entry.manifest_digest, entry.manifest_bytes.size(), m.media_type)));
  TRY(session.put_manifest(m));
  TRY(session.put_layer_cache(r));
  TRY(session.commit());
  return r;
}

Result<EntryImage> LocalLayerStore::entry_image(const store::LayerCacheRecord& record) const {
  auto manifest = TRY(m_dir.blobs().read(record.manifest));
  auto parsed = image::Manifest::parse(manifest);
  if (!parsed) return fail(parsed.error().with_context("layer cache entry " + record.key));
  auto config = TRY(m_dir.blobs().read(parsed->config.digest));
  return parse_entry_image(std::move(manifest), std::move(config));
}

Result<std::vector<EntryConfig>> LocalLayerStore::entries_for_step(std::string_view step, std::string_view platform,
                                                                   std::size_t limit) const {
  std::vector<store::LayerCacheRecord> matching;
  {
    auto session = TRY(m_dir.index().read());
    for (auto& r : TRY(session.layer_cache_entries())) {
      if (r.step == step && r.platform == platform) matching.push_back(std::move(r));
    }
  }
  std::sort(matching.begin(), matching.end(), [](const auto& a, const auto& b) { return a.last_used > b.last_used; });
  std::vector<EntryConfig> out;
  for (const auto& r : matching) {
    if (out.size() >= limit) break;
    auto e = entry_image(r);
    if (e) out.push_back(std::move(e->config));
  }
  return out;
}

}  // namespace strata::cache
