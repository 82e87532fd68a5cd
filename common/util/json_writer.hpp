// JsonWriter: writes JSON to a stream as it goes, for outputs too large to build as a document
// first (cachectl ls --json of 100k entries: nlohmann's DOM and its copies cost more than
// reading the index). Output is pretty-printed like nlohmann's dump(2): two-space indent, one
// member or element per line, "key": value, empty containers as {} and []. Strings are escaped
// per RFC 8259; bytes that are not UTF-8 become U+FFFD, as nlohmann's error_handler_t::replace.
//
// Usage: w.begin_object().key("n").value(1).key("list").begin_array().value("a").end_array()
// .end_object(); finish() flushes and adds the final newline. Calls must nest correctly (a key
// before each member value); a misuse is a programming error and asserts in debug builds.
//
// Thread safety: one writer, one thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace strata::util {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out, int indent = 2) : m_out(out), m_indent(indent) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;
  ~JsonWriter() { flush(); }

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& null();

  // A member in one call: key(name).value(v).
  template <class T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // Writes the final newline and flushes to the stream.
  void finish();
  void flush();

 private:
  template <class Integer>
  JsonWriter& integer(Integer n);
  void before_value();
  void newline_indent();
  void close(char bracket);
  void escape(std::string_view s);

  std::ostream& m_out;
  int m_indent;
  std::string m_buf;
  struct Level {
    bool object;
    bool empty = true;
  };
  std::vector<Level> m_levels;
  bool m_after_key = false;
};

}  // namespace strata::util
