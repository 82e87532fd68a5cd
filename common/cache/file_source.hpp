// FileSource: a re-readable upload source over a file (registry uploads retry from the start).
// Owned by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "registry/client.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::cache {

class FileSource final : public registry::BlobSource {
 public:
  // Errors: not_found/io/denied opening the file.
  static Result<std::unique_ptr<FileSource>> open(const std::string& path);
  std::uint64_t size() const override { return m_size; }
  Result<std::size_t> read(char* buf, std::size_t n) override;
  Result<void> rewind() override {
    m_offset = 0;
    return {};
  }

 private:
  FileSource(util::Fd fd, std::string path, std::uint64_t size)
      : m_fd(std::move(fd)), m_path(std::move(path)), m_size(size) {}
  util::Fd m_fd;
  std::string m_path;
  std::uint64_t m_size;
  std::uint64_t m_offset = 0;
};

}  // namespace strata::cache
