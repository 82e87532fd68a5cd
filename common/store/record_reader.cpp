// The scanner behind read_record (record_reader.hpp): RFC 8259 JSON, strict about structure
// (commas, colons, quotes, one top-level object, nothing after it), lenient about bytes inside
// strings (they are passed through; the index only stores what the codec wrote). Escapes are
// decoded, \uXXXX included (surrogate pairs to one UTF-8 sequence; a lone surrogate is an
// error). Nesting of skipped values is limited to 64 levels.
#include "store/record_reader.hpp"

#include <limits>

namespace strata::store::codec {

std::int64_t FieldValue::as_int64() const {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (kind == Kind::negative_integer) {
    return number > max ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(number);
  }
  return number > max ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(number);
}

namespace detail {
namespace {

constexpr int k_max_depth = 64;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

void Scanner::skip_space() {
  while (m_p != m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
}

bool Scanner::consume(char c) {
  skip_space();
  if (m_p == m_end || *m_p != c) return false;
  ++m_p;
  return true;
}

bool Scanner::string(std::string_view& out, std::string& scratch) {
  if (!consume('"')) return false;
  const char* start = m_p;
  while (m_p != m_end && *m_p != '"' && *m_p != '\\') {
    if (static_cast<unsigned char>(*m_p) < 0x20) return false;
    ++m_p;
  }
  if (m_p == m_end) return false;
  if (*m_p == '"') {  // the common case: no escapes, a view of the input
    out = std::string_view(start, static_cast<std::size_t>(m_p - start));
    ++m_p;
    return true;
  }
  scratch.assign(start, m_p);
  auto read_hex4 = [&](std::uint32_t& cp) {
    if (m_end - m_p < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(*m_p++);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<std::uint32_t>(h);
    }
    return true;
  };
  while (m_p != m_end && *m_p != '"') {
    char c = *m_p++;
    if (c != '\\') {
      if (static_cast<unsigned char>(c) < 0x20) return false;
      scratch += c;
      continue;
    }
    if (m_p == m_end) return false;
    char e = *m_p++;
    switch (e) {
      case '"': scratch += '"'; break;
      case '\\': scratch += '\\'; break;
      case '/': scratch += '/'; break;
      case 'b': scratch += '\b'; break;
      case 'f': scratch += '\f'; break;
      case 'n': scratch += '\n'; break;
      case 'r': scratch += '\r'; break;
      case 't': scratch += '\t'; break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!read_hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') return false;
          m_p += 2;
          if (!read_hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(scratch, cp);
        break;
      }
      default:
        return false;
    }
  }
  if (m_p == m_end) return false;
  ++m_p;
  out = scratch;
  return true;
}

bool Scanner::number(FieldValue& v) {
  bool negative = m_p != m_end && *m_p == '-';
  if (negative) ++m_p;
  if (m_p == m_end || *m_p < '0' || *m_p > '9') return false;
  if (*m_p == '0' && m_end - m_p > 1 && m_p[1] >= '0' && m_p[1] <= '9') return false;  // leading zero
  std::uint64_t n = 0;
  bool overflow = false;
  for (; m_p != m_end && *m_p >= '0' && *m_p <= '9'; ++m_p) {
    auto digit = static_cast<std::uint64_t>(*m_p - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
    n = n * 10 + digit;
  }
  bool fraction = false;
  if (m_p != m_end && *m_p == '.') {
    fraction = true;
    ++m_p;
    if (m_p == m_end || *m_p < '0' || *m_p > '9') return false;
    while (m_p != m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
  }
  if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
    fraction = true;
    ++m_p;
    if (m_p != m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
    if (m_p == m_end || *m_p < '0' || *m_p > '9') return false;
    while (m_p != m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
  }
  constexpr auto min_magnitude = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
  if (fraction || overflow || (negative && n > min_magnitude)) {
    v.kind = FieldValue::Kind::other;  // a float, or an integer out of range: nlohmann reads a float
  } else {
    v.kind = negative && n != 0 ? FieldValue::Kind::negative_integer : FieldValue::Kind::unsigned_integer;
    v.number = n;
  }
  return true;
}

bool Scanner::literal(std::string_view word) {
  if (static_cast<std::size_t>(m_end - m_p) < word.size() || std::string_view(m_p, word.size()) != word) return false;
  m_p += word.size();
  return true;
}

bool Scanner::skip_value(int depth) {
  if (depth > k_max_depth) return false;
  skip_space();
  if (m_p == m_end) return false;
  std::string scratch;
  std::string_view ignored;
  FieldValue v;
  switch (*m_p) {
    case '"': return string(ignored, scratch);
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    case '[':
      ++m_p;
      if (consume(']')) return true;
      do {
        if (!skip_value(depth + 1)) return false;
      } while (consume(','));
      return consume(']');
    case '{':
      ++m_p;
      if (consume('}')) return true;
      do {
        if (!string(ignored, scratch) || !consume(':') || !skip_value(depth + 1)) return false;
      } while (consume(','));
      return consume('}');
    default:
      return number(v);
  }
}

bool Scanner::value(FieldValue& v, std::string& scratch) {
  skip_space();
  if (m_p == m_end) return false;
  v.kind = FieldValue::Kind::other;
  v.number = 0;
  v.items.clear();
  if (*m_p == '"') {
    if (!string(v.text, scratch)) return false;
    v.kind = FieldValue::Kind::string;
    return true;
  }
  if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9')) return number(v);
  if (*m_p != '[') return skip_value(0);
  // An array: of strings (kept), or of anything else (validated, then Kind::other).
  const char* start = m_p;
  ++m_p;
  if (consume(']')) {
    v.kind = FieldValue::Kind::string_array;
    return true;
  }
  do {
    std::string_view item;
    if (!peek('"') || !string(item, scratch)) {
      m_p = start;
      v.items.clear();
      return skip_value(0);
    }
    v.items.emplace_back(item);
  } while (consume(','));
  if (!consume(']')) return false;
  v.kind = FieldValue::Kind::string_array;
  return true;
}

}  // namespace detail
}  // namespace strata::store::codec
