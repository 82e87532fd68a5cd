// The scanner and line parsers: directives, continuations, comments, heredocs, JSON forms, flags,
// error locations, limits.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "dockerfile/ast.hpp"
#include "dockerfile/instructions.hpp"
#include "dockerfile/stages.hpp"

using namespace strata::dockerfile;

namespace {

Ast parse_ok(std::string_view text) {
  auto ast = parse_ast(text);
  EXPECT_TRUE(ast) << ast.error().message();
  return ast ? *ast : Ast{};
}

std::string parse_error(std::string_view text) {
  auto ast = parse_ast(text);
  EXPECT_FALSE(ast) << dump(*ast);
  return ast ? std::string() : ast.error().message();
}

}  // namespace

TEST(Parser, DirectivesAtTopOnly) {
  Ast ast = parse_ok("# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM a\nRUN x `\n  y\n");
  ASSERT_EQ(ast.directives.size(), 3u);
  EXPECT_EQ(ast.directives[0].name, "syntax");
  EXPECT_EQ(ast.directives[0].value, "docker/dockerfile:1");
  EXPECT_EQ(ast.directives[2].name, "check");
  EXPECT_EQ(ast.escape, '`');
  EXPECT_EQ(dump(ast), "(from \"a\")\n(run \"x   y\")\n");

  // After an instruction, a directive-looking line is a comment.
  Ast late = parse_ok("FROM a\n# escape=`\nRUN x \\\n y\n");
  EXPECT_TRUE(late.directives.empty());
  EXPECT_EQ(late.escape, '\\');
  EXPECT_EQ(dump(late), "(from \"a\")\n(run \"x  y\")\n");

  // Unknown directive names end the directive block.
  Ast unknown = parse_ok("# foo=bar\n# escape=`\nFROM a\n");
  EXPECT_TRUE(unknown.directives.empty());
}

TEST(Parser, DirectiveErrors) {
  EXPECT_EQ(parse_error("# escape=`\n# escape=\\\nFROM a\n"), "Dockerfile:2: only one escape parser directive can be used");
  EXPECT_EQ(parse_error("# escape=x\nFROM a\n"), "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
  EXPECT_NE(parse_error("#ESCAPE = `\n#Escape=`\nFROM a\n").find("only one escape"), std::string::npos);
}

TEST(Parser, ContinuationsCommentsAndBlankLines) {
  Ast ast = parse_ok("FROM a\nRUN a \\\n# comment in the middle\n\n  b \\\n   \n c\n");
  EXPECT_EQ(dump(ast), "(from \"a\")\n(run \"a   b  c\")\n");
  ASSERT_EQ(ast.warnings.size(), 1u);
  EXPECT_NE(ast.warnings[0].find("Dockerfile:2"), std::string::npos);
  EXPECT_EQ(ast.nodes[1].start_line, 2);
  EXPECT_EQ(ast.nodes[1].end_line, 7);
  // Continuation at EOF, CRLF line endings, a BOM and indentation.
  Ast eof = parse_ok("\xEF\xBB\xBF  from a\r\n\tRUN x \\");
  EXPECT_EQ(dump(eof), "(from \"a\")\n(run \"x\")\n");
  EXPECT_EQ(eof.nodes[0].keyword, "from");
  // An escaped escape character does not continue the line.
  EXPECT_EQ(dump(parse_ok("FROM a\nENV A b\\\\\nENV B c\n")),
            "(from \"a\")\n(env \"A\" \"b\\\\\\\\\" \"\")\n(env \"B\" \"c\" \"\")\n");
}

TEST(Parser, CommentsAreRecorded) {
  Ast ast = parse_ok("# build it\nFROM a\n# NAME the user name\nARG NAME\n");
  ASSERT_EQ(ast.nodes.size(), 2u);
  EXPECT_EQ(ast.nodes[0].comments, std::vector<std::string>{"build it"});
  EXPECT_EQ(ast.nodes[1].comments, std::vector<std::string>{"NAME the user name"});
}

TEST(Parser, CaseInsensitiveKeywordsAndFlags) {
  Ast ast = parse_ok("from --platform=linux/arm64 a AS b\ncOpY --from=b --chown=\"1:1\" x /y\n");
  EXPECT_EQ(dump(ast), "(from [\"--platform=linux/arm64\"] \"a\" \"AS\" \"b\")\n"
                       "(copy [\"--from=b\" \"--chown=1:1\"] \"x\" \"/y\")\n");
}

TEST(Parser, JsonFormsAsBuildKit) {
  EXPECT_EQ(dump(parse_ok("CMD [\"a\", \"b c\"]\n")), "(cmd \"a\" \"b c\")\n");
  EXPECT_TRUE(parse_ok("CMD [\"a\"]\n").nodes[0].json);
  // Single quotes, unterminated arrays and trailing text are shell form.
  EXPECT_EQ(dump(parse_ok("CMD ['a']\n")), "(cmd \"['a']\")\n");
  EXPECT_FALSE(parse_ok("CMD ['a']\n").nodes[0].json);
  EXPECT_EQ(dump(parse_ok("CMD [\"a\"] b\n")), "(cmd \"[\\\"a\\\"] b\")\n");
  EXPECT_EQ(dump(parse_ok("CMD [\"a\"\n")), "(cmd \"[\\\"a\\\"\")\n");
  // Valid JSON that is not an array of strings is an error.
  EXPECT_EQ(parse_error("FROM a\nCMD [\"a\", 1]\n"),
            "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only: CMD [\"a\", 1]");
  EXPECT_NE(parse_error("ENTRYPOINT [\"a\", {\"b\": [1]}]\n").find("strings only"), std::string::npos);
  // Escapes and surrogate pairs decode; invalid JSON escapes fall back to shell form.
  EXPECT_EQ(parse_ok("CMD [\"\\u00e9\\ud83d\\ude00\\/\"]\n").nodes[0].args[0], "\xC3\xA9\xF0\x9F\x98\x80/");
  EXPECT_FALSE(parse_ok("CMD [\"\\x\"]\n").nodes[0].json);
  // JSON lists for COPY/ADD/VOLUME, whitespace lists otherwise.
  EXPECT_EQ(dump(parse_ok("VOLUME [\"/a\", \"/b\"]\nVOLUME /c  /d\n")), "(volume \"/a\" \"/b\")\n(volume \"/c\" \"/d\")\n");
}

TEST(Parser, EnvAndLabelForms) {
  EXPECT_EQ(dump(parse_ok("ENV a b c\nENV a=b c=\"d e\"\nLABEL \"x y\"=z\n")),
            "(env \"a\" \"b c\" \"\")\n(env \"a\" \"b\" \"=\" \"c\" \"\\\"d e\\\"\" \"=\")\n"
            "(label \"\\\"x y\\\"\" \"z\" \"=\")\n");
  EXPECT_EQ(parse_error("FROM a\nENV a=b c\n"),
            "Dockerfile:2: Syntax error - can't find = in \"c\". Must be of the form: name=value: ENV a=b c");
  EXPECT_EQ(parse_error("FROM a\nLABEL x\n"), "Dockerfile:2: LABEL must have two arguments: LABEL x");
}

TEST(Parser, Heredocs) {
  Ast ast = parse_ok("FROM a\nRUN <<EOF\necho $X\nEOF\nRUN <<-'END' cat >/x\n\tline\n\tEND\nCOPY <<A <<\"B\" /dst/\na\nA\nb\nB\nRUN echo\n");
  ASSERT_EQ(ast.nodes.size(), 5u);
  const Node& run = ast.nodes[1];
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].name, "EOF");
  EXPECT_EQ(run.heredocs[0].content, "echo $X\n");
  EXPECT_TRUE(run.heredocs[0].expand);
  EXPECT_FALSE(run.heredocs[0].chomp);
  EXPECT_EQ(run.args, std::vector<std::string>{"<<EOF"});
  EXPECT_EQ(run.end_line, 4);

  const Node& chomped = ast.nodes[2];
  ASSERT_EQ(chomped.heredocs.size(), 1u);
  EXPECT_EQ(chomped.heredocs[0].name, "END");
  EXPECT_FALSE(chomped.heredocs[0].expand);
  EXPECT_TRUE(chomped.heredocs[0].chomp);
  EXPECT_EQ(chomped.heredocs[0].content, "\tline\n");
  EXPECT_EQ(chomp_heredoc(chomped.heredocs[0].content), "line\n");

  const Node& copy = ast.nodes[3];
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0].content, "a\n");
  EXPECT_TRUE(copy.heredocs[0].expand);
  EXPECT_EQ(copy.heredocs[1].content, "b\n");
  EXPECT_FALSE(copy.heredocs[1].expand);
  EXPECT_EQ(ast.nodes[4].start_line, 13);

  // fd prefix; exec form and other instructions have no heredocs.
  Ast fd = parse_ok("FROM a\nRUN 3<<EOF cat /dev/fd/3\nx\nEOF\nRUN [\"<<EOF\"]\nCMD <<EOF\n");
  EXPECT_EQ(fd.nodes[1].heredocs.at(0).fd, 3u);
  EXPECT_TRUE(fd.nodes[2].heredocs.empty());
  EXPECT_TRUE(fd.nodes[3].heredocs.empty());
}

TEST(Parser, HeredocErrors) {
  EXPECT_EQ(parse_error("FROM a\nRUN <<EOF\nnever closed\n"),
            "Dockerfile:2: unterminated heredoc <<EOF (no line \"EOF\" before end of file)");
  EXPECT_NE(parse_error("FROM a\nRUN <<\"EOF\nx\n").find("Dockerfile:2: heredoc <<\"EOF: unexpected end"), std::string::npos);
}

TEST(Parser, OnbuildHasChild) {
  Ast ast = parse_ok("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n");
  const Node& onbuild = ast.nodes[1];
  ASSERT_EQ(onbuild.children.size(), 1u);
  EXPECT_EQ(onbuild.children[0].command, "run");
  ASSERT_EQ(onbuild.heredocs.size(), 1u);
  EXPECT_EQ(onbuild.children[0].heredocs.size(), 1u);
  EXPECT_EQ(dump(onbuild), "(onbuild (run \"<<EOF\"))");
  EXPECT_NE(parse_error("ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD RUN x\n")
                .find("nested too deeply"),
            std::string::npos);
}

TEST(Parser, SingleInstruction) {
  auto node = parse_ast_instruction("RUN make \\\n  install");
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(dump(*node), "(run \"make   install\")");
  auto two = parse_ast_instruction("RUN a\nRUN b");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message(), "ONBUILD trigger:2: expected a single instruction, found 2");
  auto bt = parse_ast_instruction("RUN a `\n b", '`');
  ASSERT_TRUE(bt);
  EXPECT_EQ(bt->args[0], "a  b");
}

TEST(Parser, EmptyAndLimits) {
  EXPECT_EQ(parse_error(""), "Dockerfile: file with no instructions");
  EXPECT_EQ(parse_error("# just\n\n# comments\n"), "Dockerfile:3: file with no instructions");
  std::string long_line = "FROM a\nRUN " + std::string(k_max_line_bytes + 10, 'x') + "\n";
  EXPECT_NE(parse_error(long_line).find("Dockerfile:2: line longer than"), std::string::npos);
  auto named = parse_ast("RUNN x\n", "ci/Dockerfile.prod");
  ASSERT_TRUE(named);  // unknown instructions are kept in the AST; the typed layer rejects them
  EXPECT_EQ(dump(*named), "(runn \"\")\n");
}

TEST(Parser, HostileInputsAreBounded) {
  // Deep JSON nesting is checked without recursion; beyond Go's depth it is simply not JSON.
  std::string deep = "FROM a\nCMD " + std::string(200000, '[') + "\n";
  Ast ast = parse_ok(deep);
  EXPECT_FALSE(ast.nodes[1].json);
  std::string nested = "FROM a\nCMD [" + std::string(5000, '[') + std::string(5000, ']') + "]\n";
  EXPECT_NE(parse_error(nested).find("strings only"), std::string::npos);
  // Many heredocs on one line, none terminated.
  std::string docs = "FROM a\nRUN";
  for (int i = 0; i < 5000; ++i) docs += " <<E" + std::to_string(i);
  EXPECT_NE(parse_error(docs + "\n").find("unterminated heredoc <<E0"), std::string::npos);
  // A huge continued instruction is cut off at the instruction limit.
  std::string continued = "FROM a\nRUN x \\\n";
  std::string piece(1000, 'y');
  piece += " \\\n";
  while (continued.size() < k_max_instruction_bytes + 100000) continued += piece;
  EXPECT_NE(parse_error(continued).find("Dockerfile:2: instruction longer than"), std::string::npos);
  // Binary garbage: an error or a parse, never a crash.
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xFF));
  (void)parse_ast(garbage);
}

TEST(Parser, FiveThousandLinePerformance) {
  std::string text = "# syntax=docker/dockerfile:1\nARG BASE=debian\nFROM ${BASE} AS base\n";
  int lines = 3;
  for (int i = 0; lines < 5000; ++i) {
    switch (i % 6) {
      case 0: text += "RUN --mount=type=cache,target=/var/cache/apt apt-get update && \\\n    apt-get install -y pkg" + std::to_string(i) + "\n"; lines += 2; break;
      case 1: text += "ENV KEY" + std::to_string(i) + "=\"value with spaces\" OTHER=x\n"; ++lines; break;
      case 2: text += "COPY --chown=1000:1000 [\"src/file" + std::to_string(i) + "\", \"/app/\"]\n"; ++lines; break;
      case 3: text += "# a comment line\nLABEL a=b c=d\n"; lines += 2; break;
      case 4: text += "RUN <<EOF\necho " + std::to_string(i) + "\nEOF\n"; lines += 3; break;
      default: text += "WORKDIR /app/" + std::to_string(i) + "\n"; ++lines; break;
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto ast = parse_ast(text);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(ast) << ast.error().message();
  EXPECT_GT(ast->nodes.size(), 3000u);
  std::printf("[ perf     ] parse_ast of a %d-line Dockerfile: %.2f ms\n", lines,
              std::chrono::duration<double, std::milli>(elapsed).count());

  start = std::chrono::steady_clock::now();
  auto df = parse_dockerfile(text);
  ASSERT_TRUE(df) << df.error().message();
  auto graph = build_stage_graph(*df);
  elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(graph) << graph.error().message();
  EXPECT_EQ(graph->stages.at(0).base, "debian");
  std::printf("[ perf     ] parse_dockerfile + build_stage_graph of the same: %.2f ms\n",
              std::chrono::duration<double, std::milli>(elapsed).count());
}
