// Reindex: rebuilds every index record from what is on disk, in one exclusive session.
//
// 1. Every file under blobs/ becomes a BlobRecord (size, added = mtime, use count 0).
// 2. Blobs that can be manifests (at most 4 MiB, starting with '{') are parsed: a JSON object
//    with schemaVersion 2 and a "manifests" array is an index (OCI index or Docker manifest
//    list); one with "config" and "layers" is an image manifest. The media type comes from the
//    document's mediaType, else from a descriptor that points at it, else from its shape. An
//    image manifest whose config or layers are not all present is skipped (the index never
//    references missing blobs); its blob stays until gc. Descriptors give the config and layer
//    blobs their media types and give children of an index their platform; a manifest nobody
//    describes gets its platform from its config blob (os/architecture/variant).
// 3. Reference names exist only in index.json (ref.name annotations): each named entry whose
//    manifest was recorded becomes image records: one per cached child for an index, one for a
//    manifest. Times are the blobs' mtimes.
// 4. commit() writes the schema version and regenerates index.json from the rebuilt records.
#include "store/reindex.hpp"

#include <sys/stat.h>

#include <map>

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"
#include "store/oci_layout.hpp"

namespace strata::store {

namespace {

using nlohmann::json;

struct Parsed {
  ManifestRecord record;
  std::map<digest::Digest, std::string> media_types;  // descriptors' media types
  std::map<digest::Digest, std::string> child_platforms;
};

std::string str_field(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string platform_of(const json& p) {
  if (!p.is_object()) return {};
  std::string os = str_field(p, "os"), arch = str_field(p, "architecture"), variant = str_field(p, "variant");
  if (os.empty() || arch.empty()) return {};
  return variant.empty() ? os + "/" + arch : os + "/" + arch + "/" + variant;
}

std::optional<digest::Digest> descriptor_digest(const json& d) {
  if (!d.is_object()) return std::nullopt;
  auto parsed = digest::Digest::parse(str_field(d, "digest"));
  if (!parsed) return std::nullopt;
  return *parsed;
}

// nullopt: not a manifest (any other blob, including unparsable JSON).
std::optional<Parsed> parse_manifest(const digest::Digest& d, const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return std::nullopt;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto sv = j.find("schemaVersion");
  if (sv == j.end() || !sv->is_number_integer() || sv->get<int>() != 2) return std::nullopt;
  Parsed p;
  p.record.digest = d;
  p.record.size = text.size();
  p.record.media_type = str_field(j, "mediaType");
  if (auto ms = j.find("manifests"); ms != j.end() && ms->is_array()) {
    p.record.kind = ManifestKind::index;
    for (const auto& m : *ms) {
      auto cd = descriptor_digest(m);
      if (!cd) return std::nullopt;
      p.record.manifests.push_back(*cd);
      p.media_types[*cd] = str_field(m, "mediaType");
      if (auto pl = m.find("platform"); pl != m.end()) p.child_platforms[*cd] = platform_of(*pl);
    }
    if (p.record.media_type.empty()) p.record.media_type = image::media::oci_index;
    return p;
  }
  auto cfg = j.find("config");
  auto layers = j.find("layers");
  if (cfg == j.end() || layers == j.end() || !layers->is_array()) return std::nullopt;
  p.record.kind = ManifestKind::image;
  auto cd = descriptor_digest(*cfg);
  if (!cd) return std::nullopt;
  p.record.config = *cd;
  const std::string config_type = str_field(*cfg, "mediaType");
  p.media_types[*cd] = config_type;
  for (const auto& l : *layers) {
    auto ld = descriptor_digest(l);
    if (!ld) return std::nullopt;
    p.record.layers.push_back(*ld);
    p.media_types[*ld] = str_field(l, "mediaType");
  }
  if (p.record.media_type.empty())
    p.record.media_type = config_type == image::media::docker_config ? image::media::docker_manifest
                                                                      : image::media::oci_manifest;
  return p;
}

TimePoint mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return from_unix_ms(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000);
}

}  // namespace

Result<ReindexReport> reindex(const BlobStore& blobs, const Index& index) {
  ReindexReport report;
  auto session = TRY(index.write(WriteMode::rebuild));
  TRY(session.clear());

  std::map<digest::Digest, BlobRecord> blob_records;
  std::map<digest::Digest, Parsed> parsed;
  for (const auto& d : TRY(blobs.list())) {
    auto size = blobs.size(d);
    if (!size) continue;  // removed meanwhile
    BlobRecord r{d, *size, "", mtime_of(blobs.path(d)), {}, 0};
    r.last_used = r.added;
    blob_records[d] = r;
    if (*size > (4u << 20)) continue;
    auto text = blobs.read(d);
    if (!text) continue;
    if (auto p = parse_manifest(d, *text)) parsed.emplace(d, std::move(*p));
  }

  // Media types and platforms that descriptors give to what they point at.
  std::map<digest::Digest, std::string> child_platform;
  for (const auto& [d, p] : parsed) {
    for (const auto& [target, mt] : p.media_types)
      if (auto it = blob_records.find(target); it != blob_records.end() && it->second.media_type.empty())
        it->second.media_type = mt;
    for (const auto& [child, platform] : p.child_platforms)
      if (!platform.empty()) child_platform[child] = platform;
  }

  std::map<digest::Digest, ManifestRecord> recorded;
  for (auto& [d, p] : parsed) {
    ManifestRecord r = p.record;
    r.added = blob_records[d].added;
    if (auto& br = blob_records[d]; br.media_type.empty()) br.media_type = r.media_type;
    if (r.kind == ManifestKind::image) {
      bool complete = true;
      for (const auto& ref : r.references())
        if (!blob_records.count(ref)) complete = false;
      if (!complete) {
        report.warnings.push_back("manifest " + d.str() + " skipped: some of its blobs are missing");
        continue;
      }
      if (auto it = child_platform.find(d); it != child_platform.end()) {
        r.platform = it->second;
      } else if (auto cfg = blobs.read(*r.config)) {
        auto j = json::parse(*cfg, nullptr, false);
        if (j.is_object()) r.platform = platform_of(j);
      }
      ++report.manifests;
    } else {
      ++report.indexes;
    }
    TRY(session.put_manifest(r));
    recorded.emplace(d, std::move(r));
  }
  for (const auto& [d, r] : blob_records) TRY(session.put_blob(r));
  report.blobs = blob_records.size();

  auto entries = read_index_json(blobs.root());
  if (!entries && entries.error().kind() != ErrorKind::not_found) {
    report.warnings.push_back("index.json unreadable, no image names recovered: " + entries.error().message());
  }
  auto total_size = [&](const ManifestRecord& m) {
    std::uint64_t t = m.size;
    for (const auto& ref : m.references()) t += blob_records[ref].size;
    return t;
  };
  for (const auto& e : entries ? *entries : std::vector<LayoutEntry>{}) {
    if (e.ref_name.empty()) continue;
    auto top = recorded.find(e.digest);
    if (top == recorded.end()) {
      report.warnings.push_back("index.json entry " + e.ref_name + " skipped: " + e.digest.str() + " is not cached");
      continue;
    }
    auto add = [&](const ManifestRecord& m, const ManifestRecord* idx, std::string platform) -> Result<void> {
      ImageRecord r;
      r.reference = e.ref_name;
      r.platform = platform.empty() ? "unknown" : std::move(platform);
      r.manifest = m.digest;
      r.manifest_media_type = m.media_type;
      r.manifest_size = m.size;
      if (idx) {
        r.index = idx->digest;
        r.index_media_type = idx->media_type;
        r.index_size = idx->size;
      }
      r.fetched = (idx ? idx : &m)->added;
      r.last_used = r.fetched;
      r.total_size = total_size(m);
      ++report.images;
      return session.put_image(r);
    };
    const ManifestRecord& t = top->second;
    if (t.kind == ManifestKind::image) {
      TRY(add(t, nullptr, t.platform.empty() ? e.platform : t.platform));
      continue;
    }
    for (const auto& child : t.manifests) {
      auto c = recorded.find(child);
      if (c == recorded.end() || c->second.kind != ManifestKind::image) continue;
      TRY(add(c->second, &t, c->second.platform));
    }
  }
  TRY(session.commit());
  return report;
}

}  // namespace strata::store
