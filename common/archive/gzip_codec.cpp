// gzip through ISA-L's igzip. Compression writes one gzip member with ISA-L's generic header
// (mtime 0, no name: deterministic output); decompression lets ISA-L parse the header and check the
// CRC-32/ISIZE trailer of every member, and continues with the next member while input remains, as
// GNU gzip and Go's gzip.Reader (multistream by default) do.
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "archive/codecs.hpp"

namespace strata::archive::detail {
namespace {

constexpr std::size_t k_buffer_size = 256 * 1024;

class GzipCompressor final : public Compressor {
 public:
  GzipCompressor(int level, Sink& out)
      : m_out(out), m_stream(std::make_unique<isal_zstream>()), m_buffer(k_buffer_size) {
    isal_deflate_init(m_stream.get());
    m_stream->gzip_flag = IGZIP_GZIP;
    m_stream->level = static_cast<uint32_t>(level);
    std::size_t level_size = 0;
    switch (level) {
      case 1: level_size = ISAL_DEF_LVL1_DEFAULT; break;
      case 2: level_size = ISAL_DEF_LVL2_DEFAULT; break;
      case 3: level_size = ISAL_DEF_LVL3_DEFAULT; break;
      default: break;
    }
    if (level_size > 0) {
      m_level_buffer.resize(level_size);
      m_stream->level_buf = m_level_buffer.data();
      m_stream->level_buf_size = static_cast<uint32_t>(level_size);
    }
    m_stream->flush = NO_FLUSH;
  }

  Result<void> write(const void* data, std::size_t n) override {
    if (m_finished) return fail(ErrorKind::internal, "gzip: write after finish");
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      auto chunk = static_cast<uint32_t>(std::min<std::size_t>(n, UINT32_MAX / 2));
      m_stream->next_in = const_cast<uint8_t*>(p);
      m_stream->avail_in = chunk;
      while (m_stream->avail_in > 0) TRY(step());
      p += chunk;
      n -= chunk;
    }
    return {};
  }

  Result<void> finish() override {
    if (m_finished) return fail(ErrorKind::internal, "gzip: finish called twice");
    m_finished = true;
    m_stream->end_of_stream = 1;
    m_stream->avail_in = 0;
    while (m_stream->internal_state.state != ZSTATE_END) TRY(step());
    return {};
  }

 private:
  Result<void> step() {
    m_stream->next_out = m_buffer.data();
    m_stream->avail_out = static_cast<uint32_t>(m_buffer.size());
    int rc = isal_deflate(m_stream.get());
    if (rc != COMP_OK) return fail(ErrorKind::internal, "gzip: isal_deflate failed (" + std::to_string(rc) + ")");
    std::size_t produced = m_buffer.size() - m_stream->avail_out;
    if (produced > 0) TRY(m_out.write(m_buffer.data(), produced));
    return {};
  }

  Sink& m_out;
  std::unique_ptr<isal_zstream> m_stream;
  std::vector<uint8_t> m_level_buffer;
  std::vector<uint8_t> m_buffer;
  bool m_finished = false;
};

std::string inflate_error(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip method";
    case ISAL_INCORRECT_CHECKSUM: return "gzip checksum mismatch";
    case ISAL_NEED_DICT: return "deflate stream needs a preset dictionary";
    default: return "inflate error " + std::to_string(rc);
  }
}

class GzipDecompressor final : public Source {
 public:
  explicit GzipDecompressor(Source& in)
      : m_in(in), m_state(std::make_unique<inflate_state>()), m_buffer(k_buffer_size) {
    isal_inflate_init(m_state.get());
    m_state->crc_flag = ISAL_GZIP;
  }

  Result<std::size_t> read(void* buf, std::size_t n) override {
    if (n == 0) return 0;
    for (;;) {
      if (m_member_done) {
        TRY(refill_if_empty());
        if (m_state->avail_in == 0) return 0;  // clean end after a complete member
        start_next_member();
      }
      TRY(refill_if_empty());
      m_state->next_out = static_cast<uint8_t*>(buf);
      m_state->avail_out = static_cast<uint32_t>(std::min<std::size_t>(n, UINT32_MAX / 2));
      uint32_t room = m_state->avail_out;
      int rc = isal_inflate(m_state.get());
      if (rc < 0 || rc == ISAL_NEED_DICT) return fail(ErrorKind::corrupt, "gzip: " + inflate_error(rc));
      std::size_t produced = room - m_state->avail_out;
      if (m_state->block_state == ISAL_BLOCK_FINISH) m_member_done = true;
      if (produced > 0) return produced;
      if (!m_member_done && m_state->avail_in == 0 && m_eof)
        return fail(ErrorKind::corrupt, "gzip: unexpected end of compressed stream (truncated)");
    }
  }

 private:
  Result<void> refill_if_empty() {
    if (m_state->avail_in > 0 || m_eof) return {};
    std::size_t got = TRY(m_in.read(m_buffer.data(), m_buffer.size()));
    if (got == 0) m_eof = true;
    m_state->next_in = m_buffer.data();
    m_state->avail_in = static_cast<uint32_t>(got);
    return {};
  }

  void start_next_member() {
    uint8_t* next_in = m_state->next_in;
    uint32_t avail_in = m_state->avail_in;
    isal_inflate_reset(m_state.get());
    m_state->crc_flag = ISAL_GZIP;
    m_state->next_in = next_in;
    m_state->avail_in = avail_in;
    m_member_done = false;
  }

  Source& m_in;
  std::unique_ptr<inflate_state> m_state;
  std::vector<uint8_t> m_buffer;
  bool m_eof = false;
  bool m_member_done = false;
};

}  // namespace

Result<std::unique_ptr<Compressor>> make_gzip_compressor(int isal_level, Sink& out) {
  if (isal_level < 0 || isal_level > 3)
    return fail(ErrorKind::invalid_argument, "gzip: ISA-L level must be 0-3, got " + std::to_string(isal_level));
  return std::unique_ptr<Compressor>(std::make_unique<GzipCompressor>(isal_level, out));
}

Result<std::unique_ptr<Source>> make_gzip_decompressor(Source& in) {
  return std::unique_ptr<Source>(std::make_unique<GzipDecompressor>(in));
}

}  // namespace strata::archive::detail
