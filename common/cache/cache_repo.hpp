// CacheRepo: where layer-cache entries are shared beyond one node — a registry repository
// (--cache-repo REPO, entries tagged with their key) or an OCI image layout (--cache-repo
// oci:PATH, entries named by the org.opencontainers.image.ref.name annotation = key).
//
// Thread safety: every member function may be called concurrently (the push worker pushes while
// the build looks entries up). Errors: those of the registry client / file system; find()
// reports an absent entry as nullopt, not as an error.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"
#include "registry/client.hpp"
#include "store/blob_store.hpp"
#include "util/result.hpp"

namespace strata::cache {

class CacheRepo {
 public:
  virtual ~CacheRepo() = default;
  // "127.0.0.1:5000/app/cache" or "oci:/path", for logs and reports.
  virtual std::string describe() const = 0;
  // The entry (manifest + config, not the layer) for key, or nullopt when the repo has none.
  virtual Result<std::optional<EntryImage>> find(std::string_view key) = 0;
  // Streams the entry's layer into blobs (verified; committed only when complete).
  virtual Result<void> fetch_layer(const EntryImage& entry, const store::BlobStore& blobs) = 0;
  // Publishes an entry whose layer is the file at layer_path (skipping blobs already present).
  virtual Result<void> push(const EntryImage& entry, const std::string& layer_path) = 0;
};

// A registry repository ("host/path", no tag) through client, which must outlive the repo.
// Errors: invalid_argument for a repository that is not a valid reference.
Result<std::unique_ptr<CacheRepo>> make_registry_repo(registry::Client& client, std::string_view repository);

// An OCI image layout at path (created on first push). Concurrent pushers (threads or
// processes) serialise their index.json updates with an flock on path/index.json.lock.
Result<std::unique_ptr<CacheRepo>> make_oci_layout_repo(std::string path);

// Parses a --cache-repo value: "oci:PATH" → an OCI layout repo, anything else → a registry repo
// (client must then be non-null). Errors: invalid_argument.
Result<std::unique_ptr<CacheRepo>> open_cache_repo(std::string_view value, registry::Client* client);

// The default --cache-repo: "<first destination's repository>/cache" (kaniko's rule), e.g.
// "reg:5000/team/app:v1" → "reg:5000/team/app/cache". Errors: invalid_argument.
Result<std::string> default_cache_repo(std::string_view first_destination);

}  // namespace strata::cache
