#include "build/base_image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/media_types.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

namespace strata::build {

namespace {

fetch::FetchOptions fetch_options(const ImageSourceOptions& o) {
  fetch::FetchOptions fo;
  fo.platform = o.platform;
  fo.ttl = o.ttl;
  fo.tool = "executor";
  fo.record_use = true;
  fo.show_progress = true;
  return fo;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<std::unique_ptr<ImageSource>> ImageSource::open(registry::Client* client, ImageSourceOptions options) {
  std::unique_ptr<ImageSource> source(new ImageSource());
  source->m_client = client;
  source->m_options = std::move(options);
  const auto& dir = source->m_options.cache_dir;
  if (!dir.empty() && is_dir(dir)) {
    source->m_cache_writable = ::access(dir.c_str(), W_OK) == 0;
    auto blobs = store::BlobStore::open(dir);
    auto index = blobs ? store::Index::open(dir) : tl::unexpected(blobs.error());
    if (blobs && index) {
      Store s;
      s.blobs = std::make_unique<store::BlobStore>(std::move(*blobs));
      s.index = std::make_unique<store::Index>(std::move(*index));
      s.fetcher = std::make_unique<fetch::ImageFetcher>(source->m_cache_writable ? client : nullptr, *s.blobs,
                                                        *s.index, fetch_options(source->m_options));
      source->m_cache = std::move(s);
    } else {
      // A cache dir we cannot even open is not fatal: the build pulls instead.
      log::warn("cache dir " + dir + " cannot be used: " + (blobs ? index.error() : blobs.error()).message());
      source->m_cache_writable = false;
    }
  }
  return source;
}

std::string ImageSource::describe() const {
  if (m_cache && m_cache_writable) return "cache dir " + m_options.cache_dir;
  if (m_cache) return "cache dir " + m_options.cache_dir + " (read-only) and private store " + m_options.private_dir;
  return "private store " + m_options.private_dir;
}

Result<ImageSource::Store*> ImageSource::private_store() {
  if (!m_private) {
    auto blobs = TRY_CTX(store::BlobStore::open(m_options.private_dir), "private image store");
    auto index = TRY_CTX(store::Index::open(m_options.private_dir), "private image store");
    Store s;
    s.blobs = std::make_unique<store::BlobStore>(std::move(blobs));
    s.index = std::make_unique<store::Index>(std::move(index));
    s.fetcher = std::make_unique<fetch::ImageFetcher>(m_client, *s.blobs, *s.index, fetch_options(m_options));
    m_private = std::move(s);
  }
  return &*m_private;
}

Result<ImageState> ImageSource::resolve(const image::Reference& ref) {
  std::lock_guard lock(m_mutex);
  if (m_cache) {
    auto found = TRY_CTX(m_cache->fetcher->lookup(ref), "cache dir " + m_options.cache_dir);
    if (found) {
      log::info("using base image " + ref.str() + " from the cache dir", {{"digest", found->record.manifest.str()}});
      return to_state(*found, *m_cache->blobs);
    }
    if (m_cache_writable && m_client) {
      auto image = TRY(m_cache->fetcher->fetch(ref));
      return to_state(image, *m_cache->blobs);
    }
  }
  if (!m_client) return fail(ErrorKind::not_found, "image " + ref.str() + " is not in the cache and no registry access");
  Store* store = TRY(private_store());
  auto image = TRY(store->fetcher->fetch(ref));
  return to_state(image, *store->blobs);
}

Result<ImageState> ImageSource::to_state(const fetch::CachedImage& image, const store::BlobStore& blobs) {
  ImageState state;
  state.format = image.manifest.is_docker() ? ManifestFormat::docker : ManifestFormat::oci;
  state.config = TRY_CTX(image::ImageConfig::parse(image.config_bytes), "config of " + image.reference.str());
  state.base_reference = image.reference;
  state.base_manifest = image.record.manifest;
  if (state.config.diff_ids.size() != image.manifest.layers.size()) {
    return fail(ErrorKind::corrupt, "image " + image.reference.str() + ": " +
                                        std::to_string(image.manifest.layers.size()) + " layers but " +
                                        std::to_string(state.config.diff_ids.size()) + " diff_ids in its config");
  }
  for (std::size_t i = 0; i < image.manifest.layers.size(); ++i) {
    const auto& d = image.manifest.layers[i];
    if (image::media::is_foreign_layer(d.media_type)) {
      return fail(ErrorKind::unsupported, "image " + image.reference.str() + " has a foreign layer (" + d.media_type +
                                              "), which cannot be pushed along with the build");
    }
    state.layers.push_back({d, state.config.diff_ids[i], blobs.path(d.digest)});
  }
  return state;
}

Result<void> unpack_layers(const ImageState& state, const std::string& root, const archive::ExtractOptions& options) {
  for (std::size_t i = 0; i < state.layers.size(); ++i) {
    const auto& layer = state.layers[i];
    std::string what = "layer " + std::to_string(i + 1) + "/" + std::to_string(state.layers.size()) + " (" +
                       layer.descriptor.digest.str() + ")";
    util::Fd fd(::open(layer.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("open " + what + " " + layer.path, errno);
    archive::FdSource source(fd.get(), layer.path);
    auto stats = TRY_CTX(archive::apply_layer(source, root, options), "unpack " + what);
    if (layer.diff_id.valid() && stats.diff_id != layer.diff_id) {
      return fail(ErrorKind::corrupt, "unpack " + what + ": diff_id is " + stats.diff_id.str() + ", config says " +
                                          layer.diff_id.str());
    }
  }
  return {};
}

}  // namespace strata::build
