// Random hex strings for the test servers' generated users, passwords, tokens and secrets.
#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace strata::itest {

// 2*bytes lowercase hex characters from std::random_device.
inline std::string random_hex(std::size_t bytes) {
  static const char* k_hex = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    s += k_hex[v >> 4];
    s += k_hex[v & 15];
  }
  return s;
}

}  // namespace strata::itest
