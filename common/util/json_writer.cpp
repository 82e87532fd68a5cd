#include "util/json_writer.hpp"

#include <cassert>
#include <charconv>

namespace strata::util {
namespace {

constexpr std::size_t k_flush_at = 64 * 1024;

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void JsonWriter::newline_indent() {
  if (m_indent <= 0) return;
  m_buf += '\n';
  m_buf.append(m_levels.size() * static_cast<std::size_t>(m_indent), ' ');
}

void JsonWriter::before_value() {
  if (m_buf.size() >= k_flush_at) flush();
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (m_levels.empty()) return;
  assert(!m_levels.back().object && "a member value needs key() first");
  if (!m_levels.back().empty) m_buf += ',';
  m_levels.back().empty = false;
  newline_indent();
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!m_levels.empty() && m_levels.back().object && !m_after_key);
  if (!m_levels.back().empty) m_buf += ',';
  m_levels.back().empty = false;
  newline_indent();
  escape(name);
  m_buf += m_indent > 0 ? ": " : ":";
  m_after_key = true;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  m_buf += '{';
  m_levels.push_back({true});
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  m_buf += '[';
  m_levels.push_back({false});
  return *this;
}

void JsonWriter::close(char bracket) {
  assert(!m_levels.empty() && !m_after_key);
  bool empty = m_levels.back().empty;
  m_levels.pop_back();
  if (!empty) newline_indent();
  m_buf += bracket;
}

JsonWriter& JsonWriter::end_object() {
  assert(!m_levels.empty() && m_levels.back().object);
  close('}');
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!m_levels.empty() && !m_levels.back().object);
  close(']');
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  escape(s);
  return *this;
}

template <class Integer>
JsonWriter& JsonWriter::integer(Integer n) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  m_buf.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) { return integer(n); }
JsonWriter& JsonWriter::value(std::int64_t n) { return integer(n); }

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  m_buf += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  m_buf += "null";
  return *this;
}

void JsonWriter::escape(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  m_buf += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      std::size_t j = i + 1;  // a run of plain ASCII in one append
      while (j < s.size()) {
        auto d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      m_buf.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"': m_buf += "\\\""; break;
      case '\\': m_buf += "\\\\"; break;
      case '\b': m_buf += "\\b"; break;
      case '\f': m_buf += "\\f"; break;
      case '\n': m_buf += "\\n"; break;
      case '\r': m_buf += "\\r"; break;
      case '\t': m_buf += "\\t"; break;
      default:
        if (c < 0x20) {
          m_buf += "\\u00";
          m_buf += hex[c >> 4];
          m_buf += hex[c & 15];
        } else if (std::size_t n = utf8_length(s, i)) {
          m_buf.append(s.data() + i, n);
          i += n;
          continue;
        } else {
          m_buf += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
        }
    }
    ++i;
  }
  m_buf += '"';
}

void JsonWriter::finish() {
  assert(m_levels.empty());
  m_buf += '\n';
  flush();
}

void JsonWriter::flush() {
  if (m_buf.empty()) return;
  m_out.write(m_buf.data(), static_cast<std::streamsize>(m_buf.size()));
  m_buf.clear();
}

}  // namespace strata::util
