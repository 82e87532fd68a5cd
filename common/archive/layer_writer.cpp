#include "archive/layer_writer.hpp"

namespace strata::archive {

Result<std::unique_ptr<LayerWriter>> LayerWriter::open(Sink& out, const LayerOptions& options) {
  std::unique_ptr<LayerWriter> writer(new LayerWriter(out));
  writer->m_compression = options.compression;
  writer->m_compressor = TRY(make_compressor(options.compression, options.level, writer->m_blob_hash));
  writer->m_tar_hash = std::make_unique<HashingSink>(*writer->m_compressor);
  writer->m_tar = TRY(TarWriter::open(*writer->m_tar_hash, options.tar));
  return writer;
}

Result<LayerDigests> LayerWriter::finish() {
  TRY(m_tar->finish());
  TRY(m_compressor->finish());
  LayerDigests out;
  out.compression = m_compression;
  out.uncompressed_size = m_tar_hash->bytes();
  out.diff_id = m_tar_hash->digest();
  out.size = m_blob_hash.bytes();
  out.digest = m_blob_hash.digest();
  return out;
}

}  // namespace strata::archive
