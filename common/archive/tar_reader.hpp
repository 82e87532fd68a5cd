// Streaming tar reader (libarchive; ustar, pax and GNU formats) over an uncompressed Source, with
// limits against hostile input. Decompression is the caller's business (open_decompressed), so
// that the same byte stream can be hashed for the diff_id.
//
// Ownership: the reader keeps a reference to the Source, which must outlive it.
// Errors: corrupt for malformed archives and exceeded limits (the message names the entry);
// errors of the Source are passed through unchanged.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "archive/stream.hpp"
#include "archive/tar_entry.hpp"
#include "util/result.hpp"

struct archive;

namespace strata::archive {

struct ReaderLimits {
  std::uint64_t max_entries = 10'000'000;
  std::size_t max_path_bytes = 4096;          // PATH_MAX: longer names cannot be created anyway
  std::size_t max_header_bytes = 1u << 20;    // path + link target + all xattrs of one entry
};

class TarReader {
 public:
  static Result<std::unique_ptr<TarReader>> open(Source& in, const ReaderLimits& limits = {});
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry's header, or nullopt at the end of the archive. Unread data of the previous
  // entry is skipped.
  Result<std::optional<TarEntry>> next();

  // The next piece of the current entry's data: `offset` is where it goes in the file (sparse
  // archives leave holes). Returns an empty span-like {nullptr, 0} at the end of the entry.
  struct Block {
    const void* data = nullptr;
    std::size_t size = 0;
    std::int64_t offset = 0;
  };
  Result<Block> read_block();

  std::uint64_t entries() const { return m_entries; }

 private:
  TarReader(Source& in, const ReaderLimits& limits);
  static long read_callback(::archive* a, void* self, const void** buffer);
  Error error(std::string_view what);

  Source& m_in;
  ReaderLimits m_limits;
  std::unique_ptr<::archive, int (*)(::archive*)> m_archive;
  std::unique_ptr<char[]> m_buffer;
  std::optional<Error> m_source_error;
  std::string m_current;
  std::uint64_t m_entries = 0;
};

}  // namespace strata::archive
