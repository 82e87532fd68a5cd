// The Dockerfile scanner: physical lines to instructions, as BuildKit's parser.Parse.
//
// - Parser directives (`# syntax=`, `# escape=`, `# check=`) are recognised only at the very top,
//   before any other line (a blank line, a comment that is not a directive, or an instruction
//   ends them); each may appear once. `escape` switches the escape character to '`'.
// - A line whose last non-blank character is the escape character continues on the next line,
//   unless that character is itself escaped ("a\\" does not continue). Comment lines and blank
//   lines inside a continued instruction are skipped (a blank one earns a warning). A
//   continuation at end of file simply ends the instruction.
// - Leading white space of an instruction's first line is ignored; lines starting with '#' are
//   comments (a '#' elsewhere is ordinary text).
// - After RUN/COPY/ADD (also as ONBUILD triggers) in shell form, each `<<DELIM` word opens a
//   heredoc: the following lines up to one equal to DELIM (tabs stripped first for `<<-`) are its
//   body, in order of appearance.
// Lines end with "\n"; a "\r" before it is dropped; a UTF-8 byte order mark is ignored.
#include <cctype>
#include <set>

#include "dockerfile/ast.hpp"
#include "dockerfile/go_text.hpp"
#include "dockerfile/heredoc.hpp"
#include "dockerfile/line_parsers.hpp"

namespace strata::dockerfile {

Error located_error(std::string_view file, int line, std::string_view message) {
  std::string text(file);
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  text += message;
  return Error(ErrorKind::invalid_argument, std::move(text));
}

namespace {

using detail::is_blank;

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view raw) {
  std::string_view s = detail::trim_left_space(trim_newline(raw));
  return !s.empty() && s.front() == '#';
}

// Go's regexp \s: [\t\n\f\r ].
bool is_re_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// The offending text for an error message, shortened so that a huge line cannot flood a log.
std::string excerpt(std::string_view line) {
  std::string_view t = detail::trim_space(line);
  if (t.size() <= 120) return std::string(t);
  return std::string(t.substr(0, 117)) + "...";
}

class LineReader {
 public:
  explicit LineReader(std::string_view text) : m_text(text) {}
  // The next physical line, with its "\n" if it has one.
  bool next(std::string_view& line) {
    if (m_pos >= m_text.size()) return false;
    std::size_t nl = m_text.find('\n', m_pos);
    std::size_t end = nl == std::string_view::npos ? m_text.size() : nl + 1;
    line = m_text.substr(m_pos, end - m_pos);
    m_pos = end;
    return true;
  }

 private:
  std::string_view m_text;
  std::size_t m_pos = 0;
};

class Scanner {
 public:
  Scanner(std::string_view text, std::string_view filename, char escape, bool directives)
      : m_reader(text), m_file(filename), m_escape(escape), m_directives_done(!directives) {}

  Result<Ast> run();

 private:
  Error error_at(int line, std::string_view message) const { return located_error(m_file, line, message); }
  Result<void> possible_directive(std::string_view line);
  Result<std::string_view> process_line(std::string_view raw, bool strip_left);
  // Removes a trailing line-continuation escape; false in `.second` when the line continues.
  std::pair<std::string_view, bool> trim_continuation(std::string_view line) const;
  Result<void> read_heredocs(Node& node, std::string_view line, int start_line);

  LineReader m_reader;
  std::string_view m_file;
  char m_escape;
  bool m_directives_done;
  std::set<std::string> m_seen;
  int m_line = 0;  // physical lines consumed
  Ast m_ast;
};

Result<void> Scanner::possible_directive(std::string_view line) {
  if (m_directives_done) return {};
  // ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
  std::size_t i = 0;
  auto done = [&]() -> Result<void> {
    m_directives_done = true;
    return {};
  };
  if (line.empty() || line[0] != '#') return done();
  ++i;
  while (i < line.size() && is_re_space(line[i])) ++i;
  std::size_t name_start = i;
  if (i >= line.size() || !std::isalpha(static_cast<unsigned char>(line[i]))) return done();
  while (i < line.size() && std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
  std::string name = detail::to_lower(line.substr(name_start, i - name_start));
  while (i < line.size() && is_re_space(line[i])) ++i;
  if (i >= line.size() || line[i] != '=') return done();
  ++i;
  std::string_view value = line.substr(i);
  std::size_t end = value.size();
  while (end > 0 && is_re_space(value[end - 1])) --end;
  std::size_t begin = 0;
  while (begin < end && is_re_space(value[begin])) ++begin;
  if (begin == end) {
    // All blanks: the lazy `.+?` takes the last one.
    if (value.empty()) return done();
    begin = value.size() - 1;
    end = value.size();
  }
  value = value.substr(begin, end - begin);
  if (name != "syntax" && name != "escape" && name != "check") return done();
  if (!m_seen.insert(name).second) return tl::unexpected(error_at(m_line + 1, "only one " + name + " parser directive can be used"));
  if (name == "escape") {
    if (value != "`" && value != "\\")
      return tl::unexpected(error_at(m_line + 1, "invalid escape token '" + std::string(value) + "' does not match ` or \\"));
    m_escape = value[0];
  }
  m_ast.directives.push_back(Directive{name, std::string(value), m_line + 1});
  return {};
}

Result<std::string_view> Scanner::process_line(std::string_view raw, bool strip_left) {
  if (raw.size() > k_max_line_bytes)
    return tl::unexpected(error_at(m_line + 1, "line longer than " + std::to_string(k_max_line_bytes) + " bytes"));
  std::string_view token = trim_newline(raw);
  if (strip_left) token = detail::trim_left_space(token);
  TRY(possible_directive(token));
  if (!token.empty() && token.front() == '#') return std::string_view();
  return token;
}

std::pair<std::string_view, bool> Scanner::trim_continuation(std::string_view line) const {
  std::size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != m_escape) return {line, true};
  std::size_t esc = end - 1;
  if (esc == 0) return {line.substr(0, 0), false};
  if (line[esc - 1] == m_escape) return {line, true};
  return {line.substr(0, esc), false};
}

Result<void> Scanner::read_heredocs(Node& node, std::string_view line, int start_line) {
  const Node* target = &node;
  if (node.command == "onbuild" && !node.children.empty()) target = &node.children.front();
  if (target->command != "run" && target->command != "copy" && target->command != "add") return {};
  if (target->json) return {};

  auto docs = detail::heredocs_from_line(line);
  if (!docs) return tl::unexpected(error_at(start_line, docs.error().message()));
  for (Heredoc& doc : *docs) {
    bool terminated = false;
    std::string_view raw;
    while (m_reader.next(raw)) {
      ++m_line;
      std::string_view candidate = trim_newline(raw);
      if (doc.chomp) {
        while (!candidate.empty() && candidate.front() == '\t') candidate.remove_prefix(1);
      }
      if (candidate == doc.name) {
        terminated = true;
        break;
      }
      doc.content.append(raw);
    }
    if (!terminated)
      return tl::unexpected(error_at(start_line, "unterminated heredoc <<" + doc.name + " (no line \"" + doc.name +
                                                     "\" before end of file)"));
    node.heredocs.push_back(std::move(doc));
  }
  if (&node != target) node.children.front().heredocs = node.heredocs;
  return {};
}

Result<Ast> Scanner::run() {
  std::vector<std::string> comments;
  std::string_view raw;
  while (m_reader.next(raw)) {
    if (m_line == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    if (is_comment(raw)) {
      comments.emplace_back(detail::trim_space(detail::trim_left_space(trim_newline(raw)).substr(1)));
    }
    std::string_view first = TRY(process_line(raw, true));
    ++m_line;
    int start_line = m_line;
    auto [head, end_of_line] = trim_continuation(first);
    if (end_of_line && head.empty()) continue;

    std::string line(head);
    bool empty_continuation = false;
    while (!end_of_line && m_reader.next(raw)) {
      std::string_view processed = TRY(process_line(raw, false));
      ++m_line;
      if (is_comment(raw)) continue;
      if (detail::trim_left_space(processed).empty()) {
        empty_continuation = true;
        continue;
      }
      auto [part, eol] = trim_continuation(processed);
      end_of_line = eol;
      line.append(part);
      if (line.size() > k_max_instruction_bytes)
        return tl::unexpected(error_at(start_line, "instruction longer than " + std::to_string(k_max_instruction_bytes) + " bytes"));
    }
    if (empty_continuation)
      m_ast.warnings.push_back(std::string(m_file) + ":" + std::to_string(start_line) +
                               ": empty continuation line (will become an error in a future release)");

    if (m_ast.nodes.size() >= k_max_instructions)
      return tl::unexpected(error_at(start_line, "more than " + std::to_string(k_max_instructions) + " instructions"));
    auto node = detail::node_from_line(line, m_escape);
    if (!node) return tl::unexpected(error_at(start_line, node.error().message() + ": " + excerpt(line)));
    node->comments = std::move(comments);
    comments.clear();
    TRY(read_heredocs(*node, line, start_line));
    node->start_line = start_line;
    node->end_line = m_line;
    m_ast.nodes.push_back(std::move(*node));
  }
  if (m_ast.nodes.empty()) return tl::unexpected(error_at(m_line, "file with no instructions"));
  m_ast.escape = m_escape;
  return std::move(m_ast);
}

}  // namespace

Result<Ast> parse_ast(std::string_view text, std::string_view filename) {
  if (text.size() > k_max_input_bytes)
    return tl::unexpected(located_error(filename, 0, "file larger than " + std::to_string(k_max_input_bytes) + " bytes"));
  return Scanner(text, filename, '\\', true).run();
}

Result<Node> parse_ast_instruction(std::string_view text, char escape, std::string_view origin) {
  if (text.size() > k_max_instruction_bytes)
    return tl::unexpected(located_error(origin, 0, "instruction longer than " + std::to_string(k_max_instruction_bytes) + " bytes"));
  Ast ast = TRY(Scanner(text, origin, escape, false).run());
  if (ast.nodes.size() != 1)
    return tl::unexpected(located_error(origin, ast.nodes[1].start_line, "expected a single instruction, found " +
                                                                             std::to_string(ast.nodes.size())));
  return std::move(ast.nodes.front());
}

std::string dump(const Node& node) {
  std::string out = "(" + node.command;
  if (!node.flags.empty()) {
    out += " [";
    for (std::size_t i = 0; i < node.flags.size(); ++i) {
      if (i) out += ' ';
      out += detail::go_quote(node.flags[i]);
    }
    out += ']';
  }
  for (const Node& child : node.children) out += " " + dump(child);
  for (const std::string& arg : node.args) out += " " + detail::go_quote(arg);
  out += ')';
  return out;
}

std::string dump(const Ast& ast) {
  std::string out;
  for (const Node& node : ast.nodes) out += dump(node) + "\n";
  return out;
}

}  // namespace strata::dockerfile
