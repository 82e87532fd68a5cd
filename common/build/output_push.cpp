#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "build/outputs.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::build {

namespace {

// A registry upload source over a blob file (re-readable from the start for retries).
class FileBlobSource final : public registry::BlobSource {
 public:
  static Result<std::unique_ptr<FileBlobSource>> open(const std::string& path) {
    util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("open " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path, errno);
    return std::unique_ptr<FileBlobSource>(new FileBlobSource(std::move(fd), path, static_cast<std::uint64_t>(st.st_size)));
  }
  std::uint64_t size() const override { return m_size; }
  Result<std::size_t> read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t r = ::pread(m_fd.get(), buf, n, static_cast<off_t>(m_offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return fail_errno("read " + m_path, errno);
      m_offset += static_cast<std::uint64_t>(r);
      return static_cast<std::size_t>(r);
    }
  }
  Result<void> rewind() override {
    m_offset = 0;
    return {};
  }

 private:
  FileBlobSource(util::Fd fd, std::string path, std::uint64_t size)
      : m_fd(std::move(fd)), m_path(std::move(path)), m_size(size) {}
  util::Fd m_fd;
  std::string m_path;
  std::uint64_t m_size;
  std::uint64_t m_offset = 0;
};

struct RepoKey {
  std::string registry, repository;
  auto operator<=>(const RepoKey&) const = default;
};

Result<void> push_layer(registry::Client& client, const image::Reference& repo, const LayerBlob& layer,
                        const std::optional<image::Reference>& base) {
  const auto& d = layer.descriptor.digest;
  auto present = TRY(client.blob_size(repo, d, registry::Purpose::push));
  if (present) {
    log::debug("layer " + d.str() + " already in " + repo.name());
    return {};
  }
  if (base && base->registry() == repo.registry() && base->repository() != repo.repository()) {
    auto mounted = client.mount_blob(repo, d, base->repository());
    if (mounted && *mounted) {
      log::debug("layer " + d.str() + " mounted from " + base->repository());
      return {};
    }
  }
  auto source = TRY(FileBlobSource::open(layer.path));
  TRY_CTX(client.upload_blob(repo, d, *source), "push layer " + d.str() + " to " + repo.name());
  return {};
}

Result<void> push_layers(registry::Client& client, const image::Reference& repo, const AssembledImage& image,
                         int parallel) {
  // An image may list one layer twice (two steps with the same changes); each digest is pushed
  // once, since two concurrent uploads of one blob race inside distribution 2.8.
  std::vector<const LayerBlob*> unique;
  std::set<std::string> seen;
  for (const auto& l : image.layers)
    if (seen.insert(l.descriptor.digest.str()).second) unique.push_back(&l);
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (;;) {
      std::size_t i = next++;
      if (i >= unique.size()) return;
      {
        std::lock_guard lock(mutex);
        if (first_error) return;
      }
      auto r = push_layer(client, repo, *unique[i], image.base_reference);
      if (!r) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = r.error();
      }
    }
  };
  std::size_t n = std::min<std::size_t>(std::max(parallel, 1), unique.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (first_error) return fail(*first_error);
  return {};
}

}  // namespace

Result<digest::Digest> push_image(registry::Client& client, const AssembledImage& image,
                                  const std::vector<image::Reference>& destinations, const PushOptions& options) {
  std::map<RepoKey, std::vector<image::Reference>> by_repo;
  for (const auto& d : destinations) by_repo[{d.registry(), d.repository()}].push_back(d);
  for (const auto& [key, refs] : by_repo) {
    const auto& repo = refs.front();
    TRY(push_layers(client, repo, image, options.parallel_uploads));
    registry::BytesBlobSource config(image.config_bytes);
    TRY_CTX(client.upload_blob(repo, image.config_digest, config), "push config to " + repo.name());
    for (const auto& ref : refs) {
      auto pushed = TRY_CTX(client.put_manifest(ref, image.manifest_bytes, image.manifest_media_type),
                            "push manifest to " + ref.str());
      if (pushed != image.manifest_digest) {
        return fail(ErrorKind::corrupt, "push " + ref.str() + ": registry digest " + pushed.str() + " differs from " +
                                            image.manifest_digest.str());
      }
      log::info("pushed " + ref.str(), {{"digest", image.manifest_digest.str()}});
    }
  }
  return image.manifest_digest;
}

}  // namespace strata::build
