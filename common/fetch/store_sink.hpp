// StoreSink: a registry::BlobSink that streams a blob into a BlobStore through a BlobWriter, so
// the bytes become visible under blobs/ only once complete and verified (commit()). restart()
// drops what was written (the client restarts a body it cannot resume). The writer hashes every
// byte, so the client verifies with that hash instead of computing a second one.
//
// Thread safety: one sink per blob, used by one thread.
#pragma once

#include <optional>

#include "registry/client.hpp"
#include "store/blob_store.hpp"
#include "util/progress.hpp"

namespace strata::fetch {

class StoreSink final : public registry::BlobSink {
 public:
  // blobs (and progress, when not null) must outlive the sink.
  StoreSink(const store::BlobStore& blobs, store::BlobExpectation expect, util::Progress* progress = nullptr)
      : m_blobs(blobs), m_expect(std::move(expect)), m_progress(progress) {}

  Result<void> write(const char* data, std::size_t size) override {
    if (!m_writer) m_writer.emplace(TRY(m_blobs.writer(m_expect)));
    TRY(m_writer->write(data, size));
    if (m_progress) m_progress->add(size);
    return {};
  }
  Result<void> restart() override {
    if (m_writer) m_writer->abort();
    m_writer.reset();
    return {};
  }
  bool hashes_written(digest::Algorithm algorithm) const override { return algorithm == this->algorithm(); }
  digest::Digest written_digest() const override {
    return m_writer ? m_writer->digest_so_far() : digest::Hasher(algorithm()).finish();
  }
  // Verifies and publishes the blob (an empty blob too). Errors: corrupt, io, no_space.
  Result<store::CommittedBlob> commit() {
    if (!m_writer) m_writer.emplace(TRY(m_blobs.writer(m_expect)));
    return m_writer->commit();
  }

 private:
  digest::Algorithm algorithm() const {
    return m_expect.digest ? m_expect.digest->algorithm() : digest::Algorithm::sha256;
  }

  const store::BlobStore& m_blobs;
  store::BlobExpectation m_expect;
  util::Progress* m_progress;
  std::optional<store::BlobWriter> m_writer;
};

}  // namespace strata::fetch
