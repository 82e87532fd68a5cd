// Content digests ("sha256:<64 hex>") and streaming hashing with OpenSSL EVP.
//
// Digest is a validated value: it can only hold a supported algorithm (sha256, sha512) and a
// lowercase hex string of that algorithm's length, so anything holding a Digest may use it in a
// path (blobs/sha256/<hex>) without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::digest {

enum class Algorithm { sha256, sha512 };

class Digest {
 public:
  Digest() = default;  // an empty digest; valid() is false

  // Parses "sha256:<hex>". Errors (invalid_argument / unsupported) name the offending text.
  static Result<Digest> parse(std::string_view text);
  // Builds from an algorithm and a hex string of the right length.
  static Result<Digest> from_hex(Algorithm algorithm, std::string_view hex);

  bool valid() const { return !m_hex.empty(); }
  Algorithm algorithm() const { return m_algorithm; }
  std::string_view algorithm_name() const;
  const std::string& hex() const { return m_hex; }
  std::string str() const;  // "sha256:<hex>"

  friend bool operator==(const Digest& a, const Digest& b) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) {
    if (auto c = a.m_algorithm <=> b.m_algorithm; c != 0) return c;
    return a.m_hex <=> b.m_hex;
  }

 private:
  Algorithm m_algorithm = Algorithm::sha256;
  std::string m_hex;
};

// Streaming hasher. Not thread-safe; cheap to move.
class Hasher {
 public:
  explicit Hasher(Algorithm algorithm = Algorithm::sha256);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::uint64_t bytes() const { return m_bytes; }
  // Finishes and returns the digest; the hasher is reset and may be reused.
  Digest finish();
  // The digest of everything so far, leaving the hasher as it was (more updates may follow).
  Digest peek() const;
  Algorithm algorithm() const { return m_algorithm; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  Algorithm m_algorithm;
  std::uint64_t m_bytes = 0;
};

Digest sha256(std::string_view data);

// Hashes a whole file, streaming. Errors: not_found/io.
Result<Digest> hash_file(const std::string& path, Algorithm algorithm = Algorithm::sha256,
                         std::uint64_t* size_out = nullptr);

}  // namespace strata::digest

template <>
struct std::hash<strata::digest::Digest> {
  std::size_t operator()(const strata::digest::Digest& d) const noexcept {
    return std::hash<std::string>()(d.hex());
  }
};
