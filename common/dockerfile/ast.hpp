// The Dockerfile syntax tree: what BuildKit's frontend/dockerfile/parser produces, before any
// instruction is given a meaning (see instructions.hpp for the typed layer).
//
// One Node per instruction. Its arguments are kept the way BuildKit's per-instruction line parsers
// leave them (quotes kept, no variable expanded), because expansion needs the build-time
// environment (a base image's ENV) which is not known when parsing:
//   - shell form of RUN/CMD/ENTRYPOINT/SHELL/STOPSIGNAL/USER/WORKDIR/MAINTAINER: one argument, the
//     rest of the line; exec (JSON) form: one argument per array element and `json` set;
//   - ENV/LABEL: triples key, value, separator ("=" for `k=v`, "" for the legacy `k v` form);
//   - ARG: one word per declaration, `name` or `name=default`, quotes kept;
//   - FROM/EXPOSE and non-JSON ADD/COPY/VOLUME: whitespace-separated words;
//   - HEALTHCHECK: the type word ("CMD"/"NONE") then the command as for CMD;
//   - ONBUILD: no arguments, the trigger instruction as the single child.
// Flags (`--from=x`) are extracted for every instruction the way BuildKit's extractBuilderFlags
// does (quotes and backslashes processed, `--` ends the flags).
//
// Thread safety: the functions are pure; values are plain data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::dockerfile {

// A here-document attached to RUN/COPY/ADD (`<<EOF`, `<<-EOF`, `3<<"EOF"`).
struct Heredoc {
  std::string name;     // the delimiter word, quotes removed
  std::string content;  // the lines up to the delimiter, each with its '\n'; tabs not yet stripped
  unsigned fd = 0;      // "3<<EOF" → 3; 0 when none was written
  bool expand = true;   // false when any part of the delimiter was quoted: no variable expansion
  bool chomp = false;   // "<<-": leading tabs are stripped from content lines (see chomp_heredoc)
};

struct Node {
  std::string keyword;             // the instruction word as written ("run", "RUN")
  std::string command;             // lowercase keyword, the dispatch key
  std::vector<std::string> flags;  // "--mount=type=cache,target=/x", in order
  std::vector<std::string> args;
  bool json = false;               // arguments came from a JSON array (exec form)
  std::vector<Node> children;      // ONBUILD: the trigger instruction
  std::vector<Heredoc> heredocs;
  std::string original;            // the logical line (continuations joined), without heredoc bodies
  int start_line = 0;              // 1-based, first physical line of the instruction
  int end_line = 0;                // last physical line, heredoc bodies included
  std::vector<std::string> comments;  // comment lines directly above, '#' and spaces stripped
};

struct Directive {
  std::string name;  // lowercase: "syntax", "escape" or "check"
  std::string value;
  int line = 0;
};

struct Ast {
  std::vector<Node> nodes;
  std::vector<Directive> directives;
  char escape = '\\';
  // "Empty continuation line" notices, as BuildKit prints them.
  std::vector<std::string> warnings;
};

// Limits that keep hostile input from taking unbounded time or memory; exceeding one is an
// invalid_argument error naming the file and line.
inline constexpr std::size_t k_max_input_bytes = 64u << 20;
inline constexpr std::size_t k_max_line_bytes = 1u << 20;          // one physical line
inline constexpr std::size_t k_max_instruction_bytes = 4u << 20;   // continuations joined
inline constexpr std::size_t k_max_instructions = 100000;

// Parses a whole Dockerfile. `filename` only prefixes error messages: every error is
// invalid_argument with a message "FILE:LINE: what" naming the offending text.
// Errors: directives repeated or invalid, JSON arrays holding non-strings, ENV/LABEL syntax,
// unterminated heredocs, no instruction at all, limits exceeded.
Result<Ast> parse_ast(std::string_view text, std::string_view filename = "Dockerfile");

// Parses one instruction line with the same rules (used for ONBUILD triggers stored in a base
// image's config). `text` may continue with heredoc bodies. Errors as parse_ast, plus more than one
// instruction.
Result<Node> parse_ast_instruction(std::string_view text, char escape = '\\',
                                   std::string_view origin = "ONBUILD trigger");

// BuildKit's AST dump: one S-expression per instruction, e.g. `(copy ["--from=a"] "x" "/y")`,
// each followed by '\n'. Strings are quoted as Go's strconv.Quote does.
std::string dump(const Ast& ast);
std::string dump(const Node& node);

// The error every function of common/dockerfile/ returns for bad input: invalid_argument with
// "FILE:LINE: message" (just "FILE: message" when line is 0).
Error located_error(std::string_view file, int line, std::string_view message);

// Strips the leading tabs of every line, as `<<-` asks.
std::string chomp_heredoc(std::string_view content);

// Recognises a heredoc word ("<<EOF", "<<-'EOF'", "2<<EOF"); false when `word` is not one.
bool parse_heredoc_word(std::string_view word, Heredoc& out);

}  // namespace strata::dockerfile
