// Byte streams for the layer pipelines: a Source is pulled from (file, network body, decompressor),
// a Sink is pushed to (file, blob writer, upload, compressor). Layers flow through chains of these
// so that memory never grows with layer size.
//
// Ownership: adapters (HashingSource, HashingSink, compressors) hold a non-owning reference to the
// stream they wrap; the caller keeps that stream alive longer than the adapter.
// Thread safety: none; one pipeline is driven by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::archive {

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes into buf. Returns 0 only at the end of the stream; short reads are fine.
  virtual Result<std::size_t> read(void* buf, std::size_t n) = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes all n bytes or fails.
  virtual Result<void> write(const void* data, std::size_t n) = 0;
};

// Reads a file descriptor (not owned). Errors: io (from errno, named with `name`).
class FdSource final : public Source {
 public:
  FdSource(int fd, std::string name) : m_fd(fd), m_name(std::move(name)) {}
  Result<std::size_t> read(void* buf, std::size_t n) override;

 private:
  int m_fd;
  std::string m_name;
};

// Writes to a file descriptor (not owned), retrying short writes. Errors: io / no_space.
class FdSink final : public Sink {
 public:
  FdSink(int fd, std::string name) : m_fd(fd), m_name(std::move(name)) {}
  Result<void> write(const void* data, std::size_t n) override;

 private:
  int m_fd;
  std::string m_name;
};

// Reads from memory the caller keeps alive.
class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : m_data(data) {}
  Result<std::size_t> read(void* buf, std::size_t n) override;

 private:
  std::string_view m_data;
};

// Appends to a string (tests, small in-memory layers).
class StringSink final : public Sink {
 public:
  Result<void> write(const void* data, std::size_t n) override {
    m_data.append(static_cast<const char*>(data), n);
    return {};
  }
  const std::string& data() const { return m_data; }
  std::string take() { return std::move(m_data); }

 private:
  std::string m_data;
};

// Discards everything (draining, measuring).
class NullSink final : public Sink {
 public:
  Result<void> write(const void*, std::size_t) override { return {}; }
};

// Passes bytes through to `next` while computing their sha256 and count.
class HashingSink final : public Sink {
 public:
  explicit HashingSink(Sink& next) : m_next(next) {}
  Result<void> write(const void* data, std::size_t n) override;
  std::uint64_t bytes() const { return m_hasher.bytes(); }
  // Finishes the digest; call once, after the last write.
  digest::Digest digest() { return m_hasher.finish(); }

 private:
  Sink& m_next;
  digest::Hasher m_hasher;
};

// Passes bytes through from `next` while computing their sha256 and count.
class HashingSource final : public Source {
 public:
  explicit HashingSource(Source& next) : m_next(next) {}
  Result<std::size_t> read(void* buf, std::size_t n) override;
  std::uint64_t bytes() const { return m_hasher.bytes(); }
  digest::Digest digest() { return m_hasher.finish(); }

 private:
  Source& m_next;
  digest::Hasher m_hasher;
};

// Reads `source` to its end, writing everything to `sink`. Returns the byte count.
Result<std::uint64_t> copy_stream(Source& source, Sink& sink);

}  // namespace strata::archive
