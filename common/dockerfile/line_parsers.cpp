#include "dockerfile/line_parsers.hpp"

#include "dockerfile/go_text.hpp"
#include "dockerfile/json_array.hpp"

namespace strata::dockerfile::detail {
namespace {

enum class Phase { spaces, word, quote };

Error syntax_error(std::string message) { return Error(ErrorKind::invalid_argument, std::move(message)); }

// reWhitespace.Split(rest, -1) on text BuildKit already trimmed.
std::vector<std::string> split_blanks(std::string_view rest) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    std::size_t j = i;
    while (j < rest.size() && !is_blank(rest[j])) ++j;
    out.emplace_back(rest.substr(i, j - i));
    if (j >= rest.size()) break;
    while (j < rest.size() && is_blank(rest[j])) ++j;
    i = j;
  }
  return out;
}

void parse_strings_whitespace_delimited(std::string_view rest, Node& node) {
  if (rest.empty()) return;
  node.args = split_blanks(rest);
}

Result<void> parse_json(std::string_view rest, Node& node, JsonArray& kind) {
  std::vector<std::string> values;
  kind = parse_json_string_array(rest, values);
  if (kind == JsonArray::not_strings)
    return tl::unexpected(syntax_error("when using JSON array syntax, arrays must be comprised of strings only"));
  if (kind == JsonArray::strings) {
    node.args = std::move(values);
    node.json = true;
  }
  return {};
}

Result<void> parse_maybe_json(std::string_view rest, Node& node) {
  if (rest.empty()) return {};
  JsonArray kind;
  TRY(parse_json(rest, node, kind));
  if (kind != JsonArray::strings) node.args.emplace_back(rest);
  return {};
}

Result<void> parse_maybe_json_to_list(std::string_view rest, Node& node) {
  JsonArray kind;
  TRY(parse_json(rest, node, kind));
  if (kind != JsonArray::strings) parse_strings_whitespace_delimited(rest, node);
  return {};
}

Result<void> parse_name_val(std::string_view rest, std::string_view key, char escape, Node& node) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) return {};
  if (words[0].find('=') == std::string::npos) {
    // Legacy `KEY name value`: the value is the raw rest of the line.
    std::size_t i = 0;
    while (i < rest.size() && !is_blank(rest[i])) ++i;
    if (i >= rest.size()) return tl::unexpected(syntax_error(std::string(key) + " must have two arguments"));
    std::size_t j = i;
    while (j < rest.size() && is_blank(rest[j])) ++j;
    node.args = {std::string(rest.substr(0, i)), std::string(rest.substr(j)), ""};
    return {};
  }
  for (const std::string& word : words) {
    std::size_t eq = word.find('=');
    if (eq == std::string::npos)
      return tl::unexpected(syntax_error("Syntax error - can't find = in " + go_quote(word) +
                                         ". Must be of the form: name=value"));
    node.args.push_back(word.substr(0, eq));
    node.args.push_back(word.substr(eq + 1));
    node.args.emplace_back("=");
  }
  return {};
}

void parse_health_config(std::string_view rest, Node& node, Result<void>& status) {
  std::size_t sep = 0;
  while (sep < rest.size() && !is_space_byte(static_cast<unsigned char>(rest[sep]))) ++sep;
  std::size_t next = sep;
  while (next < rest.size() && is_space_byte(static_cast<unsigned char>(rest[next]))) ++next;
  if (sep == 0) return;
  Node command;
  status = parse_maybe_json(rest.substr(next), command);
  if (!status) return;
  node.args.emplace_back(rest.substr(0, sep));
  for (auto& a : command.args) node.args.push_back(std::move(a));
  node.json = command.json;
}

}  // namespace

std::vector<std::string> parse_words(std::string_view rest, char escape) {
  std::vector<std::string> words;
  Phase phase = Phase::spaces;
  char32_t quote = 0;
  bool blank_ok = false;
  std::string word;
  std::size_t pos = 0;
  Rune ch{0, 0, true};
  while (pos <= rest.size()) {
    if (pos != rest.size()) ch = decode_rune(rest.substr(pos));
    if (phase == Phase::spaces) {
      if (pos == rest.size()) break;
      if (is_space(ch.value)) {
        pos += ch.width;
        continue;
      }
      phase = Phase::word;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == Phase::word) {
      if (is_space(ch.value)) {
        phase = Phase::spaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        pos += ch.width;
        continue;
      }
      if (ch.value == '\'' || ch.value == '"') {
        quote = ch.value;
        blank_ok = true;
        phase = Phase::quote;
      }
      if (ch.value == static_cast<unsigned char>(escape)) {
        if (pos + ch.width == rest.size()) {
          pos += ch.width;
          continue;
        }
        append_rune(word, ch.value);
        pos += ch.width;
        ch = decode_rune(rest.substr(pos));
      }
      append_rune(word, ch.value);
      pos += ch.width;
      continue;
    }
    // Phase::quote
    if (ch.value == quote) phase = Phase::word;
    if (ch.value == static_cast<unsigned char>(escape) && quote != '\'') {
      if (pos + ch.width == rest.size()) {
        phase = Phase::word;
        pos += ch.width;
        continue;
      }
      pos += ch.width;
      append_rune(word, ch.value);
      ch = decode_rune(rest.substr(pos));
    }
    append_rune(word, ch.value);
    pos += ch.width;
  }
  return words;
}

std::string_view extract_builder_flags(std::string_view line, std::vector<std::string>& flags) {
  Phase phase = Phase::spaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (std::size_t pos = 0; pos <= line.size(); ++pos) {
    char ch = pos != line.size() ? line[pos] : '\0';
    if (phase == Phase::spaces) {
      if (pos == line.size()) break;
      if (is_space_byte(static_cast<unsigned char>(ch))) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') return line.substr(pos);
      phase = Phase::word;
    }
    if (pos == line.size()) {
      if (word != "--" && (blank_ok || !word.empty())) flags.push_back(word);
      break;
    }
    if (phase == Phase::word) {
      if (is_space_byte(static_cast<unsigned char>(ch))) {
        phase = Phase::spaces;
        if (word == "--") return line.substr(pos);
        if (blank_ok || !word.empty()) flags.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = Phase::quote;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      word.push_back(ch);
      continue;
    }
    if (ch == quote) {
      phase = Phase::word;
      continue;
    }
    if (ch == '\\') {
      if (pos + 1 == line.size()) {
        phase = Phase::word;
        continue;
      }
      ch = line[++pos];
    }
    word.push_back(ch);
  }
  return {};
}

namespace {
// ONBUILD nests by recursion; anything beyond one level is rejected later anyway, this only bounds
// the stack on hostile input.
constexpr int k_max_onbuild_depth = 8;

Result<Node> node_from_line_at(std::string_view line, char escape, int depth) {
  if (depth > k_max_onbuild_depth) return tl::unexpected(syntax_error("ONBUILD nested too deeply"));
  Node node;
  std::string_view trimmed = trim_space(line);
  std::size_t end = 0;
  while (end < trimmed.size() && !is_blank(trimmed[end])) ++end;
  node.keyword = std::string(trimmed.substr(0, end));
  node.command = to_lower(node.keyword);
  std::string_view rest;
  if (end < trimmed.size()) {
    std::size_t start = end;
    while (start < trimmed.size() && is_blank(trimmed[start])) ++start;
    rest = trim_space(extract_builder_flags(trimmed.substr(start), node.flags));
  }
  node.original = std::string(line);

  const std::string& c = node.command;
  if (c == "add" || c == "copy" || c == "volume") {
    TRY(parse_maybe_json_to_list(rest, node));
  } else if (c == "cmd" || c == "entrypoint" || c == "run" || c == "shell") {
    TRY(parse_maybe_json(rest, node));
  } else if (c == "env" || c == "label") {
    TRY(parse_name_val(rest, c == "env" ? "ENV" : "LABEL", escape, node));
  } else if (c == "arg") {
    node.args = parse_words(rest, escape);
  } else if (c == "expose" || c == "from") {
    parse_strings_whitespace_delimited(rest, node);
  } else if (c == "healthcheck") {
    Result<void> status;
    parse_health_config(rest, node, status);
    TRY(std::move(status));
  } else if (c == "maintainer" || c == "stopsignal" || c == "user" || c == "workdir") {
    if (!rest.empty()) node.args.emplace_back(rest);
  } else if (c == "onbuild") {
    if (!rest.empty()) node.children.push_back(TRY(node_from_line_at(rest, escape, depth + 1)));
  } else {
    // Unknown instruction: kept (BuildKit's parseIgnore) so that the typed layer can report it
    // with a suggestion.
    node.args.emplace_back();
  }
  return node;
}

}  // namespace

Result<Node> node_from_line(std::string_view line, char escape) { return node_from_line_at(line, escape, 0); }

}  // namespace strata::dockerfile::detail
