// The registry cache repo: one tag per entry (tag = key, 64 hex characters, a valid tag). Lookup
// is a manifest HEAD first (a miss costs one small request), then GET of manifest and config.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cache/cache_repo.hpp"
#include "cache/file_source.hpp"
#include "fetch/store_sink.hpp"
#include "image/media_types.hpp"
#include "util/log.hpp"

namespace strata::cache {

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path, errno);
  return std::unique_ptr<FileSource>(new FileSource(std::move(fd), path, static_cast<std::uint64_t>(st.st_size)));
}

Result<std::size_t> FileSource::read(char* buf, std::size_t n) {
  for (;;) {
    ssize_t r = ::pread(m_fd.get(), buf, n, static_cast<off_t>(m_offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_errno("read " + m_path, errno);
    m_offset += static_cast<std::uint64_t>(r);
    return static_cast<std::size_t>(r);
  }
}

namespace {

class RegistryRepo final : public CacheRepo {
 public:
  RegistryRepo(registry::Client& client, image::Reference repo) : m_client(client), m_repo(std::move(repo)) {}

  std::string describe() const override { return m_repo.name(); }

  Result<std::optional<EntryImage>> find(std::string_view key) override {
    auto ref = m_repo.with_tag(std::string(key));
    auto head = m_client.head_manifest(ref);
    if (!head) {
      if (head.error().kind() == ErrorKind::not_found) return std::nullopt;
      return fail(head.error().with_context("cache repo " + describe()));
    }
    auto got = m_client.get_manifest(ref.with_digest(head->digest));
    if (!got) {
      if (got.error().kind() == ErrorKind::not_found) return std::nullopt;  // deleted in between
      return fail(got.error().with_context("cache repo " + describe()));
    }
    auto manifest = image::Manifest::parse(got->bytes, got->media_type);
    if (!manifest) return fail(manifest.error().with_context("cache repo " + describe() + " entry " + std::string(key)));
    registry::StringBlobSink config;
    TRY_CTX(m_client.fetch_blob(m_repo, manifest->config.digest, static_cast<std::uint64_t>(manifest->config.size), config),
            "cache repo " + describe() + ": config of entry " + std::string(key));
    auto entry = TRY_CTX(parse_entry_image(std::move(got->bytes), config.data()),
                         "cache repo " + describe() + " entry " + std::string(key));
    if (entry.config.key != key)
      return fail(ErrorKind::corrupt, "cache repo " + describe() + ": tag " + std::string(key) + " holds entry " +
                                          entry.config.key);
    return entry;
  }

  Result<void> fetch_layer(const EntryImage& entry, const store::BlobStore& blobs) override {
    if (blobs.has(entry.layer.digest)) return {};
    auto size = static_cast<std::uint64_t>(entry.layer.size);
    fetch::StoreSink sink(blobs, {entry.layer.digest, size});
    TRY_CTX(m_client.fetch_blob(m_repo, entry.layer.digest, size, sink),
            "cache repo " + describe() + ": layer " + entry.layer.digest.str());
    TRY(sink.commit());
    return {};
  }

  Result<void> push(const EntryImage& entry, const std::string& layer_path) override {
    auto what = "push cache entry " + entry.config.key + " to " + describe();
    auto present = TRY_CTX(m_client.blob_size(m_repo, entry.layer.digest, registry::Purpose::push), what);
    if (!present) {
      auto source = TRY_CTX(FileSource::open(layer_path), what);
      TRY_CTX(m_client.upload_blob(m_repo, entry.layer.digest, *source), what);
    }
    registry::BytesBlobSource config(entry.config_bytes);
    TRY_CTX(m_client.upload_blob(m_repo, entry.config_digest, config), what);
    TRY_CTX(m_client.put_manifest(m_repo.with_tag(entry.config.key), entry.manifest_bytes, image::media::oci_manifest),
            what);
    return {};
  }

 private:
  registry::Client& m_client;
  image::Reference m_repo;
};

}  // namespace

Result<std::unique_ptr<CacheRepo>> make_registry_repo(registry::Client& client, std::string_view repository) {
  auto ref = image::Reference::parse(repository);
  if (!ref) return fail(ref.error().with_context("--cache-repo"));
  if (ref->digest())
    return fail(ErrorKind::invalid_argument, "--cache-repo " + std::string(repository) + ": must not name a digest");
  return std::unique_ptr<CacheRepo>(new RegistryRepo(client, *ref));
}

Result<std::unique_ptr<CacheRepo>> open_cache_repo(std::string_view value, registry::Client* client) {
  if (value.starts_with("oci:")) {
    auto path = value.substr(4);
    if (path.empty()) return fail(ErrorKind::invalid_argument, "--cache-repo oci: needs a path");
    return make_oci_layout_repo(std::string(path));
  }
  if (!client) return fail(ErrorKind::invalid_argument, "--cache-repo " + std::string(value) + ": no registry client");
  return make_registry_repo(*client, value);
}

Result<std::string> default_cache_repo(std::string_view first_destination) {
  auto ref = image::Reference::parse(first_destination);
  if (!ref) return fail(ref.error().with_context("default --cache-repo from destination"));
  return ref->name() + "/cache";
}

}  // namespace strata::cache
