// RecordReader: reads the cache index's record values (index_codec.cpp) without building a JSON
// document. A value is a JSON object whose fields the codec writes as strings, integers or arrays
// of strings; the reader hands each field to a visitor in order, and skips (validating) any other
// JSON value, so that fields a newer schema adds are ignored as before.
//
// It exists for speed: cachectl reads every record of an index of 100k entries on each ls, du or
// prune, and building an nlohmann::json per record was most of that time.
//
// Thread safety: none needed; a reader lives on the stack of one decode call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::store::codec {

// One field's value. `text` points into the record, or into the reader's scratch buffer when the
// string had escapes; it is valid only during the visitor's call.
struct FieldValue {
  enum class Kind { string, unsigned_integer, negative_integer, string_array, other };
  Kind kind = Kind::other;
  std::string_view text;            // string
  std::uint64_t number = 0;         // unsigned_integer: the value; negative_integer: its magnitude
  std::vector<std::string> items;   // string_array

  bool is_string() const { return kind == Kind::string; }
  bool is_unsigned() const { return kind == Kind::unsigned_integer; }
  bool is_integer() const { return kind == Kind::unsigned_integer || kind == Kind::negative_integer; }
  // The value as a signed integer (is_integer() only; saturates at the int64 range).
  std::int64_t as_int64() const;
};

// Calls visit(name, value) for every field of the object in `json`, in order (a repeated name is
// visited twice: the last wins, as with nlohmann). Returns false when `json` is not exactly one
// well-formed JSON object, or when visit returns false.
template <class Visitor>
bool read_record(std::string_view json, Visitor&& visit);

namespace detail {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : m_p(s.data()), m_end(s.data() + s.size()) {}

  void skip_space();
  bool at_end() { skip_space(); return m_p == m_end; }
  bool consume(char c);
  bool peek(char c) { skip_space(); return m_p != m_end && *m_p == c; }
  // A string; `out` views the input or `scratch` (when unescaping was needed).
  bool string(std::string_view& out, std::string& scratch);
  // Any value into `v` (strings, integers, arrays of strings; everything else validated and
  // reported as Kind::other).
  bool value(FieldValue& v, std::string& scratch);

 private:
  bool number(FieldValue& v);
  bool skip_value(int depth);
  bool literal(std::string_view word);

  const char* m_p;
  const char* m_end;
};

}  // namespace detail

template <class Visitor>
bool read_record(std::string_view json, Visitor&& visit) {
  detail::Scanner s(json);
  if (!s.consume('{')) return false;
  std::string name_scratch, value_scratch;
  FieldValue v;
  if (!s.consume('}')) {
    do {
      std::string_view name;
      if (!s.string(name, name_scratch) || !s.consume(':') || !s.value(v, value_scratch)) return false;
      if (!visit(name, v)) return false;
    } while (s.consume(','));
    if (!s.consume('}')) return false;
  }
  return s.at_end();
}

}  // namespace strata::store::codec
