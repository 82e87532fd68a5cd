// zstd through libzstd's streaming API. Frames carry a content checksum so that damage is caught
// by the decoder; the decoder keeps zstd's default window limit (128 MiB) so a hostile frame cannot
// make it allocate more.
#include <zstd.h>

#include <string>
#include <vector>

#include "archive/codecs.hpp"

namespace strata::archive::detail {
namespace {

constexpr std::size_t k_buffer_size = 256 * 1024;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

class ZstdCompressor final : public Compressor {
 public:
  ZstdCompressor(std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx, Sink& out)
      : m_ctx(std::move(ctx)), m_out(out), m_buffer(k_buffer_size) {}

  Result<void> write(const void* data, std::size_t n) override {
    if (m_finished) return fail(ErrorKind::internal, "zstd: write after finish");
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) TRY(step(in, ZSTD_e_continue));
    return {};
  }

  Result<void> finish() override {
    if (m_finished) return fail(ErrorKind::internal, "zstd: finish called twice");
    m_finished = true;
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      std::size_t remaining = TRY(step(in, ZSTD_e_end));
      if (remaining == 0) return {};
    }
  }

 private:
  Result<std::size_t> step(ZSTD_inBuffer& in, ZSTD_EndDirective directive) {
    ZSTD_outBuffer out{m_buffer.data(), m_buffer.size(), 0};
    std::size_t rc = ZSTD_compressStream2(m_ctx.get(), &out, &in, directive);
    if (ZSTD_isError(rc)) return fail(ErrorKind::internal, std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (out.pos > 0) TRY(m_out.write(m_buffer.data(), out.pos));
    return rc;
  }

  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> m_ctx;
  Sink& m_out;
  std::vector<char> m_buffer;
  bool m_finished = false;
};

class ZstdDecompressor final : public Source {
 public:
  ZstdDecompressor(std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx, Source& in)
      : m_ctx(std::move(ctx)), m_in(in), m_buffer(k_buffer_size) {}

  Result<std::size_t> read(void* buf, std::size_t n) override {
    if (n == 0) return 0;
    for (;;) {
      if (m_input.pos == m_input.size) {
        if (!m_eof) {
          std::size_t got = TRY(m_in.read(m_buffer.data(), m_buffer.size()));
          m_input = ZSTD_inBuffer{m_buffer.data(), got, 0};
          if (got == 0) m_eof = true;
        }
        if (m_eof && m_input.pos == m_input.size) {
          if (m_frame_open) return fail(ErrorKind::corrupt, "zstd: unexpected end of compressed stream (truncated)");
          return 0;
        }
      }
      ZSTD_outBuffer out{buf, n, 0};
      std::size_t rc = ZSTD_decompressStream(m_ctx.get(), &out, &m_input);
      if (ZSTD_isError(rc)) return fail(ErrorKind::corrupt, std::string("zstd: ") + ZSTD_getErrorName(rc));
      m_frame_open = rc != 0;
      if (out.pos > 0) return out.pos;
    }
  }

 private:
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> m_ctx;
  Source& m_in;
  std::vector<char> m_buffer;
  ZSTD_inBuffer m_input{nullptr, 0, 0};
  bool m_eof = false;
  bool m_frame_open = true;
};

}  // namespace

Result<std::unique_ptr<Compressor>> make_zstd_compressor(int level, Sink& out) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  if (!ctx) return fail(ErrorKind::internal, "zstd: cannot allocate a compression context");
  for (auto [param, value] : {std::pair{ZSTD_c_compressionLevel, level}, std::pair{ZSTD_c_checksumFlag, 1}}) {
    std::size_t rc = ZSTD_CCtx_setParameter(ctx.get(), param, value);
    if (ZSTD_isError(rc)) return fail(ErrorKind::invalid_argument, std::string("zstd: ") + ZSTD_getErrorName(rc));
  }
  return std::unique_ptr<Compressor>(std::make_unique<ZstdCompressor>(std::move(ctx), out));
}

Result<std::unique_ptr<Source>> make_zstd_decompressor(Source& in) {
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (!ctx) return fail(ErrorKind::internal, "zstd: cannot allocate a decompression context");
  return std::unique_ptr<Source>(std::make_unique<ZstdDecompressor>(std::move(ctx), in));
}

}  // namespace strata::archive::detail
