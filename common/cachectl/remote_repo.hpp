// A cache repo in a registry, as `cachectl repo ...` and `cachectl sync` see it: every tag is an
// entry. The executor's layer cache writes each entry as a small OCI image tagged with its key
// (cache/entry.hpp): one layer, a config of media type k_entry_config_media_type that carries the
// step text, creation time and platform. Other tags (ordinary images pushed to the same
// repository) are listed too, as images (created time and platform from their image config), and
// index tags as indexes (size = the index document only).
//
// Listing costs one tags/list request plus, per tag, a manifest GET and a config blob GET (small),
// run on `parallel` threads through one shared registry::Client (thread-safe).
//
// Thread safety: list_repo() may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/registry_flags.hpp"
#include "image/manifest.hpp"
#include "image/reference.hpp"
#include "prune/graph.hpp"
#include "prune/policy.hpp"
#include "registry/client.hpp"
#include "store/clock.hpp"
#include "util/result.hpp"

namespace strata::cachectl {

enum class RemoteKind { layer, image, index };
std::string_view to_string(RemoteKind kind);

struct RemoteEntry {
  std::string tag;
  RemoteKind kind = RemoteKind::image;
  digest::Digest digest;  // of the manifest (or index) the tag names
  std::string media_type;
  std::string manifest_bytes;
  image::Manifest manifest;  // image manifests (layer, image)
  std::string config_bytes;
  std::string key;   // layer entries: the cache key from the config
  std::string step;  // layer entries: the step text
  store::TimePoint created{};
  std::string platform;
  std::uint64_t size = 0;  // manifest + config + layers
};

struct RemoteListing {
  std::vector<RemoteEntry> entries;  // sorted by tag
  std::vector<std::string> errors;   // tags that could not be read (deleted meanwhile, corrupt, ...)
};

// Parses "host[:port]/path" (no tag, no digest). Errors: usage-style invalid_argument.
Result<image::Reference> parse_repo(std::string_view text);

// Lists every tag of repo with its manifest and config. A repository that does not exist yet is
// empty. Errors: those of the registry (unauthorized, denied, network, ...) for the tag list.
Result<RemoteListing> list_repo(registry::Client& client, const image::Reference& repo, int parallel);

// The listing as a prune::Snapshot, so the local planner decides repo prunes too: each entry is an
// image record "<repo>:<tag>" (created = fetched = last used), with manifest and blob records
// giving its config and layers, so shared layers count once.
prune::Snapshot to_snapshot(const image::Reference& repo, const std::vector<RemoteEntry>& entries);

// A registry client from kaniko's registry flags and $DOCKER_CONFIG credentials.
Result<std::unique_ptr<registry::Client>> make_client(const cli::RegistryFlags& flags);

// --filter on remote entries: until=D (created before now - D), ref~=REGEX (searched in
// "<repo_name>:<tag>", or the tag alone when repo_name is empty, and in the step text), type=layer|image (index tags count as images).
bool remote_matches(const std::vector<prune::Filter>& filters, std::string_view repo_name, const RemoteEntry& e,
                    store::TimePoint now);

nlohmann::json remote_entry_json(const RemoteEntry& e);


}  // namespace strata::cachectl
