#include "dockerfile/heredoc.hpp"

#include <limits>

#include "dockerfile/go_text.hpp"

namespace strata::dockerfile {
namespace detail {
namespace {

bool is_word_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Splits a line into shell words with quotes and escapes kept (BuildKit lexes with RawQuotes and
// RawEscapes here, and ignores errors: an unterminated quote ends the last word).
std::vector<std::string> raw_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  auto flush = [&] {
    if (in_word) words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  while (i < line.size()) {
    char c = line[i];
    if (is_word_space(c)) {
      flush();
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      word.append(line.substr(i, 2));
      i += 2;
    } else if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      while (j < line.size() && line[j] != c) {
        if (c == '"' && line[j] == '\\') ++j;
        ++j;
      }
      word.append(line.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '$' && i + 1 < line.size() && line[i + 1] == '{') {
      // ${...} may hold blanks (`${A:-x y}`); it stays one piece of the word.
      std::size_t j = i + 2;
      int depth = 1;
      while (j < line.size() && depth > 0) {
        if (line[j] == '{') ++depth;
        if (line[j] == '}') --depth;
        ++j;
      }
      word.append(line.substr(i, j - i));
      i = j;
    } else {
      word.push_back(c);
      ++i;
    }
  }
  flush();
  return words;
}

struct Unquoted {
  std::vector<std::string> words;
  bool quoted = false;  // some quote character acted as a delimiter
};

// ProcessWords without expansion: quotes removed, escapes processed, split on blanks.
Result<Unquoted> unquote_words(std::string_view text) {
  Unquoted result;
  std::string word;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) result.words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_word_space(c)) {
      flush();
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < text.size()) word.push_back(text[++i]);
    } else if (c == '\'') {
      result.quoted = true;
      std::size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos)
        return tl::unexpected(Error(ErrorKind::invalid_argument, "unexpected end of statement while looking for matching single-quote"));
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      result.quoted = true;
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\' || text[j + 1] == '$')) {
          ++j;
        }
        word.push_back(text[j]);
      }
      if (j >= text.size())
        return tl::unexpected(Error(ErrorKind::invalid_argument, "unexpected end of statement while looking for matching double-quote"));
      i = j;
    } else {
      word.push_back(c);
    }
  }
  flush();
  return result;
}

}  // namespace

Result<bool> parse_heredoc_word_checked(std::string_view word, Heredoc& out) {
  // ^(\d*)<<(-?)([^<]*)$
  std::size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9') ++i;
  std::string_view digits = word.substr(0, i);
  if (word.substr(i, 2) != "<<") return false;
  i += 2;
  bool chomp = i < word.size() && word[i] == '-';
  if (chomp) ++i;
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) return false;

  Unquoted unquoted = TRY(unquote_words(rest));
  if (unquoted.words.size() != 1) return false;

  unsigned fd = 0;
  for (char d : digits) {
    if (fd > (std::numeric_limits<unsigned>::max() - 9) / 10) {
      fd = std::numeric_limits<unsigned>::max();
      break;
    }
    fd = fd * 10 + static_cast<unsigned>(d - '0');
  }
  out = Heredoc{};
  out.name = std::move(unquoted.words[0]);
  out.fd = fd;
  out.chomp = chomp;
  out.expand = !unquoted.quoted;
  return true;
}

Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line) {
  std::vector<Heredoc> docs;
  if (line.find("<<") == std::string_view::npos) return docs;  // the common case, no word can match
  for (const std::string& word : raw_words(line)) {
    Heredoc doc;
    bool is_heredoc = TRY_CTX(parse_heredoc_word_checked(word, doc), "heredoc " + word);
    if (is_heredoc) docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace detail

bool parse_heredoc_word(std::string_view word, Heredoc& out) {
  auto r = detail::parse_heredoc_word_checked(word, out);
  return r && *r;
}

std::string chomp_heredoc(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

}  // namespace strata::dockerfile
