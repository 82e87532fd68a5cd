// Internal to common/archive: the concrete codecs behind compression.hpp's factories.
#pragma once

#include <memory>

#include "archive/compression.hpp"

namespace strata::archive::detail {

// `isal_level` is 0-3.
Result<std::unique_ptr<Compressor>> make_gzip_compressor(int isal_level, Sink& out);
Result<std::unique_ptr<Source>> make_gzip_decompressor(Source& in);

// `level` is zstd's own (1-19).
Result<std::unique_ptr<Compressor>> make_zstd_compressor(int level, Sink& out);
Result<std::unique_ptr<Source>> make_zstd_decompressor(Source& in);

}  // namespace strata::archive::detail
