#include "dockerfile/go_text.hpp"

#include <cctype>

namespace strata::dockerfile::detail {

Rune decode_rune(std::string_view s) {
  constexpr Rune k_error{0xFFFD, 1, false};
  if (s.empty()) return Rune{0xFFFD, 0, false};
  auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return Rune{b0, 1, true};
  std::size_t need;
  char32_t value;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2, value = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3, value = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return k_error;
  }
  if (s.size() < need) return k_error;
  for (std::size_t i = 1; i < need; ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return k_error;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return k_error;
  return Rune{value, need, true};
}

void append_rune(std::string& out, char32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

bool is_space(char32_t r) {
  if (r <= 0xFF) return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0;
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
         r == 0x202F || r == 0x205F || r == 0x3000;
}

std::string_view trim_left_space(std::string_view s) {
  while (!s.empty()) {
    Rune r = decode_rune(s);
    if (!r.valid || !is_space(r.value)) break;
    s.remove_prefix(r.width);
  }
  return s;
}

std::string_view trim_space(std::string_view s) {
  s = trim_left_space(s);
  while (!s.empty()) {
    // Walk back to the start of the last rune (at most 4 bytes, continuation bytes 10xxxxxx).
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    Rune r = decode_rune(s.substr(start));
    if (!r.valid || start + r.width != s.size() || !is_space(r.value)) break;
    s.remove_suffix(r.width);
  }
  return s;
}

namespace {

// An approximation of unicode.IsPrint: everything but controls, unassigned surrogates and a few
// format characters. Only the AST dump uses it.
bool is_print(char32_t r) {
  if (r < 0x20 || (r >= 0x7F && r < 0xA0)) return false;
  if (r == 0xAD || (r >= 0x200B && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
      (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB))
    return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if ((r & 0xFFFE) == 0xFFFE) return false;      // non-characters
  return true;
}

}  // namespace

std::string go_quote(std::string_view s) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  while (!s.empty()) {
    Rune r = decode_rune(s);
    if (!r.valid) {
      auto b = static_cast<unsigned char>(s[0]);
      out += "\\x";
      out.push_back(k_hex[b >> 4]);
      out.push_back(k_hex[b & 0xF]);
      s.remove_prefix(1);
      continue;
    }
    s.remove_prefix(r.width);
    char32_t c = r.value;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (is_print(c)) {
      append_rune(out, c);
    } else {
      switch (c) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < ' ' || c == 0x7F) {
            out += "\\x";
            out.push_back(k_hex[(c >> 4) & 0xF]);
            out.push_back(k_hex[c & 0xF]);
          } else {
            int digits = c < 0x10000 ? 4 : 8;
            out += c < 0x10000 ? "\\u" : "\\U";
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(k_hex[(c >> shift) & 0xF]);
          }
      }
    }
  }
  out.push_back('"');
  return out;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace strata::dockerfile::detail
