// A layer being written: tar → (diff_id hash) → compressor → (blob digest hash) → Sink, in one
// streaming pass, so that the manifest's digest/size and the config's diff_id come out of the
// same write without reading the blob back.
//
// Usage: open(), add entries through tar(), then finish() once, which closes the tar, flushes the
// compressor and returns the digests. The Sink (a BlobWriter, a file, an upload) is not committed
// or closed here: the caller does that after finish() succeeds.
// Ownership: keeps a reference to the Sink. Thread safety: none.
#pragma once

#include <cstdint>
#include <memory>

#include "archive/compression.hpp"
#include "archive/stream.hpp"
#include "archive/tar_writer.hpp"
#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::archive {

struct LayerOptions {
  Compression compression = Compression::gzip;
  int level = 0;  // --compression-level; 0 = the format's default
  WriterOptions tar;
};

struct LayerDigests {
  digest::Digest diff_id;  // sha256 of the uncompressed tar (image config rootfs.diff_ids)
  digest::Digest digest;   // sha256 of the bytes written to the Sink (manifest layers[].digest)
  std::uint64_t size = 0;  // bytes written to the Sink
  std::uint64_t uncompressed_size = 0;
  Compression compression = Compression::gzip;
};

class LayerWriter {
 public:
  // Errors: invalid_argument for a bad compression level.
  static Result<std::unique_ptr<LayerWriter>> open(Sink& out, const LayerOptions& options = {});

  TarWriter& tar() { return *m_tar; }
  Result<LayerDigests> finish();

 private:
  explicit LayerWriter(Sink& out) : m_blob_hash(out) {}

  HashingSink m_blob_hash;
  std::unique_ptr<Compressor> m_compressor;
  std::unique_ptr<HashingSink> m_tar_hash;
  std::unique_ptr<TarWriter> m_tar;
  Compression m_compression = Compression::gzip;
};

}  // namespace strata::archive
