#include "cachectl/remote_repo.hpp"

#include <algorithm>
#include <mutex>

#include "cache/entry.hpp"
#include "cachectl/support.hpp"
#include "cli/credentials.hpp"
#include "image/config.hpp"
#include "image/manifest_any.hpp"

namespace strata::cachectl {

std::string_view to_string(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::layer: return "layer";
    case RemoteKind::image: return "image";
    case RemoteKind::index: return "index";
  }
  return "?";
}

Result<image::Reference> parse_repo(std::string_view text) {
  auto ref = image::Reference::parse(text);
  if (!ref) return fail(ErrorKind::invalid_argument, "repository " + std::string(text) + ": " + ref.error().message());
  if (ref->digest() || text.find('@') != std::string_view::npos)
    return fail(ErrorKind::invalid_argument, "repository " + std::string(text) + " must not name a digest");
  // Reference::parse adds ":latest" to a bare name; a repository given with a tag is a mistake.
  auto slash = text.rfind('/');
  auto colon = text.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    return fail(ErrorKind::invalid_argument, "repository " + std::string(text) + " must not name a tag");
  return *ref;
}

Result<std::unique_ptr<registry::Client>> make_client(const cli::RegistryFlags& flags) {
  auto options = TRY(cli::registry_options(flags));
  return registry::Client::create(options, TRY(cli::login_lookup()));
}

bool remote_matches(const std::vector<prune::Filter>& filters, std::string_view repo_name, const RemoteEntry& e,
                    store::TimePoint now) {
  for (const auto& f : filters) {
    if (f.type && (*f.type == prune::EntryKind::layer) != (e.kind == RemoteKind::layer)) return false;
    if (f.until && !(e.created < now - *f.until)) return false;
    std::string name = repo_name.empty() ? e.tag : std::string(repo_name) + ":" + e.tag;
    if (f.ref && !std::regex_search(name, *f.ref) && !std::regex_search(e.step, *f.ref))
      return false;
  }
  return true;
}

nlohmann::json remote_entry_json(const RemoteEntry& e) {
  nlohmann::json j{{"tag", e.tag},
                   {"kind", std::string(to_string(e.kind))},
                   {"digest", e.digest.str()},
                   {"media_type", e.media_type},
                   {"size", e.size},
                   {"created", rfc3339(e.created)},
                   {"platform", e.platform}};
  if (e.kind == RemoteKind::layer) {
    j["key"] = e.key;
    j["step"] = e.step;
  }
  if (e.kind != RemoteKind::index) {
    j["layers"] = nlohmann::json::array();
    for (const auto& l : e.manifest.layers) j["layers"].push_back(l.digest.str());
  }
  return j;
}

namespace {

Result<RemoteEntry> read_entry(registry::Client& client, const image::Reference& repo, const std::string& tag) {
  RemoteEntry e;
  e.tag = tag;
  auto got = TRY(client.get_manifest(repo.with_tag(tag)));
  e.digest = got.digest;
  e.media_type = got.media_type;
  e.size = got.bytes.size();
  auto any = TRY(image::parse_manifest_any(got.bytes, got.media_type));
  e.manifest_bytes = std::move(got.bytes);
  if (any.is_index()) {
    e.kind = RemoteKind::index;
    e.platform = "multi";
    return e;
  }
  e.manifest = *any.manifest();
  e.size += static_cast<std::uint64_t>(e.manifest.total_size());
  registry::StringBlobSink config;
  TRY_CTX(client.fetch_blob(repo, e.manifest.config.digest, static_cast<std::uint64_t>(e.manifest.config.size), config),
          "config of " + tag);
  e.config_bytes = config.data();
  if (e.manifest.config.media_type == cache::k_entry_config_media_type) {
    auto entry = TRY(cache::parse_entry_image(e.manifest_bytes, e.config_bytes));
    e.kind = RemoteKind::layer;
    e.key = entry.config.key;
    e.step = entry.config.step;
    e.created = entry.config.created;
    e.platform = entry.config.platform;
    return e;
  }
  e.kind = RemoteKind::image;
  if (e.manifest.is_image()) {
    if (auto cfg = image::ImageConfig::parse(e.config_bytes)) {
      e.platform = cfg->platform().str();
      if (auto t = cache::parse_time(cfg->created)) e.created = *t;
    }
  }
  return e;
}

}  // namespace

Result<RemoteListing> list_repo(registry::Client& client, const image::Reference& repo, int parallel) {
  RemoteListing out;
  auto tags = client.list_tags(repo);
  if (!tags) {
    if (tags.error().kind() == ErrorKind::not_found) return out;  // no such repository yet
    return fail(tags.error().with_context("listing tags of " + repo.name()));
  }
  std::sort(tags->begin(), tags->end());
  std::vector<std::optional<RemoteEntry>> entries(tags->size());
  std::vector<std::string> errors(tags->size());
  run_parallel(tags->size(), parallel, [&](std::size_t i) {
    auto e = read_entry(client, repo, (*tags)[i]);
    if (e) entries[i] = std::move(*e);
    else errors[i] = (*tags)[i] + ": " + e.error().message();
  });
  for (std::size_t i = 0; i < tags->size(); ++i) {
    if (entries[i]) out.entries.push_back(std::move(*entries[i]));
    else out.errors.push_back(errors[i]);
  }
  return out;
}

prune::Snapshot to_snapshot(const image::Reference& repo, const std::vector<RemoteEntry>& entries) {
  prune::Snapshot s;
  std::set<digest::Digest> manifests_seen;
  for (const auto& e : entries) {
    store::ImageRecord r;
    r.reference = repo.name() + ":" + e.tag;
    r.platform = e.platform.empty() ? "unknown" : e.platform;
    r.manifest = e.digest;
    r.manifest_media_type = e.media_type;
    r.manifest_size = e.manifest_bytes.size();
    r.fetched = e.created;
    r.last_used = e.created;
    r.total_size = e.size;
    s.images.push_back(r);
    if (!manifests_seen.insert(e.digest).second) continue;
    store::BlobRecord mb;
    mb.digest = e.digest;
    mb.size = e.manifest_bytes.size();
    s.blobs.push_back(mb);
    store::ManifestRecord m;
    m.digest = e.digest;
    m.size = mb.size;
    m.media_type = e.media_type;
    if (e.kind == RemoteKind::index) {
      m.kind = store::ManifestKind::index;
    } else {
      m.config = e.manifest.config.digest;
      store::BlobRecord cb;
      cb.digest = e.manifest.config.digest;
      cb.size = static_cast<std::uint64_t>(e.manifest.config.size);
      s.blobs.push_back(cb);
      for (const auto& l : e.manifest.layers) {
        m.layers.push_back(l.digest);
        store::BlobRecord lb;
        lb.digest = l.digest;
        lb.size = static_cast<std::uint64_t>(l.size);
        s.blobs.push_back(lb);
      }
    }
    s.manifests.push_back(std::move(m));
  }
  return s;
}

}  // namespace strata::cachectl
