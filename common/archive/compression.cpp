#include "archive/compression.hpp"

#include <cstring>
#include <string>

#include "archive/codecs.hpp"

namespace strata::archive {
namespace {

// Serves the bytes peeked for format detection, then the rest of the stream, counting all of it
// so the bomb guard knows how much compressed input produced the output.
class PeekedSource final : public Source {
 public:
  PeekedSource(Source& in, std::string head) : m_in(in), m_head(std::move(head)) {}

  Result<std::size_t> read(void* buf, std::size_t n) override {
    std::size_t got = 0;
    if (m_pos < m_head.size()) {
      got = std::min(n, m_head.size() - m_pos);
      std::memcpy(buf, m_head.data() + m_pos, got);
      m_pos += got;
    } else {
      got = TRY(m_in.read(buf, n));
    }
    m_count += got;
    return got;
  }
  std::uint64_t count() const { return m_count; }

 private:
  Source& m_in;
  std::string m_head;
  std::size_t m_pos = 0;
  std::uint64_t m_count = 0;
};

class DecodedSource final : public Source {
 public:
  DecodedSource(Source& in, std::string head, DecompressOptions options)
      : m_raw(in, std::move(head)), m_options(options) {}

  Result<void> start(Compression c) {
    if (c == Compression::gzip) m_codec = TRY(detail::make_gzip_decompressor(m_raw));
    if (c == Compression::zstd) m_codec = TRY(detail::make_zstd_decompressor(m_raw));
    return {};
  }

  Result<std::size_t> read(void* buf, std::size_t n) override {
    if (!m_codec) return m_raw.read(buf, n);
    std::size_t got = TRY(m_codec->read(buf, n));
    m_out += got;
    if (m_out > m_options.ratio_floor_bytes && m_options.max_ratio > 0 &&
        m_out / std::max<std::uint64_t>(m_raw.count(), 1) > m_options.max_ratio) {
      return fail(ErrorKind::corrupt, "decompression ratio above " + std::to_string(m_options.max_ratio) +
                                          ":1 (" + std::to_string(m_out) + " bytes from " +
                                          std::to_string(m_raw.count()) + "): refusing a possible bomb");
    }
    return got;
  }

 private:
  PeekedSource m_raw;
  DecompressOptions m_options;
  std::unique_ptr<Source> m_codec;
  std::uint64_t m_out = 0;
};

}  // namespace

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "none";
}

Result<Compression> parse_compression(std::string_view text) {
  if (text == "none" || text == "uncompressed") return Compression::none;
  if (text == "gzip") return Compression::gzip;
  if (text == "zstd") return Compression::zstd;
  return fail(ErrorKind::invalid_argument,
              "unknown compression \"" + std::string(text) + "\" (expected gzip, zstd or none)");
}

Compression detect_compression(std::string_view head) {
  if (head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b') return Compression::gzip;
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) return Compression::zstd;
  return Compression::none;
}

int isal_level_for(int gzip_level) {
  if (gzip_level <= 1) return 0;
  if (gzip_level <= 3) return 1;
  if (gzip_level <= 6) return 2;
  return 3;
}

Result<std::unique_ptr<Compressor>> make_compressor(Compression compression, int level, Sink& out) {
  switch (compression) {
    case Compression::gzip:
      if (level > 9) return fail(ErrorKind::invalid_argument, "gzip compression level must be 1-9, got " + std::to_string(level));
      return detail::make_gzip_compressor(isal_level_for(level <= 0 ? 6 : level), out);
    case Compression::zstd:
      if (level > 19) return fail(ErrorKind::invalid_argument, "zstd compression level must be 1-19, got " + std::to_string(level));
      return detail::make_zstd_compressor(level <= 0 ? 3 : level, out);
    case Compression::none: break;
  }
  // A pass-through keeps the pipeline shape identical for uncompressed layers.
  class Passthrough final : public Compressor {
   public:
    explicit Passthrough(Sink& next) : m_next(next) {}
    Result<void> write(const void* d, std::size_t n) override { return m_next.write(d, n); }
    Result<void> finish() override { return {}; }

   private:
    Sink& m_next;
  };
  return std::unique_ptr<Compressor>(std::make_unique<Passthrough>(out));
}

Result<std::unique_ptr<Source>> open_decompressed(Source& in, const DecompressOptions& options,
                                                  Compression* detected) {
  std::string head(4, '\0');
  std::size_t have = 0;
  while (have < head.size()) {
    std::size_t got = TRY(in.read(head.data() + have, head.size() - have));
    if (got == 0) break;
    have += got;
  }
  head.resize(have);
  Compression c = detect_compression(head);
  if (detected) *detected = c;
  auto source = std::make_unique<DecodedSource>(in, std::move(head), options);
  TRY(source->start(c));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace strata::archive
