#include "archive/stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace strata::archive {

Result<std::size_t> FdSource::read(void* buf, std::size_t n) {
  for (;;) {
    ssize_t got = ::read(m_fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno == EINTR) continue;
    return fail_errno("read " + m_name, errno);
  }
}

Result<void> FdSink::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t put = ::write(m_fd, p, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + m_name, errno);
    }
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return {};
}

Result<std::size_t> MemorySource::read(void* buf, std::size_t n) {
  std::size_t take = std::min(n, m_data.size());
  std::memcpy(buf, m_data.data(), take);
  m_data.remove_prefix(take);
  return take;
}

Result<void> HashingSink::write(const void* data, std::size_t n) {
  m_hasher.update(data, n);
  return m_next.write(data, n);
}

Result<std::size_t> HashingSource::read(void* buf, std::size_t n) {
  std::size_t got = TRY(m_next.read(buf, n));
  m_hasher.update(buf, got);
  return got;
}

Result<std::uint64_t> copy_stream(Source& source, Sink& sink) {
  std::vector<char> buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    std::size_t got = TRY(source.read(buf.data(), buf.size()));
    if (got == 0) return total;
    TRY(sink.write(buf.data(), got));
    total += got;
  }
}

}  // namespace strata::archive
