#include "fetch/image_fetcher.hpp"

#include <atomic>
#include <deque>
#include <thread>

#include "fetch/store_sink.hpp"
#include "image/index.hpp"
#include "image/manifest_any.hpp"
#include "util/log.hpp"
#include "util/progress.hpp"
#include "util/units.hpp"

namespace strata::fetch {
namespace {

bool is_not_found(const Error& e) { return e.kind() == ErrorKind::not_found; }

std::string platform_key(const image::Platform& p) { return p.normalized().str(); }

store::BlobRecord blob_record(const store::IndexView& view, const digest::Digest& d, std::uint64_t size,
                              std::string media_type, store::TimePoint now) {
  auto existing = view.blob(d);
  store::BlobRecord r;
  if (existing) r = *existing;
  else {
    r.digest = d;
    r.added = now;
  }
  r.size = size;
  if (!media_type.empty()) r.media_type = std::move(media_type);
  return r;
}

Result<void> add_held(const store::IndexView& view, const store::ImageRecord& record, std::vector<digest::Digest>& out) {
  if (record.index) out.push_back(*record.index);
  out.push_back(record.manifest);
  auto m = view.manifest(record.manifest);
  if (!m) {
    if (is_not_found(m.error())) return {};  // incomplete: load_complete will say so
    return fail(m.error());
  }
  for (auto& d : m->references()) out.push_back(std::move(d));
  return {};
}

std::vector<digest::Digest> image_digests(const image::Manifest& manifest, const registry::ManifestResponse& m,
                                          const std::optional<registry::ManifestResponse>& index) {
  std::vector<digest::Digest> out{m.digest, manifest.config.digest};
  if (index) out.push_back(index->digest);
  for (const auto& l : manifest.layers) out.push_back(l.digest);
  return out;
}

}  // namespace

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::cached: return "cached";
    case Outcome::up_to_date: return "up to date";
    case Outcome::refreshed: return "refreshed";
    case Outcome::fetched: return "fetched";
  }
  return "";
}

ImageFetcher::ImageFetcher(registry::Client* client, const store::BlobStore& blobs, const store::Index& index,
                           FetchOptions options)
    : m_client(client), m_blobs(blobs), m_index(index), m_options(std::move(options)) {
  if (m_options.parallel_downloads < 1) m_options.parallel_downloads = 1;
  if (!m_options.lease) m_options.lease = std::make_shared<store::LeaseSet>(m_blobs.root(), m_options.tool);
}

void ImageFetcher::lease(const std::vector<digest::Digest>& digests) {
  store::LeaseContents c;
  c.digests.insert(digests.begin(), digests.end());
  auto r = m_options.lease->add(c);
  if (!r) {
    std::call_once(m_lease_warning, [&] {
      log::warn("cannot lease images in cache dir " + m_blobs.root() +
                    "; a concurrent `cachectl prune` may delete them while in use",
                {{"error", r.error().message()}});
    });
  }
}

Result<std::optional<store::ImageRecord>> ImageFetcher::find_record(const image::Reference& ref,
                                                                    std::vector<digest::Digest>* held) const {
  auto session = m_index.read();
  if (!session) {
    if (is_not_found(session.error())) return std::nullopt;
    return fail(session.error());
  }
  std::string platform = platform_key(m_options.platform);
  if (!ref.digest()) {
    auto record = session->image(ref.str(), platform);
    if (!record) {
      if (is_not_found(record.error())) return std::nullopt;
      return fail(record.error());
    }
    if (held) TRY(add_held(*session, *record, *held));
    return std::optional<store::ImageRecord>(*record);
  }
  // Pinned: any record of the same repository whose manifest or index has that digest.
  auto records = TRY(session->images());
  std::optional<store::ImageRecord> best;
  for (auto& r : records) {
    if (r.platform != platform) continue;
    if (r.manifest != *ref.digest() && r.top_digest() != *ref.digest()) continue;
    auto parsed = image::Reference::parse(r.reference);
    if (!parsed || parsed->name() != ref.name()) continue;
    if (!best || r.fetched > best->fetched) best = r;
  }
  if (best && held) TRY(add_held(*session, *best, *held));
  return best;
}

Result<std::optional<CachedImage>> ImageFetcher::load_complete(const image::Reference& ref,
                                                               const store::ImageRecord& record) const {
  auto bytes = m_blobs.read(record.manifest);
  if (!bytes) {
    if (is_not_found(bytes.error())) return std::nullopt;
    return fail(bytes.error());
  }
  auto manifest = image::Manifest::parse(*bytes, record.manifest_media_type);
  if (!manifest) return std::nullopt;  // a damaged record is refetched, never trusted
  for (const auto& layer : manifest->layers) {
    if (!m_blobs.has(layer.digest)) return std::nullopt;
  }
  auto config = m_blobs.read(manifest->config.digest, 64u << 20);
  if (!config) {
    if (is_not_found(config.error())) return std::nullopt;
    return fail(config.error());
  }
  CachedImage image;
  image.reference = ref;
  image.record = record;
  image.manifest = std::move(*manifest);
  image.config_bytes = std::move(*config);
  return std::optional<CachedImage>(std::move(image));
}

Result<std::optional<CachedImage>> ImageFetcher::lookup(const image::Reference& ref) {
  std::vector<digest::Digest> held;
  auto record = TRY(find_record(ref, &held));
  if (!record) return std::nullopt;
  if (!ref.digest()) {
    auto now = m_index.options().clock();
    if (now - record->fetched >= m_options.ttl) return std::nullopt;
  }
  lease(held);  // before load_complete checks presence (store/lease.hpp)
  auto image = TRY(load_complete(ref, *record));
  if (!image) return std::nullopt;
  if (m_options.record_use) {
    auto session = TRY(m_index.write());
    (void)session.touch_image(record->reference, record->platform);
    TRY(session.add_stat(m_options.tool, "hits", 1));
    TRY(session.add_stat(m_options.tool, "bytes_served", record->total_size));
    TRY(session.commit());
  }
  image->outcome = Outcome::cached;
  return image;
}

Result<CachedImage> ImageFetcher::fetch(const image::Reference& ref) {
  Outcome outcome = Outcome::fetched;
  std::vector<digest::Digest> held;
  auto record = TRY(find_record(ref, &held));
  if (record && !m_options.force) {
    lease(held);  // before load_complete checks presence (store/lease.hpp)
    auto complete = TRY(load_complete(ref, *record));
    if (complete && ref.digest()) {
      complete->outcome = Outcome::cached;
      log::debug("cached, pinned by digest: " + ref.str());
      return std::move(*complete);
    }
    auto now = m_index.options().clock();
    bool fresh = now - record->fetched < m_options.ttl;
    if (complete && fresh) {
      if (!m_client) return fail(ErrorKind::not_found, ref.str() + ": not cached and no registry access");
      auto head = m_client->head_manifest(ref);
      if (head && head->digest == record->top_digest()) {
        complete->outcome = Outcome::up_to_date;
        return std::move(*complete);
      }
      if (!head) {
        if (head.error().kind() == ErrorKind::network || head.error().kind() == ErrorKind::timeout) {
          log::warn(ref.str() + ": registry unreachable, keeping the cached copy: " + head.error().message());
          complete->outcome = Outcome::up_to_date;
          return std::move(*complete);
        }
        return fail(head.error());
      }
      log::info(ref.str() + ": tag moved from " + record->top_digest().str() + " to " + head->digest.str());
    } else if (record) {
      outcome = Outcome::refreshed;
    }
  } else if (record) {
    outcome = Outcome::refreshed;
  }
  if (!m_client) return fail(ErrorKind::not_found, ref.str() + ": not cached and no registry access");
  return fetch_from_registry(ref, outcome);
}

Result<CachedImage> ImageFetcher::fetch_from_registry(const image::Reference& ref, Outcome outcome) {
  CachedImage result;
  result.reference = ref;
  result.outcome = outcome;

  auto top = TRY(m_client->get_manifest(ref));
  auto parsed = TRY_CTX(image::parse_manifest_any(top.bytes, top.media_type), ref.str());
  std::optional<registry::ManifestResponse> index_response;
  registry::ManifestResponse manifest_response;
  if (parsed.is_index()) {
    auto chosen = TRY_CTX(image::select_platform(*parsed.index(), m_options.platform), ref.str());
    index_response = std::move(top);
    manifest_response = TRY(m_client->get_manifest(ref.with_digest(chosen.digest)));
    auto child = TRY_CTX(image::parse_manifest_any(manifest_response.bytes, manifest_response.media_type),
                         ref.str() + " (" + chosen.digest.str() + ")");
    if (child.is_index()) return fail(ErrorKind::unsupported, ref.str() + ": nested image indexes are not supported");
    result.manifest = *child.manifest();
  } else {
    manifest_response = std::move(top);
    result.manifest = *parsed.manifest();
  }
  if (!result.manifest.is_image()) {
    return fail(ErrorKind::unsupported, ref.str() + ": not a container image (artifact type '" +
                                            result.manifest.config.media_type + "')");
  }

  // Leased before download_blobs skips the blobs it finds present.
  lease(image_digests(result.manifest, manifest_response, index_response));

  // Config first (small, tells us nothing we need before layers, but a bad one fails fast),
  // then the layers in parallel.
  std::vector<image::Descriptor> blobs{result.manifest.config};
  blobs.insert(blobs.end(), result.manifest.layers.begin(), result.manifest.layers.end());
  TRY(download_blobs(ref, blobs, result));
  result.config_bytes = TRY(m_blobs.read(result.manifest.config.digest, 64u << 20));

  // Manifests are blobs too (the OCI layout needs them); verified by digest on the way in.
  TRY(m_blobs.put(manifest_response.bytes, {manifest_response.digest, manifest_response.bytes.size()}));
  if (index_response) TRY(m_blobs.put(index_response->bytes, {index_response->digest, index_response->bytes.size()}));

  auto session = TRY(m_index.write());
  auto now = session.now();
  std::uint64_t total = manifest_response.bytes.size();
  for (const auto& b : blobs) {
    TRY(session.put_blob(blob_record(session, b.digest, static_cast<std::uint64_t>(b.size), b.media_type, now)));
    total += static_cast<std::uint64_t>(b.size);
  }
  TRY(session.put_blob(blob_record(session, manifest_response.digest, manifest_response.bytes.size(),
                                   manifest_response.media_type, now)));
  store::ManifestRecord mrec;
  mrec.kind = store::ManifestKind::image;
  mrec.digest = manifest_response.digest;
  mrec.media_type = manifest_response.media_type;
  mrec.size = manifest_response.bytes.size();
  mrec.config = result.manifest.config.digest;
  for (const auto& l : result.manifest.layers) mrec.layers.push_back(l.digest);
  mrec.platform = platform_key(m_options.platform);
  mrec.added = now;
  TRY(session.put_manifest(mrec));

  store::ImageRecord irec;
  irec.reference = ref.str();
  irec.platform = platform_key(m_options.platform);
  irec.manifest = manifest_response.digest;
  irec.manifest_media_type = manifest_response.media_type;
  irec.manifest_size = manifest_response.bytes.size();
  if (index_response) {
    TRY(session.put_blob(blob_record(session, index_response->digest, index_response->bytes.size(),
                                     index_response->media_type, now)));
    store::ManifestRecord xrec;
    xrec.kind = store::ManifestKind::index;
    xrec.digest = index_response->digest;
    xrec.media_type = index_response->media_type;
    xrec.size = index_response->bytes.size();
    for (const auto& m : parsed.index()->manifests) xrec.manifests.push_back(m.digest);
    xrec.added = now;
    TRY(session.put_manifest(xrec));
    irec.index = index_response->digest;
    irec.index_media_type = index_response->media_type;
    irec.index_size = index_response->bytes.size();
    total += index_response->bytes.size();
  }
  auto previous = session.image(irec.reference, irec.platform);
  if (previous) {
    irec.last_used = previous->last_used;
    irec.use_count = previous->use_count;
  }
  irec.fetched = now;
  irec.total_size = total;
  if (m_options.record_use) {
    irec.last_used = now;
    irec.use_count += 1;
  }
  TRY(session.put_image(irec));
  TRY(session.add_stat(m_options.tool, "misses", 1));
  TRY(session.add_stat(m_options.tool, "bytes_fetched", result.bytes_downloaded));
  TRY(session.commit());
  result.record = irec;
  return result;
}

Result<void> ImageFetcher::download_blobs(const image::Reference& ref, const std::vector<image::Descriptor>& blobs,
                                          CachedImage& result) {
  std::vector<image::Descriptor> missing;
  for (const auto& b : blobs) {
    if (m_blobs.has(b.digest)) ++result.blobs_reused;
    else missing.push_back(b);
  }
  if (missing.empty()) return {};

  std::uint64_t total = 0;
  for (const auto& b : missing) total += static_cast<std::uint64_t>(b.size);
  std::optional<util::Progress> progress;
  if (m_options.show_progress) progress.emplace(ref.familiar() + ": downloading " + std::to_string(missing.size()) + " blobs", total);

  std::mutex mutex;
  std::deque<image::Descriptor> queue(missing.begin(), missing.end());
  std::optional<Error> first_error;
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<int> downloaded{0};
  auto worker = [&] {
    for (;;) {
      image::Descriptor next;
      {
        std::lock_guard lock(mutex);
        if (queue.empty() || first_error) return;
        next = queue.front();
        queue.pop_front();
      }
      std::uint64_t got = 0;
      auto r = [&]() -> Result<void> {
        std::shared_ptr<InFlight> flight;
        bool owner = false;
        {
          std::unique_lock lock(m_mutex);
          auto it = m_in_flight.find(next.digest);
          if (it == m_in_flight.end()) {
            flight = std::make_shared<InFlight>();
            m_in_flight.emplace(next.digest, flight);
            owner = true;
          } else {
            flight = it->second;
            m_cv.wait(lock, [&] { return flight->done; });
            if (flight->error) return fail(*flight->error);
            return {};
          }
        }
        Result<void> outcome = m_blobs.has(next.digest) ? Result<void>{} : download_one(ref, next, got, progress ? &*progress : nullptr);
        std::lock_guard lock(m_mutex);
        flight->done = true;
        if (!outcome) flight->error = outcome.error();
        if (owner) m_in_flight.erase(next.digest);
        m_cv.notify_all();
        return outcome;
      }();
      std::lock_guard lock(mutex);
      if (!r && !first_error) first_error = r.error();
      if (r && got > 0) {
        bytes += got;
        ++downloaded;
      }
    }
  };
  int n = std::min<int>(m_options.parallel_downloads, static_cast<int>(missing.size()));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (progress) progress->finish();
  result.bytes_downloaded += bytes;
  result.blobs_downloaded += downloaded;
  result.blobs_reused += static_cast<int>(missing.size()) - downloaded;
  if (first_error) return fail(*first_error);
  return {};
}

Result<void> ImageFetcher::download_one(const image::Reference& ref, const image::Descriptor& blob,
                                        std::uint64_t& bytes, util::Progress* progress) {
  StoreSink sink(m_blobs, {blob.digest, static_cast<std::uint64_t>(blob.size)}, progress);
  TRY(m_client->fetch_blob(ref, blob.digest, static_cast<std::uint64_t>(blob.size), sink));
  auto committed = TRY_CTX(sink.commit(), ref.familiar() + ": " + blob.digest.str());
  bytes = committed.size;
  log::debug("stored blob " + blob.digest.str() + " (" + util::human_size(committed.size) + ")");
  return {};
}

}  // namespace strata::fetch
