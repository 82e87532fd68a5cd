// The OCI-layout cache repo (--cache-repo oci:PATH): an image layout (oci-layout, index.json,
// blobs/sha256/) where each entry is one index.json descriptor of its manifest, annotated
// org.opencontainers.image.ref.name = key, so `skopeo inspect oci:PATH:<key>` shows an entry.
//
// Blobs go through store::BlobStore (temp + verify + fsync + rename), so a reader never sees a
// partial blob; index.json is replaced atomically (temp + fsync + rename) under an exclusive
// flock on index.json.lock, so concurrent pushers never lose each other's entries. Readers take
// no lock: they see either the old or the new index.json. A newer entry for the same key replaces
// the older descriptor.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include <nlohmann/json.hpp>

#include "cache/cache_repo.hpp"
#include "image/media_types.hpp"
#include "store/file_ops.hpp"
#include "store/oci_layout.hpp"
#include "util/fd.hpp"

namespace strata::cache {

namespace {

using Json = nlohmann::json;

// index.json as JSON; an absent file is an empty index.
Result<Json> read_index(const std::string& root) {
  auto path = root + "/index.json";
  auto bytes = store::read_file(path);
  if (!bytes) {
    if (bytes.error().kind() == ErrorKind::not_found)
      return Json{{"schemaVersion", 2}, {"mediaType", image::media::oci_index}, {"manifests", Json::array()}};
    return fail(bytes.error());
  }
  try {
    auto j = Json::parse(*bytes);
    if (!j.is_object() || !j.contains("manifests") || !j["manifests"].is_array())
      return fail(ErrorKind::corrupt, path + ": not an OCI index");
    return j;
  } catch (const Json::exception& e) {
    return fail(ErrorKind::corrupt, path + ": " + e.what());
  }
}

std::optional<std::string> ref_name_of(const Json& desc) {
  auto a = desc.find("annotations");
  if (a == desc.end() || !a->is_object()) return std::nullopt;
  auto n = a->find(std::string(store::k_ref_name_annotation));
  if (n == a->end() || !n->is_string()) return std::nullopt;
  return n->get<std::string>();
}

class OciLayoutRepo final : public CacheRepo {
 public:
  OciLayoutRepo(std::string root, store::BlobStore blobs) : m_root(std::move(root)), m_blobs(std::move(blobs)) {}

  std::string describe() const override { return "oci:" + m_root; }

  Result<std::optional<EntryImage>> find(std::string_view key) override {
    auto index = TRY_CTX(read_index(m_root), "cache repo " + describe());
    const Json* found = nullptr;
    for (const auto& d : index["manifests"]) {
      if (ref_name_of(d) == std::string(key)) found = &d;  // the last one wins
    }
    if (!found) return std::nullopt;
    auto digest_text = found->value("digest", std::string());
    auto d = digest::Digest::parse(digest_text);
    if (!d) return fail(ErrorKind::corrupt, "cache repo " + describe() + ": entry " + std::string(key) + ": " + d.error().message());
    auto manifest = m_blobs.read(*d);
    if (!manifest) {
      if (manifest.error().kind() == ErrorKind::not_found) return std::nullopt;
      return fail(manifest.error());
    }
    auto m = image::Manifest::parse(*manifest);
    if (!m) return fail(m.error().with_context("cache repo " + describe() + " entry " + std::string(key)));
    auto config = TRY_CTX(m_blobs.read(m->config.digest), "cache repo " + describe() + " entry " + std::string(key));
    auto entry = TRY_CTX(parse_entry_image(std::move(*manifest), std::move(config)),
                         "cache repo " + describe() + " entry " + std::string(key));
    return entry;
  }

  Result<void> fetch_layer(const EntryImage& entry, const store::BlobStore& blobs) override {
    if (blobs.has(entry.layer.digest)) return {};
    auto fd = TRY_CTX(m_blobs.open_blob(entry.layer.digest), "cache repo " + describe());
    auto writer = TRY(blobs.writer({entry.layer.digest, static_cast<std::uint64_t>(entry.layer.size)}));
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("read " + m_blobs.path(entry.layer.digest), errno);
      if (n == 0) break;
      TRY(writer.write(buf.data(), static_cast<std::size_t>(n)));
    }
    TRY_CTX(writer.commit(), "cache repo " + describe() + ": layer " + entry.layer.digest.str());
    return {};
  }

  Result<void> push(const EntryImage& entry, const std::string& layer_path) override {
    auto what = "push cache entry " + entry.config.key + " to " + describe();
    if (!m_blobs.has(entry.layer.digest)) {
      util::Fd fd(::open(layer_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) return fail(errno_error("open " + layer_path, errno).with_context(what));
      auto writer = TRY_CTX(m_blobs.writer({entry.layer.digest, static_cast<std::uint64_t>(entry.layer.size)}), what);
      std::string buf(1 << 20, '\0');
      for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("read " + layer_path, errno).with_context(what));
        if (n == 0) break;
        TRY_CTX(writer.write(buf.data(), static_cast<std::size_t>(n)), what);
      }
      TRY_CTX(writer.commit(), what);
    }
    TRY_CTX(m_blobs.put(entry.config_bytes, {entry.config_digest, entry.config_bytes.size()}), what);
    TRY_CTX(m_blobs.put(entry.manifest_bytes, {entry.manifest_digest, entry.manifest_bytes.size()}), what);
    TRY_CTX(add_to_index(entry), what);
    return {};
  }

 private:
  Result<void> add_to_index(const EntryImage& entry) {
    std::lock_guard<std::mutex> guard(m_mutex);  // flock does not exclude threads sharing a process on NFS
    std::string lock_path = m_root + "/index.json.lock";
    util::Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lock) return fail_errno("open " + lock_path, errno);
    while (::flock(lock.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return fail_errno("flock " + lock_path, errno);
    }
    auto index = TRY(read_index(m_root));
    Json kept = Json::array();
    for (auto& d : index["manifests"]) {
      if (ref_name_of(d) != entry.config.key) kept.push_back(std::move(d));
    }
    Json desc = {{"mediaType", image::media::oci_manifest},
                 {"digest", entry.manifest_digest.str()},
                 {"size", entry.manifest_bytes.size()},
                 {"annotations", {{std::string(store::k_ref_name_annotation), entry.config.key}}}};
    kept.push_back(std::move(desc));
    index["manifests"] = std::move(kept);
    index["schemaVersion"] = 2;
    index["mediaType"] = image::media::oci_index;
    return store::write_file_atomic(m_root + "/index.json", index.dump());
  }

  std::string m_root;
  store::BlobStore m_blobs;
  std::mutex m_mutex;
};

}  // namespace

Result<std::unique_ptr<CacheRepo>> make_oci_layout_repo(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno("--cache-repo oci:" + path, errno);
  TRY_CTX(store::ensure_oci_layout(path), "--cache-repo oci:" + path);
  auto blobs = TRY_CTX(store::BlobStore::open(path), "--cache-repo oci:" + path);
  return std::unique_ptr<CacheRepo>(new OciLayoutRepo(std::move(path), std::move(blobs)));
}

}  // namespace strata::cache
