// Base images for a build: found in the shared cache dir (what the warmer stored, by digest or
// by reference within the TTL) or fetched from the registry, into the cache dir when it is
// writable, else into a private store under the executor's work dir. Also unpacks an image's
// layers into a root directory.
//
// Ownership: an ImageSource keeps the registry client pointer (may be null: offline, cache
// only), which must outlive it. Thread safety: resolve() may be called from several threads.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/extractor.hpp"
#include "build/image_state.hpp"
#include "fetch/image_fetcher.hpp"
#include "image/platform.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "store/blob_store.hpp"
#include "store/index.hpp"
#include "util/result.hpp"

namespace strata::build {

struct ImageSourceOptions {
  std::string cache_dir;    // shared cache (--cache-dir); used only if it exists
  std::string private_dir;  // fallback store when the cache dir is missing or read-only
  image::Platform platform = image::Platform::host();
  std::chrono::milliseconds ttl = std::chrono::hours(336);
};

class ImageSource {
 public:
  // Opens the cache dir (when present) and prepares the private store lazily.
  // Errors: io/denied opening an existing cache dir.
  static Result<std::unique_ptr<ImageSource>> open(registry::Client* client, ImageSourceOptions options);

  // The image as a starting state: manifest format, parsed config, layer blobs on disk.
  // Errors: not_found for an unknown image, unsupported for foreign layers / schema1,
  // corrupt for a config that does not parse; registry errors pass through.
  Result<ImageState> resolve(const image::Reference& ref);

  // Where base images are looked up / stored (for logs): "cache dir /cache" or "private store ...".
  std::string describe() const;

 private:
  ImageSource() = default;
  struct Store {
    std::unique_ptr<store::BlobStore> blobs;
    std::unique_ptr<store::Index> index;
    std::unique_ptr<fetch::ImageFetcher> fetcher;
  };
  Result<Store*> private_store();
  static Result<ImageState> to_state(const fetch::CachedImage& image, const store::BlobStore& blobs);

  registry::Client* m_client = nullptr;
  ImageSourceOptions m_options;
  std::optional<Store> m_cache;
  bool m_cache_writable = false;
  std::optional<Store> m_private;
  std::mutex m_mutex;
};

// Applies the layers of `state` in order onto the existing directory `root`, checking each
// layer's diff_id. Errors: corrupt on a diff_id mismatch, those of archive::apply_layer.
Result<void> unpack_layers(const ImageState& state, const std::string& root, const archive::ExtractOptions& options);

}  // namespace strata::build
