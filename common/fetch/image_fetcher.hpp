// ImageFetcher: brings an image (manifest, config, layers) from a registry into a cache dir, and
// finds images already there. The warmer is a loop over fetch(); the executor uses lookup() and
// fetch() for its base images, so a warmed image is found by exactly the rules that stored it.
//
// What a fetch costs, by state of the cache (the warmer's promises, see docs/warmer.md):
//   - reference pinned by digest, complete in the cache:       no request at all;
//   - tag recorded within the TTL, complete:                    one manifest HEAD (the tag may
//     have moved; if it did, the new image is fetched);
//   - tag recorded but older than the TTL, or --force:          the manifest is fetched again and
//     every missing blob downloaded; the record's fetch time is renewed;
//   - unknown:                                                  a full fetch.
// "Complete" means the manifest, config and every layer are present as verified blobs. Blobs
// already present (shared with other images) are never downloaded again; blobs wanted by
// several concurrent fetches are downloaded once (in-flight deduplication).
//
// Crash safety: blobs are committed (verified, fsynced, renamed) before the index records that
// name them, in one write session at the end. A fetch killed midway leaves verified blobs and
// temp files only; the next fetch finds the blobs present and downloads the rest.
//
// Leases (store/lease.hpp): everything an image holds (index, manifest, config, layers) is leased
// BEFORE the fetcher checks that it is present, and stays leased for the lifetime of the
// fetcher's LeaseSet (FetchOptions::lease, else one the fetcher creates and holds as long as it
// lives). So a concurrent `cachectl prune/gc` never deletes a blob an image found or fetched here
// needs while the build (executor) or warm run (warmer) that owns the fetcher is running. A lease
// that cannot be taken (read-only cache dir) is logged once and the fetch goes on unprotected.
//
// Thread safety: fetch() and lookup() may be called concurrently from several threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/config.hpp"
#include "image/manifest.hpp"
#include "image/platform.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "store/blob_store.hpp"
#include "store/index.hpp"
#include "store/lease.hpp"
#include "store/records.hpp"
#include "util/progress.hpp"

namespace strata::fetch {

struct FetchOptions {
  image::Platform platform = image::Platform::host();
  std::chrono::milliseconds ttl = std::chrono::hours(336);
  bool force = false;              // refetch the manifest even when cached and fresh
  int parallel_downloads = 4;      // blobs downloaded at once, per fetcher
  std::string tool = "warmer";     // name under which stats are counted
  bool show_progress = true;
  bool record_use = false;         // count a use of the image (executor), not just a fetch (warmer)
  // The lease to grow (shared with other users in the same build, e.g. the layer cache); null:
  // the fetcher makes its own on the blob store's root.
  std::shared_ptr<store::LeaseSet> lease;
};

enum class Outcome {
  cached,      // pinned by digest and complete: no request made
  up_to_date,  // one HEAD confirmed the recorded digest
  refreshed,   // expired or forced: manifest fetched again (blobs reused where present)
  fetched,     // not in the cache before (or the tag moved)
};
std::string_view to_string(Outcome outcome);

struct CachedImage {
  image::Reference reference;
  store::ImageRecord record;
  image::Manifest manifest;
  std::string config_bytes;  // exactly as stored (its digest is manifest.config.digest)
  Outcome outcome = Outcome::cached;
  std::uint64_t bytes_downloaded = 0;
  int blobs_downloaded = 0;
  int blobs_reused = 0;
};

class ImageFetcher {
 public:
  // The fetcher keeps references to client, blobs and index; they must outlive it.
  // client may be null for an offline fetcher (lookup only; fetch fails with not_found).
  ImageFetcher(registry::Client* client, const store::BlobStore& blobs, const store::Index& index,
               FetchOptions options);

  // Makes the image complete in the cache dir (see the table above) and records it.
  // Errors: those of the registry (not_found for an unknown image, unauthorized, ...), corrupt on
  // a digest mismatch, no_space when the cache dir's file system is full.
  Result<CachedImage> fetch(const image::Reference& ref);

  // Finds a complete cached image without any request: by digest (the manifest's or the index's
  // it was resolved through) for pinned references, or by reference within the TTL.
  // nullopt when not cached, incomplete or expired.
  Result<std::optional<CachedImage>> lookup(const image::Reference& ref);

 private:
  struct Resolved;
  // held: the digests the record holds (its index, manifest, and the manifest's config and layers
  // as the index records them), to lease before using them.
  Result<std::optional<store::ImageRecord>> find_record(const image::Reference& ref,
                                                        std::vector<digest::Digest>* held = nullptr) const;
  void lease(const std::vector<digest::Digest>& digests);
  Result<std::optional<CachedImage>> load_complete(const image::Reference& ref, const store::ImageRecord& record) const;
  Result<CachedImage> fetch_from_registry(const image::Reference& ref, Outcome outcome);
  Result<void> download_blobs(const image::Reference& ref, const std::vector<image::Descriptor>& blobs,
                              CachedImage& result);
  Result<void> download_one(const image::Reference& ref, const image::Descriptor& blob, std::uint64_t& bytes,
                            util::Progress* progress);

  registry::Client* m_client;
  const store::BlobStore& m_blobs;
  const store::Index& m_index;
  FetchOptions m_options;

  // In-flight downloads shared by concurrent fetches: digest → finished flag and result.
  struct InFlight {
    bool done = false;
    std::optional<Error> error;
  };
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::map<digest::Digest, std::shared_ptr<InFlight>> m_in_flight;
  std::once_flag m_lease_warning;
};

}  // namespace strata::fetch
