// Streaming tar writer for layers: PAX (libarchive's "restricted pax": plain ustar headers unless
// a name, link target, id or xattr needs an extended header), numeric uid/gid without user/group
// names (as buildah), xattrs as SCHILY.xattr.* records, names relative without "./" and with a
// trailing "/" on directories, whiteouts as docker writes them (empty regular file, mode 0).
//
// The caller adds entries in layer order (parents before children: the sorted change list).
// Regular files are streamed from disk; memory does not grow with file or layer size, only with
// the number of multiply-linked files seen (for hardlink detection).
//
// Ownership: keeps a reference to the Sink, which must outlive it. finish() writes the end of
// archive; without it the output is not a valid tar.
// Errors: invalid_argument for unusable entries (bad name, content size mismatch), io for files
// that cannot be read or that shrink while being archived, errors of the Sink passed through.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "archive/stream.hpp"
#include "archive/tar_entry.hpp"
#include "util/result.hpp"

struct archive;

namespace strata::archive {

enum class MtimePolicy {
  preserve,  // the file's mtime (whole seconds)
  clamp,     // min(mtime, epoch): SOURCE_DATE_EPOCH
  set,       // always epoch (--reproducible uses 0)
};

struct WriterOptions {
  MtimePolicy mtime_policy = MtimePolicy::preserve;
  std::int64_t epoch = 0;
};

// Normalizes a layer path: strips leading "/" and "./", collapses "//"; no trailing "/".
// Errors: invalid_argument for "", "." or names with ".." components.
Result<std::string> normalize_layer_path(std::string_view path);

class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> open(Sink& out, const WriterOptions& options = {});
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Adds what is at `disk_path` (lstat: symlinks are not followed) under `tar_path`. A regular
  // file with several links whose (dev, ino) was already added becomes a hardlink to the first
  // name. Sockets are skipped (returns success, nothing written).
  Result<void> add_path(const std::string& disk_path, std::string_view tar_path);

  // A hardlink entry `tar_path` → `target_tar_path` (an earlier entry of this layer or of a lower
  // layer), for callers that know link groups themselves.
  Result<void> add_hardlink(std::string_view tar_path, std::string_view target_tar_path, const TarEntry& meta);

  // An entry from metadata and in-memory content (COPY heredocs, ADD of URLs): regular files take
  // `content` (entry.size is ignored); other types must pass empty content. The entry's mtime
  // goes through the mtime policy like any other.
  Result<void> add_entry(const TarEntry& entry, std::string_view content = {});
  // As add_entry, streaming exactly entry.size bytes of content from `content`.
  Result<void> add_entry(const TarEntry& entry, Source& content);

  // `deleted_path` → "<parent>/.wh.<name>"; `dir_path` → "<dir>/.wh..wh..opq".
  Result<void> add_whiteout(std::string_view deleted_path);
  Result<void> add_opaque(std::string_view dir_path);

  Result<void> finish();

  std::uint64_t entries() const { return m_entries; }

 private:
  TarWriter(Sink& out, const WriterOptions& options);
  static long write_callback(::archive* a, void* self, const void* buffer, std::size_t n);
  Error error(std::string_view what);
  Result<void> write_header(TarEntry entry);
  Result<void> write_data(const void* data, std::size_t n, std::string_view name);
  std::int64_t apply_policy(std::int64_t mtime) const;

  Sink& m_out;
  WriterOptions m_options;
  std::unique_ptr<::archive, int (*)(::archive*)> m_archive;
  std::optional<Error> m_sink_error;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> m_links;
  std::uint64_t m_entries = 0;
  bool m_finished = false;
};

}  // namespace strata::archive
