// Layer compression: gzip (ISA-L igzip, streaming), zstd (streaming) or none, with the format of
// an incoming blob detected from its magic bytes rather than trusted from a media type.
//
// Compressors are Sinks that compress into a downstream Sink; finish() must be called once after
// the last write to flush the stream end (a gzip trailer, a zstd frame epilogue). Decompressors
// are Sources over a compressed Source; they fail with ErrorKind::corrupt on truncated or damaged
// streams and on decompression bombs (output/input ratio above a limit once past a minimum size).
// Ownership: both keep a reference to the wrapped stream, which must outlive them.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "archive/stream.hpp"
#include "util/result.hpp"

namespace strata::archive {

enum class Compression { none, gzip, zstd };

std::string_view to_string(Compression c);
// "none"/"uncompressed", "gzip", "zstd". Errors: invalid_argument.
Result<Compression> parse_compression(std::string_view text);
// From the first bytes of a blob (4 are enough): gzip 1f 8b, zstd 28 b5 2f fd, anything else none.
Compression detect_compression(std::string_view head);

class Compressor : public Sink {
 public:
  // Flushes the end of the compressed stream into the downstream sink. Call exactly once.
  virtual Result<void> finish() = 0;
};

// `level` follows the user's --compression-level: for gzip 1-9 (mapped onto ISA-L's 0-3, see
// isal_level_for), for zstd 1-19; 0 or negative means the format's default (gzip 6, zstd 3).
// Errors: invalid_argument for an out-of-range level, internal if the library refuses to start.
Result<std::unique_ptr<Compressor>> make_compressor(Compression compression, int level, Sink& out);

// gzip 1-9 → ISA-L level: 1 → 0, 2-3 → 1, 4-6 → 2, 7-9 → 3.
int isal_level_for(int gzip_level);

struct DecompressOptions {
  // A bomb guard: fail once output exceeds both ratio_floor_bytes and max_ratio × input.
  std::uint64_t max_ratio = 1000;
  std::uint64_t ratio_floor_bytes = 100ull << 20;
};

// Peeks at `in` to detect its compression and returns a Source of the decompressed bytes (for
// Compression::none, a pass-through). `detected`, if given, receives the format.
// Multi-member gzip and multi-frame zstd streams are read whole, as Go and GNU tools do.
Result<std::unique_ptr<Source>> open_decompressed(Source& in, const DecompressOptions& options = {},
                                                  Compression* detected = nullptr);

}  // namespace strata::archive
