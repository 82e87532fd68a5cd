#include "store/cache_dir.hpp"

#include "store/file_ops.hpp"
#include "store/oci_layout.hpp"
#include "util/log.hpp"

namespace strata::store {

Result<CacheDir> CacheDir::open(std::string root, CacheDirOptions options) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.find(':') != std::string::npos)
    log::warn("cache dir path contains ':'; skopeo and umoci cannot address it as oci:DIR:REF",
              {{"dir", root}});
  auto blobs = TRY_CTX(BlobStore::open(root, options.clock), "opening cache dir " + root);
  TRY_CTX(make_dirs(root + "/leases"), "opening cache dir " + root);
  TRY_CTX(ensure_oci_layout(root), "opening cache dir " + root);
  auto index = TRY(Index::open(root, IndexOptions{options.lock_timeout, options.clock}));
  auto state = TRY(index.schema_state());
  if (state == SchemaState::older) {
    log::warn("cache index has an older schema; rebuilding it from the blobs", {{"dir", root}});
    TRY_CTX(store::reindex(blobs, index), "rebuilding the cache index of " + root);
  } else if (state == SchemaState::newer) {
    TRY(index.read());  // produces the explanatory error
  }
  return CacheDir(std::move(blobs), std::move(index));
}

}  // namespace strata::store
