// The few primitives the cloud signers need, over OpenSSL: SHA-256,
// HMAC-SHA256, RS256; and the clock they sign with. Thread safety: pure
// functions.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::context {

std::string sha256_hex(std::string_view data);
// Raw 32-byte MAC.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hex(std::string_view bytes);
// base64url without padding (JWT).
std::string base64url(std::string_view data);
// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, with a PEM private key (PKCS#8 or
// PKCS#1). Errors: invalid_argument when the key cannot be read (the key itself
// is never quoted).
Result<std::string> rs256_sign(std::string_view pem_private_key,
                               std::string_view data);
// The current UTC time through strftime(3) `format` (C locale names).
std::string utc_now(const char *format);

} // namespace strata::context
