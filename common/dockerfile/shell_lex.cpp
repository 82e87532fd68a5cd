#include "dockerfile/shell_lex.hpp"

#include <algorithm>
#include <cstdint>

#include "dockerfile/shell_lex_pattern.hpp"

namespace strata::dockerfile {
namespace {

using detail::utf8_length;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_special_param(char c) {
  switch (c) {
    case '@': case '*': case '#': case '?': case '-': case '$': case '!': case '0':
      return true;
    default:
      return false;
  }
}

std::uint32_t decode(std::string_view s, std::size_t i, std::size_t len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (len == 1) return b0;
  std::uint32_t cp = b0 & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Approximates Go's unicode.IsLetter/IsDigit for code points >= 0x80: everything but the blocks
// of punctuation, symbols and spaces is taken as part of a name.
bool is_non_ascii_name_char(std::uint32_t cp) {
  if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, math, boxes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK symbols and punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF20) return false;  // fullwidth punctuation
  if ((cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65)) return false;
  if (cp >= 0xFFF0 && cp <= 0xFFFF) return false;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji and pictographs
  return true;
}

// BuildKit's wordsStruct: splits on whitespace that came from unquoted text.
class Words {
 public:
  void add_char(char c) {
    if (is_space(c)) {
      if (m_in_word && !m_word.empty()) {
        m_words.push_back(std::move(m_word));
        m_word.clear();
        m_in_word = false;
      }
    } else {
      add_raw_char(c);
    }
  }
  void add_raw_char(char c) {
    m_word += c;
    m_in_word = true;
  }
  void add_string(std::string_view s) {
    for (char c : s) add_char(c);
  }
  void add_raw_string(std::string_view s) {
    m_word += s;
    m_in_word = true;
  }
  std::vector<std::string> take() {
    if (!m_word.empty()) m_words.push_back(std::move(m_word));
    return std::move(m_words);
  }

 private:
  std::string m_word;
  std::vector<std::string> m_words;
  bool m_in_word = false;
};

class Lexer {
 public:
  Lexer(std::string_view src, const Lookup& lookup, char escape)
      : m_src(src), m_lookup(lookup), m_escape(escape) {}

  // Reads up to `stop` (consumed) or, when stop is 0, to the end of the input.
  Result<std::string> process_stop_on(char stop, bool raw_escapes, Words* words) {
    const bool saved_raw = m_raw;
    m_raw = raw_escapes;
    auto result = process_loop(stop, words);
    m_raw = saved_raw;
    return result;
  }

  std::vector<std::string> take_used() { return std::move(m_used); }

  // BuildKit's SkipProcessQuotes: quotes are ordinary characters (heredoc bodies).
  void skip_quotes() { m_skip_quotes = true; }

 private:
  bool at_end() const { return m_pos >= m_src.size(); }
  char peek() const { return m_src[m_pos]; }

  Result<std::string> process_loop(char stop, Words* words) {
    std::string result;
    while (!at_end()) {
      char c = peek();
      if (stop != 0 && c == stop) {
        ++m_pos;
        return result;
      }
      if (c == '$' || (!m_skip_quotes && (c == '\'' || c == '"'))) {
        std::string piece;
        if (c == '$') {
          piece = TRY(process_dollar());
        } else if (c == '\'') {
          piece = TRY(process_single_quote());
        } else {
          piece = TRY(process_double_quote());
        }
        result += piece;
        if (words) {
          if (c == '$') {
            words->add_string(piece);
          } else {
            words->add_raw_string(piece);
          }
        }
        continue;
      }
      ++m_pos;
      if (c == m_escape) {
        if (m_raw) {
          if (words) words->add_raw_char(c);
          result += c;
        }
        if (at_end()) break;  // an escape at the end of the word is dropped
        c = m_src[m_pos++];
        if (words) words->add_raw_char(c);
      } else if (words) {
        words->add_char(c);
      }
      result += c;
    }
    if (stop != 0) {
      return fail(ErrorKind::invalid_argument,
                  std::string("unexpected end of statement while looking for matching ") + stop);
    }
    return result;
  }

  Result<std::string> process_single_quote() {
    std::string result;
    ++m_pos;
    while (true) {
      if (at_end()) {
        return fail(ErrorKind::invalid_argument,
                    "unexpected end of statement while looking for matching single-quote");
      }
      const char c = m_src[m_pos++];
      if (c == '\'') return result;
      result += c;
    }
  }

  Result<std::string> process_double_quote() {
    std::string result;
    ++m_pos;
    while (true) {
      if (at_end()) {
        return fail(ErrorKind::invalid_argument,
                    "unexpected end of statement while looking for matching double-quote");
      }
      char c = peek();
      if (c == '"') {
        ++m_pos;
        return result;
      }
      if (c == '$') {
        result += TRY(process_dollar());
        continue;
      }
      ++m_pos;
      if (c == m_escape) {
        if (m_raw) result += c;
        if (at_end()) continue;  // reported as an unterminated quote by the next iteration
        const char next = peek();
        if (next == '"' || next == '$' || next == m_escape) {
          c = next;
          ++m_pos;
        }
      }
      result += c;
    }
  }

  std::string process_name() {
    std::string name;
    while (!at_end()) {
      const char c = peek();
      if (name.empty() && is_digit(c)) {
        while (!at_end() && is_digit(peek())) name += m_src[m_pos++];
        return name;
      }
      if (name.empty() && is_special_param(c)) {
        ++m_pos;
        return std::string(1, c);
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        const std::size_t len = utf8_length(m_src, m_pos);
        if (len == 1 || !is_non_ascii_name_char(decode(m_src, m_pos, len))) break;
        name.append(m_src.substr(m_pos, len));
        m_pos += len;
        continue;
      }
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
      if (!alnum && c != '_') break;
      name += c;
      ++m_pos;
    }
    return name;
  }

  std::optional<std::string> get_env(const std::string& name) {
    if (std::find(m_used.begin(), m_used.end(), name) == m_used.end()) m_used.push_back(name);
    return m_lookup(name);
  }

  static tl::unexpected<Error> missing_brace() {
    return fail(ErrorKind::invalid_argument, "syntax error: missing '}'");
  }
  static tl::unexpected<Error> unsupported(std::string_view modifier) {
    return fail(ErrorKind::invalid_argument,
                "unsupported modifier (" + std::string(modifier) + ") in substitution");
  }

  Result<std::string> process_dollar() {
    ++m_pos;  // '$'
    if (at_end() || peek() != '{') {
      const std::string name = process_name();
      if (name.empty()) return std::string("$");
      return get_env(name).value_or("");
    }
    ++m_pos;  // '{'
    if (at_end()) return missing_brace();
    if (peek() == '{' || peek() == '}' || peek() == ':') {
      return fail(ErrorKind::invalid_argument, "syntax error: bad substitution");
    }
    const std::string name = process_name();
    if (at_end()) return missing_brace();
    char c = m_src[m_pos++];
    std::string modifier(1, c);
    bool null_is_unset = false;
    if (c == '}') return get_env(name).value_or("");
    if (c == '/') return process_replace(name);
    if (c == ':') {
      null_is_unset = true;
      if (at_end()) return missing_brace();
      c = m_src[m_pos++];
      modifier += c;
    } else if (c != '+' && c != '-' && c != '?' && c != '#' && c != '%') {
      return unsupported(modifier);
    }
    auto word = process_stop_on('}', c == '#' || c == '%', nullptr);
    if (!word) {
      if (at_end()) return missing_brace();
      return tl::unexpected(std::move(word.error()));
    }
    const std::optional<std::string> value = get_env(name);
    const bool unset = !value || (null_is_unset && value->empty());
    switch (c) {
      case '-':
        return unset ? *word : *value;
      case '+':
        return unset ? std::string() : *word;
      case '?':
        if (unset) {
          std::string message = !word->empty()     ? *word
                                : value.has_value() ? "is not allowed to be empty"
                                                    : "is not allowed to be unset";
          return fail(ErrorKind::invalid_argument, name + ": " + message);
        }
        return *value;
      case '#':
      case '%': {
        // A doubled operator (## or %%) asks for the longest match.
        std::string_view pattern = *word;
        const bool longest = !pattern.empty() && pattern.front() == c;
        if (longest) pattern.remove_prefix(1);
        auto compiled = TRY(detail::ShellPattern::compile(pattern));
        const std::string subject = value.value_or("");
        return c == '#' ? compiled.trim_prefix(subject, longest) : compiled.trim_suffix(subject, longest);
      }
      default:
        return unsupported(modifier);
    }
  }

  Result<std::string> process_replace(const std::string& name) {
    const bool all = !at_end() && peek() == '/';
    if (all) ++m_pos;
    auto pattern = process_stop_on('/', true, nullptr);
    if (!pattern) {
      if (at_end()) return fail(ErrorKind::invalid_argument, "syntax error: missing '/' in ${}");
      return tl::unexpected(std::move(pattern.error()));
    }
    auto replacement = process_stop_on('}', true, nullptr);
    if (!replacement) {
      if (at_end()) return missing_brace();
      return tl::unexpected(std::move(replacement.error()));
    }
    const std::string value = get_env(name).value_or("");
    auto compiled = TRY(detail::ShellPattern::compile(*pattern));
    return compiled.replace(value, *replacement, all);
  }

  std::string_view m_src;
  std::size_t m_pos = 0;
  const Lookup& m_lookup;
  char m_escape;
  bool m_raw = false;
  bool m_skip_quotes = false;
  std::vector<std::string> m_used;
};

Error word_error(std::string_view word, Error error) {
  return error.with_context("failed to process \"" + std::string(word) + "\"");
}

}  // namespace

Result<Expanded> expand_word(std::string_view word, const Lookup& lookup, char escape) {
  Lexer lexer(word, lookup, escape);
  auto value = lexer.process_stop_on(0, false, nullptr);
  if (!value) return tl::unexpected(word_error(word, std::move(value.error())));
  return Expanded{std::move(*value), lexer.take_used()};
}

Result<Expanded> expand_heredoc(std::string_view body, const Lookup& lookup) {
  Lexer lexer(body, lookup, '\\');
  lexer.skip_quotes();
  auto value = lexer.process_stop_on(0, false, nullptr);
  if (!value) return tl::unexpected(word_error(body, std::move(value.error())));
  return Expanded{std::move(*value), lexer.take_used()};
}

Result<std::vector<std::string>> expand_words(std::string_view text, const Lookup& lookup,
                                              char escape) {
  Lexer lexer(text, lookup, escape);
  Words words;
  auto value = lexer.process_stop_on(0, false, &words);
  if (!value) return tl::unexpected(word_error(text, std::move(value.error())));
  return words.take();
}

Lookup lookup_from_env(const std::vector<std::string>& env) {
  return [&env](std::string_view name) -> std::optional<std::string> {
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
      const std::string_view entry = *it;
      const std::size_t eq = entry.find('=');
      const std::string_view key = eq == std::string_view::npos ? entry : entry.substr(0, eq);
      if (key == name) {
        return eq == std::string_view::npos ? std::string() : std::string(entry.substr(eq + 1));
      }
    }
    return std::nullopt;
  };
}

}  // namespace strata::dockerfile
