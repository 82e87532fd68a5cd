#include "dockerfile/json_array.hpp"

#include <cstdint>

#include "dockerfile/go_text.hpp"

namespace strata::dockerfile::detail {
namespace {

constexpr std::size_t k_max_depth = 10000;

class Scanner {
 public:
  explicit Scanner(std::string_view text) : m_text(text) {}

  void skip_ws() {
    while (m_pos < m_text.size()) {
      char c = m_text[m_pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++m_pos;
    }
  }
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek() const { return at_end() ? '\0' : m_text[m_pos]; }
  void advance() { ++m_pos; }

  bool literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) return false;
    m_pos += word.size();
    return true;
  }

  bool number() {
    std::size_t p = m_pos;
    auto digit = [&](std::size_t i) { return i < m_text.size() && m_text[i] >= '0' && m_text[i] <= '9'; };
    if (p < m_text.size() && m_text[p] == '-') ++p;
    if (!digit(p)) return false;
    if (m_text[p] == '0') {
      ++p;
    } else {
      while (digit(p)) ++p;
    }
    if (p < m_text.size() && m_text[p] == '.') {
      ++p;
      if (!digit(p)) return false;
      while (digit(p)) ++p;
    }
    if (p < m_text.size() && (m_text[p] == 'e' || m_text[p] == 'E')) {
      ++p;
      if (p < m_text.size() && (m_text[p] == '+' || m_text[p] == '-')) ++p;
      if (!digit(p)) return false;
      while (digit(p)) ++p;
    }
    m_pos = p;
    return true;
  }

  // Parses a string starting at '"'; appends its decoded value to `out` when non-null.
  bool string(std::string* out) {
    ++m_pos;  // opening quote
    while (m_pos < m_text.size()) {
      auto c = static_cast<unsigned char>(m_text[m_pos]);
      if (c == '"') {
        ++m_pos;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++m_pos >= m_text.size()) return false;
        char e = m_text[m_pos++];
        char simple = 0;
        switch (e) {
          case '"': simple = '"'; break;
          case '\\': simple = '\\'; break;
          case '/': simple = '/'; break;
          case 'b': simple = '\b'; break;
          case 'f': simple = '\f'; break;
          case 'n': simple = '\n'; break;
          case 'r': simple = '\r'; break;
          case 't': simple = '\t'; break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp < 0xDC00) {
              // A high surrogate pairs with an immediately following \uDC00-\uDFFF; otherwise Go
              // substitutes U+FFFD and re-reads what follows.
              std::size_t save = m_pos;
              std::uint32_t low = 0;
              if (m_text.substr(m_pos, 2) == "\\u") {
                m_pos += 2;
                if (hex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else {
                  m_pos = save;
                  cp = 0xFFFD;
                }
              } else {
                cp = 0xFFFD;
              }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              cp = 0xFFFD;
            }
            if (out) append_rune(*out, cp);
            continue;
          }
          default:
            return false;
        }
        if (out) out->push_back(simple);
        continue;
      }
      if (c < 0x80) {
        if (out) out->push_back(static_cast<char>(c));
        ++m_pos;
        continue;
      }
      Rune r = decode_rune(m_text.substr(m_pos));
      if (out) {
        if (r.valid) {
          out->append(m_text.substr(m_pos, r.width));
        } else {
          append_rune(*out, 0xFFFD);
        }
      }
      m_pos += r.width;
    }
    return false;
  }

 private:
  bool hex4(std::uint32_t& cp) {
    if (m_pos + 4 > m_text.size()) return false;
    for (int i = 0; i < 4; ++i) {
      char h = m_text[m_pos++];
      cp <<= 4;
      if (h >= '0' && h <= '9') {
        cp |= static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        cp |= static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        cp |= static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

}  // namespace

JsonArray parse_json_string_array(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  text = trim_left_space(text);
  if (text.empty() || text.front() != '[') return JsonArray::not_array;

  enum class Expect { value_or_close, value, key_or_close, key, comma_or_close };
  Scanner s(text);
  std::string stack;  // open containers, '[' or '{'
  bool non_string = false;
  Expect expect = Expect::value;
  while (true) {
    s.skip_ws();
    if (s.at_end()) return JsonArray::invalid;
    char c = s.peek();
    bool closed = false;
    switch (expect) {
      case Expect::value_or_close:
      case Expect::value: {
        if (expect == Expect::value_or_close && c == ']') {
          s.advance();
          stack.pop_back();
          closed = true;
          break;
        }
        // Elements of the outer array are what the instruction gets; deeper values only need to
        // be valid.
        bool top_element = stack.size() == 1;
        if (c == '[' || c == '{') {
          if (stack.size() >= k_max_depth) return JsonArray::invalid;
          if (top_element) non_string = true;
          stack.push_back(c);
          s.advance();
          expect = c == '[' ? Expect::value_or_close : Expect::key_or_close;
          continue;
        }
        if (c == '"') {
          std::string value;
          if (!s.string(top_element ? &value : nullptr)) return JsonArray::invalid;
          if (top_element) out.push_back(std::move(value));
        } else if (c == 't' || c == 'f' || c == 'n') {
          if (!s.literal("true") && !s.literal("false") && !s.literal("null")) return JsonArray::invalid;
          non_string = non_string || top_element;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          if (!s.number()) return JsonArray::invalid;
          non_string = non_string || top_element;
        } else {
          return JsonArray::invalid;
        }
        closed = true;
        break;
      }
      case Expect::key_or_close:
      case Expect::key:
        if (expect == Expect::key_or_close && c == '}') {
          s.advance();
          stack.pop_back();
          closed = true;
          break;
        }
        if (c != '"' || !s.string(nullptr)) return JsonArray::invalid;
        s.skip_ws();
        if (s.peek() != ':') return JsonArray::invalid;
        s.advance();
        expect = Expect::value;
        continue;
      case Expect::comma_or_close:
        if (c == ',') {
          s.advance();
          expect = stack.back() == '[' ? Expect::value : Expect::key;
          continue;
        }
        if (c != (stack.back() == '[' ? ']' : '}')) return JsonArray::invalid;
        s.advance();
        stack.pop_back();
        closed = true;
        break;
    }
    // A value (scalar or container) just ended.
    if (closed && stack.empty()) break;
    expect = Expect::comma_or_close;
  }
  s.skip_ws();
  if (!s.at_end()) return JsonArray::invalid;
  if (non_string) {
    out.clear();
    return JsonArray::not_strings;
  }
  return JsonArray::strings;
}

}  // namespace strata::dockerfile::detail
