// libFuzzer target: WWW-Authenticate parsing, the token URL built from what it parsed, and the
// Link/URL helpers the registry client applies to server-controlled headers. Errors are fine;
// crashes, hangs and invariant violations are not.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I common \
//     tests/fuzz/www_authenticate_fuzz.cpp <strata_common and its libraries>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/token.hpp"
#include "auth/www_authenticate.hpp"
#include "registry/session.hpp"
#include "transport/retry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto challenges = strata::auth::parse_www_authenticate(text);
  if (challenges) {
    for (const auto& c : *challenges) {
      // Invariants: schemes and parameter names are lowercase and non-empty.
      if (c.scheme.empty()) std::abort();
      for (char ch : c.scheme) {
        if (ch >= 'A' && ch <= 'Z') std::abort();
      }
      for (const auto& [name, value] : c.params) {
        if (name.empty()) std::abort();
        (void)value;
      }
      if (c.scheme == "bearer") {
        (void)strata::auth::token_url(c, {c.param("scope")});
        (void)strata::auth::oauth_refresh_form(c, {c.param("scope")}, "r", "strata");
      }
    }
  }
  (void)strata::auth::parse_token_response(text, std::chrono::system_clock::now());
  (void)strata::registry::next_link("https://h/v2/x", {std::string(text)});
  (void)strata::registry::resolve_url("https://h/v2/x", text);
  (void)strata::transport::parse_retry_after(text, std::chrono::system_clock::now());
  return 0;
}
