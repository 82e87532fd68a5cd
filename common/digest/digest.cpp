#include "digest/digest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <openssl/evp.h>

#include "util/fd.hpp"

namespace strata::digest {
namespace {

std::size_t hex_length(Algorithm a) { return a == Algorithm::sha256 ? 64 : 128; }

const EVP_MD* evp_md(Algorithm a) { return a == Algorithm::sha256 ? EVP_sha256() : EVP_sha512(); }

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Result<Digest> Digest::from_hex(Algorithm algorithm, std::string_view hex) {
  if (hex.size() != hex_length(algorithm)) {
    return fail(ErrorKind::invalid_argument, "invalid digest: expected " + std::to_string(hex_length(algorithm)) +
                                                 " hex characters, got " + std::to_string(hex.size()));
  }
  bool all_hex = true;  // no early exit: a branch-free loop the compiler vectorises
  for (char c : hex) all_hex &= (c >= '0' && c <= '9') | (c >= 'a' && c <= 'f');
  if (!all_hex) {
    return fail(ErrorKind::invalid_argument, "invalid digest: '" + std::string(hex.substr(0, 80)) +
                                                 "' is not lowercase hex");
  }
  Digest d;
  d.m_algorithm = algorithm;
  d.m_hex = std::string(hex);
  return d;
}

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(ErrorKind::invalid_argument,
                "invalid digest '" + std::string(text.substr(0, 100)) + "': expected algorithm:hex");
  }
  std::string_view algo = text.substr(0, colon);
  Algorithm a;
  if (algo == "sha256") a = Algorithm::sha256;
  else if (algo == "sha512") a = Algorithm::sha512;
  else {
    bool well_formed = true;
    for (char c : algo) well_formed = well_formed && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '_' || c == '-');
    return fail(well_formed ? ErrorKind::unsupported : ErrorKind::invalid_argument,
                "unsupported digest algorithm '" + std::string(algo.substr(0, 40)) + "'");
  }
  auto r = from_hex(a, text.substr(colon + 1));
  if (!r) return fail(r.error().with_context("'" + std::string(text.substr(0, 140)) + "'"));
  return r;
}

std::string_view Digest::algorithm_name() const {
  return m_algorithm == Algorithm::sha256 ? "sha256" : "sha512";
}

std::string Digest::str() const {
  if (!valid()) return "";
  std::string out(algorithm_name());
  out += ':';
  out += m_hex;
  return out;
}

struct Hasher::Impl {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
};

Hasher::Hasher(Algorithm algorithm) : m_impl(std::make_unique<Impl>()), m_algorithm(algorithm) {
  EVP_DigestInit_ex(m_impl->ctx.get(), evp_md(m_algorithm), nullptr);
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(m_impl->ctx.get(), data, size);
  m_bytes += size;
}

namespace {
Digest finish_ctx(EVP_MD_CTX* ctx, Algorithm algorithm) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  static const char* hexdigits = "0123456789abcdef";
  std::string hex(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = hexdigits[md[i] >> 4];
    hex[2 * i + 1] = hexdigits[md[i] & 15];
  }
  return *Digest::from_hex(algorithm, hex);
}
}  // namespace

Digest Hasher::finish() {
  Digest d = finish_ctx(m_impl->ctx.get(), m_algorithm);
  EVP_DigestInit_ex(m_impl->ctx.get(), evp_md(m_algorithm), nullptr);
  m_bytes = 0;
  return d;
}

Digest Hasher::peek() const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> copy{EVP_MD_CTX_new()};
  EVP_MD_CTX_copy_ex(copy.get(), m_impl->ctx.get());
  return finish_ctx(copy.get(), m_algorithm);
}

Digest sha256(std::string_view data) {
  Hasher h;
  h.update(data);
  return h.finish();
}

Result<Digest> hash_file(const std::string& path, Algorithm algorithm, std::uint64_t* size_out) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path, errno);
  Hasher h(algorithm);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path, errno);
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  if (size_out) *size_out = h.bytes();
  return h.finish();
}

}  // namespace strata::digest
