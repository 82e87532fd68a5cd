#include "context/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <ctime>
#include <memory>

#include "auth/token.hpp"
#include "digest/digest.hpp"

namespace strata::context {

std::string sha256_hex(std::string_view data) {
  digest::Hasher h;
  h.update(data);
  return h.finish().hex();
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char *>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<char *>(out), len);
}

std::string hex(std::string_view bytes) {
  static const char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(k_hex[c >> 4]);
    out.push_back(k_hex[c & 15]);
  }
  return out;
}

std::string base64url(std::string_view data) {
  std::string s = auth::base64_encode(data);
  while (!s.empty() && s.back() == '=')
    s.pop_back();
  for (char &c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return s;
}

Result<std::string> rs256_sign(std::string_view pem_private_key,
                               std::string_view data) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem_private_key.data(),
                      static_cast<int>(pem_private_key.size())),
      &BIO_free);
  if (!bio)
    return fail(ErrorKind::internal, "cannot allocate an OpenSSL BIO");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
      &EVP_PKEY_free);
  if (!key)
    return fail(ErrorKind::invalid_argument,
                "the private key is not a PEM RSA key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  if (!ctx)
    return fail(ErrorKind::internal,
                "cannot allocate an OpenSSL digest context");
  std::size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                         key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char *>(data.data()),
                     data.size()) != 1)
    return fail(ErrorKind::invalid_argument,
                "cannot sign with the private key");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(sig.data()),
                     &len, reinterpret_cast<const unsigned char *>(data.data()),
                     data.size()) != 1)
    return fail(ErrorKind::invalid_argument,
                "cannot sign with the private key");
  sig.resize(len);
  return sig;
}

std::string utc_now(const char *format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

} // namespace strata::context
