#include "cachectl/sync.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "cache/entry.hpp"
#include "cache/file_source.hpp"
#include "cache/local_store.hpp"
#include "cachectl/remote_repo.hpp"
#include "cachectl/support.hpp"
#include "fetch/store_sink.hpp"
#include "image/media_types.hpp"
#include "store/cache_dir.hpp"
#include "util/log.hpp"

namespace strata::cachectl {
namespace {

struct Endpoint {
  std::string text;
  std::optional<store::CacheDir> cache;          // a cache dir
  std::shared_ptr<store::LeaseSet> lease;        // on the cache dir
  std::optional<image::Reference> repo;          // a registry repository
  std::map<std::string, store::LayerCacheRecord> records;  // destination dir: key → record
  std::set<std::string> tags;                    // destination repo: its tags

  bool is_dir() const { return cache.has_value(); }
  std::string describe() const { return is_dir() ? "cache dir " + cache->root() : repo->name(); }
};

bool looks_like_dir(std::string_view s) {
  return s.starts_with("dir:") || s.starts_with("/") || s.starts_with("./") || s.starts_with("../") || s == ".";
}

Result<Endpoint> open_endpoint(const std::string& text, const store::Clock& clock) {
  Endpoint e;
  e.text = text;
  if (looks_like_dir(text)) {
    std::string path = text.starts_with("dir:") ? text.substr(4) : text;
    if (!std::filesystem::is_directory(path)) return fail(ErrorKind::not_found, "cache dir " + path + " does not exist");
    store::CacheDirOptions o;
    o.clock = clock;
    e.cache = TRY_CTX(store::CacheDir::open(path, o), "cache dir " + path);
    e.lease = std::make_shared<store::LeaseSet>(e.cache->root(), "cachectl sync");
    return e;
  }
  auto repo = parse_repo(text);
  if (!repo) return fail(repo.error());
  e.repo = *repo;
  return e;
}

// Lease first, then check (store/lease.hpp).
Result<void> lease(Endpoint& dir, const RemoteEntry& item) {
  store::LeaseContents c;
  c.digests.insert(item.digest);
  c.digests.insert(item.manifest.config.digest);
  for (const auto& l : item.manifest.layers) c.digests.insert(l.digest);
  if (item.kind == RemoteKind::layer) c.cache_keys.insert(item.key);
  TRY_CTX(dir.lease->add(c), "leasing in " + dir.describe());
  return {};
}

RemoteEntry from_local(const cache::EntryImage& e) {
  RemoteEntry r;
  r.tag = e.config.key;
  r.kind = RemoteKind::layer;
  r.digest = e.manifest_digest;
  r.media_type = std::string(image::media::oci_manifest);
  r.manifest_bytes = e.manifest_bytes;
  r.config_bytes = e.config_bytes;
  if (auto m = image::Manifest::parse(e.manifest_bytes)) r.manifest = *m;
  r.key = e.config.key;
  r.step = e.config.step;
  r.created = e.config.created;
  r.platform = e.config.platform;
  r.size = e.manifest_bytes.size() + static_cast<std::uint64_t>(r.manifest.total_size());
  return r;
}

Result<RemoteListing> list_dir(Endpoint& src) {
  RemoteListing out;
  std::vector<store::LayerCacheRecord> records;
  {
    auto view = TRY(src.cache->index().read());
    records = TRY(view.layer_cache_entries());
  }
  store::LeaseContents c;
  for (const auto& r : records) {
    c.digests.insert(r.manifest);
    c.digests.insert(r.layer);
    c.cache_keys.insert(r.key);
  }
  if (!c.empty()) TRY_CTX(src.lease->add(c), "leasing in " + src.describe());
  cache::LocalLayerStore local(*src.cache);
  for (const auto& r : records) {
    auto e = local.entry_image(r);
    if (!e) {
      out.errors.push_back(r.key + ": " + e.error().message());
      continue;
    }
    out.entries.push_back(from_local(*e));
  }
  return out;
}

class Syncer {
 public:
  Syncer(const SyncOptions& o, Endpoint& src, Endpoint& dst, registry::Client* client, std::string staging)
      : m_o(o), m_src(src), m_dst(dst), m_client(client), m_staging_root(std::move(staging)) {}

  SyncItemReport copy(const RemoteEntry& item) {
    SyncItemReport rep;
    rep.key = item.tag;
    rep.step = item.step;
    rep.digest = item.digest.str();
    rep.size = item.size;
    if (item.kind == RemoteKind::index) return skipped(rep, "an image index: not copied");
    if (m_dst.is_dir() && item.kind != RemoteKind::layer) return skipped(rep, "not a layer-cache entry");
    auto r = copy_entry(item, rep);
    if (!r) {
      rep.status = "failed";
      rep.detail = r.error().message();
    }
    return rep;
  }

 private:
  static SyncItemReport skipped(SyncItemReport rep, std::string why) {
    rep.status = "skipped";
    rep.detail = std::move(why);
    return rep;
  }

  Result<bool> present(const RemoteEntry& item) {
    if (m_dst.is_dir()) {
      auto it = m_dst.records.find(item.key);
      if (it == m_dst.records.end() || it->second.manifest != item.digest) return false;
      const auto& blobs = m_dst.cache->blobs();
      return blobs.has(it->second.manifest) && blobs.has(it->second.layer) && blobs.has(item.manifest.config.digest);
    }
    if (!m_dst.tags.count(item.tag)) return false;
    auto head = m_client->head_manifest(m_dst.repo->with_tag(item.tag));
    if (!head) {
      if (head.error().kind() == ErrorKind::not_found) return false;
      return fail(head.error());
    }
    return head->digest == item.digest;
  }

  Result<bool> has_blob(const image::Descriptor& d) {
    if (m_dst.is_dir()) return m_dst.cache->blobs().has(d.digest);
    auto size = TRY(m_client->blob_size(*m_dst.repo, d.digest, registry::Purpose::push));
    return size.has_value();
  }

  Result<void> copy_entry(const RemoteEntry& item, SyncItemReport& rep) {
    if (m_dst.is_dir()) TRY(lease(m_dst, item));
    if (TRY(present(item))) {
      rep.status = "present";
      return {};
    }
    std::vector<image::Descriptor> blobs;
    if (!m_dst.is_dir()) blobs.push_back(item.manifest.config);  // a cache dir gets it from record()
    blobs.insert(blobs.end(), item.manifest.layers.begin(), item.manifest.layers.end());
    for (const auto& b : blobs) {
      if (!m_o.dry_run) {
        auto claim = claim_blob(b.digest);
        if (!claim.mine) {  // another entry copies (or copied) the same blob: wait for it
          auto done = claim.done.get();
          if (!done) return fail(done.error().with_context("blob " + b.digest.str()));
          ++rep.blobs_present;
          continue;
        }
        auto copied = copy_if_missing(item, b, rep);
        claim.finish.set_value(copied);
        TRY(std::move(copied));
        continue;
      }
      if (TRY(has_blob(b))) {
        ++rep.blobs_present;
        continue;
      }
      ++rep.blobs_copied;
      rep.bytes_copied += static_cast<std::uint64_t>(b.size);
    }
    if (m_o.dry_run) {
      rep.status = "would copy";
      return {};
    }
    if (m_dst.is_dir()) {
      auto entry = TRY(cache::parse_entry_image(item.manifest_bytes, item.config_bytes));
      cache::LocalLayerStore local(*m_dst.cache);
      TRY(local.record(entry));
    } else {
      auto got = TRY(m_client->put_manifest(m_dst.repo->with_tag(item.tag), item.manifest_bytes, item.media_type));
      if (got != item.digest)
        return fail(ErrorKind::corrupt, "the destination stored manifest " + got.str() + ", expected " + item.digest.str());
    }
    rep.status = "copied";
    return {};
  }

  // One copy per blob digest. Entries often share blobs (two steps that produce the same layer), and
  // uploading one blob twice at once into one repository is a race in distribution 2.8: a manifest
  // PUT can then fail with DIGEST_INVALID/MANIFEST_BLOB_UNKNOWN although both uploads succeeded.
  // The first worker to claim a digest copies it; the others wait for its outcome.
  struct BlobClaim {
    bool mine = false;
    std::promise<Result<void>> finish;         // set by the claimant
    std::shared_future<Result<void>> done;     // what the others wait on
  };

  BlobClaim claim_blob(const digest::Digest& d) {
    BlobClaim c;
    std::lock_guard lock(m_mutex);
    auto it = m_blobs.find(d.str());
    if (it != m_blobs.end()) {
      c.done = it->second;
      return c;
    }
    c.mine = true;
    c.done = c.finish.get_future().share();
    m_blobs.emplace(d.str(), c.done);
    return c;
  }

  Result<void> copy_if_missing(const RemoteEntry& item, const image::Descriptor& b, SyncItemReport& rep) {
    if (TRY(has_blob(b))) {
      ++rep.blobs_present;
      return {};
    }
    ++rep.blobs_copied;
    rep.bytes_copied += static_cast<std::uint64_t>(b.size);
    TRY_CTX(copy_blob(item, b), "blob " + b.digest.str());
    return {};
  }

  Result<void> copy_blob(const RemoteEntry& item, const image::Descriptor& b) {
    const auto size = static_cast<std::uint64_t>(b.size);
    if (!m_dst.is_dir() && b.digest == item.manifest.config.digest) {
      registry::BytesBlobSource source(item.config_bytes);
      return m_client->upload_blob(*m_dst.repo, b.digest, source);
    }
    if (m_src.is_dir()) {  // dir → repo
      auto source = TRY(cache::FileSource::open(m_src.cache->blobs().path(b.digest)));
      return m_client->upload_blob(*m_dst.repo, b.digest, *source);
    }
    if (m_dst.is_dir()) {  // repo → dir: straight into the destination, verified
      fetch::StoreSink sink(m_dst.cache->blobs(), {b.digest, size});
      TRY(m_client->fetch_blob(*m_src.repo, b.digest, size, sink));
      TRY(sink.commit());
      return {};
    }
    // repo → repo
    if (m_src.repo->registry() == m_dst.repo->registry()) {
      auto mounted = m_client->mount_blob(*m_dst.repo, b.digest, m_src.repo->repository());
      if (mounted && *mounted) return {};
    }
    const store::BlobStore& staging = *TRY(staging_store());
    fetch::StoreSink sink(staging, {b.digest, size});
    TRY(m_client->fetch_blob(*m_src.repo, b.digest, size, sink));
    TRY(sink.commit());
    auto source = TRY(cache::FileSource::open(staging.path(b.digest)));
    auto up = m_client->upload_blob(*m_dst.repo, b.digest, *source);
    (void)staging.remove(b.digest);
    return up;
  }

  Result<const store::BlobStore*> staging_store() {
    std::lock_guard lock(m_mutex);
    if (!m_staging) {
      std::string tmpl = m_staging_root + "/cachectl-sync-XXXXXX";
      if (!::mkdtemp(tmpl.data())) return fail_errno("creating a staging dir in " + m_staging_root, errno);
      m_staging_dir = tmpl;
      m_staging = TRY(store::BlobStore::open(tmpl));
    }
    return &*m_staging;
  }

 public:
  ~Syncer() {
    if (!m_staging_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(m_staging_dir, ec);
    }
  }

 private:
  const SyncOptions& m_o;
  Endpoint& m_src;
  Endpoint& m_dst;
  registry::Client* m_client;
  std::string m_staging_root;
  std::mutex m_mutex;
  std::map<std::string, std::shared_future<Result<void>>> m_blobs;  // digest → outcome of its one copy
  std::optional<store::BlobStore> m_staging;
  std::string m_staging_dir;
};

}  // namespace

Result<SyncReport> run_sync(const SyncOptions& o, const cli::RegistryFlags& registry) {
  auto clock = o.clock ? o.clock : store::system_clock();
  auto src = TRY(open_endpoint(o.source, clock));
  auto dst = TRY(open_endpoint(o.destination, clock));
  if (src.is_dir() && dst.is_dir())
    return fail(ErrorKind::invalid_argument, "sync between two cache dirs is not supported: go through a cache repo");
  if (!src.is_dir() && !dst.is_dir() && src.repo->name() == dst.repo->name())
    return fail(ErrorKind::invalid_argument, "source and destination are the same repository");
  auto client = TRY(make_client(registry));

  SyncReport report;
  report.source = src.describe();
  report.destination = dst.describe();
  RemoteListing listing = src.is_dir() ? TRY(list_dir(src)) : TRY(list_repo(*client, *src.repo, o.parallel));
  report.errors = listing.errors;
  if (dst.is_dir()) {
    auto view = TRY(dst.cache->index().read());
    for (auto& r : TRY(view.layer_cache_entries())) dst.records.emplace(r.key, std::move(r));
  } else {
    auto tags = client->list_tags(*dst.repo);
    if (tags) dst.tags.insert(tags->begin(), tags->end());
    else if (tags.error().kind() != ErrorKind::not_found) return fail(tags.error().with_context("listing " + dst.describe()));
  }

  auto now = clock();
  std::vector<const RemoteEntry*> items;
  for (const auto& e : listing.entries) {
    if (remote_matches(o.filters, src.is_dir() ? std::string() : src.repo->name(), e, now)) items.push_back(&e);
  }
  std::string staging_root = o.staging_dir;
  if (staging_root.empty()) staging_root = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  Syncer syncer(o, src, dst, client.get(), staging_root);
  report.items.resize(items.size());
  run_parallel(items.size(), o.parallel, [&](std::size_t i) { report.items[i] = syncer.copy(*items[i]); });
  for (const auto& r : report.items) {
    if (r.status == "copied" || r.status == "would copy") ++report.copied;
    else if (r.status == "present") ++report.present;
    else if (r.status == "skipped") ++report.skipped;
    else ++report.failed;
    report.blobs_copied += r.blobs_copied;
    report.blobs_present += r.blobs_present;
    if (r.status != "failed") report.bytes_copied += r.bytes_copied;
  }
  return report;
}

}  // namespace strata::cachectl
