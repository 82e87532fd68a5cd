#include "build/layer_commit.hpp"

#include "fs/walker.hpp"

namespace strata::build {

namespace {

// Adapts a BlobWriter to the archive Sink interface.
class BlobWriterSink final : public archive::Sink {
 public:
  explicit BlobWriterSink(store::BlobWriter& writer) : m_writer(writer) {}
  Result<void> write(const void* data, std::size_t n) override { return m_writer.write(data, n); }

 private:
  store::BlobWriter& m_writer;
};

archive::TarEntry hardlink_meta(const fs::Change& change) {
  archive::TarEntry e;
  e.type = archive::EntryType::hardlink;
  e.mode = change.meta.permissions();
  e.uid = change.meta.uid;
  e.gid = change.meta.gid;
  e.mtime = change.meta.mtime_ns / 1000000000;
  return e;
}

}  // namespace

Result<std::optional<LayerBlob>> commit_layer(const std::vector<fs::Change>& changes, const std::string& root,
                                              const store::BlobStore& blobs, const archive::LayerOptions& options,
                                              ManifestFormat format) {
  if (changes.empty()) return std::optional<LayerBlob>();
  auto writer = TRY(blobs.writer());
  BlobWriterSink sink(writer);
  auto layer = TRY(archive::LayerWriter::open(sink, options));
  const std::string prefix = root == "/" ? "/" : root + "/";
  for (const auto& change : changes) {
    if (change.kind == fs::ChangeKind::deleted) {
      TRY(layer->tar().add_whiteout(change.path));
    } else if (!change.hardlink_to.empty()) {
      TRY(layer->tar().add_hardlink(change.path, change.hardlink_to, hardlink_meta(change)));
    } else {
      TRY(layer->tar().add_path(prefix + change.path, change.path));
    }
  }
  auto digests = TRY(layer->finish());
  auto committed = TRY(writer.commit());
  if (committed.digest != digests.digest) {
    return fail(ErrorKind::internal, "layer digest mismatch: writer " + committed.digest.str() + ", tar pipeline " +
                                         digests.digest.str());
  }
  LayerBlob blob;
  blob.descriptor.media_type = layer_media_type(format, digests.compression);
  blob.descriptor.digest = digests.digest;
  blob.descriptor.size = static_cast<std::int64_t>(digests.size);
  blob.diff_id = digests.diff_id;
  blob.path = blobs.path(digests.digest);
  return std::optional<LayerBlob>(std::move(blob));
}

std::vector<fs::Change> drop_masked(std::vector<fs::Change> changes, const std::vector<std::string>& masked) {
  if (masked.empty()) return changes;
  auto is_masked = [&](std::string_view path) {
    for (const auto& m : masked) {
      std::string_view clean = m;
      while (!clean.empty() && clean.front() == '/') clean.remove_prefix(1);
      if (!clean.empty() && fs::path_is_under(path, clean)) return true;
    }
    return false;
  };
  std::vector<fs::Change> kept;
  kept.reserve(changes.size());
  for (auto& c : changes) {
    if (!is_masked(c.path)) kept.push_back(std::move(c));
  }
  // A parent entry stays only if a real change lies below it.
  std::vector<fs::Change> out;
  out.reserve(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept[i].kind == fs::ChangeKind::parent) {
      bool needed = false;
      for (std::size_t j = i + 1; j < kept.size() && fs::path_is_under(kept[j].path, kept[i].path); ++j) {
        if (kept[j].kind != fs::ChangeKind::parent) {
          needed = true;
          break;
        }
      }
      if (!needed) continue;
    }
    out.push_back(std::move(kept[i]));
  }
  return out;
}

}  // namespace strata::build
