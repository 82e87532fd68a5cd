// Expectations ported from BuildKit's frontend/dockerfile/shell tests (envVarTest, wordsTest,
// TestShellParserMandatoryEnvVars, TestProcessWithMatches), run against our own lexer.
#include <gtest/gtest.h>

#include <map>

#include "dockerfile/shell_lex.hpp"

namespace strata::dockerfile {
namespace {

struct Case {
  const char* input;
  const char* expected;  // nullptr: must fail
};

Lookup map_lookup(const std::map<std::string, std::string>& env) {
  return [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

const std::map<std::string, std::string> k_env = {
    {"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}};

void check_cases(const std::vector<Case>& cases, const std::map<std::string, std::string>& env) {
  const Lookup lookup = map_lookup(env);
  for (const Case& c : cases) {
    auto r = expand_word(c.input, lookup);
    if (c.expected == nullptr) {
      EXPECT_FALSE(r.has_value()) << "input: " << c.input << " gave: " << (r ? r->value : "");
      if (!r) {
        EXPECT_EQ(r.error().kind(), ErrorKind::invalid_argument);
      }
    } else {
      ASSERT_TRUE(r.has_value()) << "input: " << c.input << ": " << r.error().message();
      EXPECT_EQ(r->value, c.expected) << "input: " << c.input;
    }
  }
}

TEST(ShellLex, EnvVarTestQuotesAndEscapes) {
  check_cases({{"hello", "hello"},
               {"he'll'o", "hello"},
               {"he'llo", nullptr},
               {R"(he\'llo)", "he'llo"},
               {R"(he\\'llo)", nullptr},
               {R"(abc\tdef)", "abctdef"},
               {R"("abc\tdef")", R"(abc\tdef)"},
               {R"("abc\\tdef")", R"(abc\tdef)"},
               {R"('abc\tdef')", R"(abc\tdef)"},
               {R"(hello\)", "hello"},
               {R"(hello\\)", R"(hello\)"},
               {R"("hello)", nullptr},
               {R"("hello\")", nullptr},
               {R"("hel'lo")", "hel'lo"},
               {"'hello", nullptr},
               {R"('hello\')", R"(hello\)"},
               {R"('hello\there')", R"(hello\there)"},
               {R"('hello\\there')", R"(hello\\there)"},
               {R"("''")", "''"},
               {R"('"hello"')", R"("hello")"}},
              k_env);
}

TEST(ShellLex, EnvVarTestDollar) {
  check_cases({{"$.", "$."},
               {"he$1x", "hex"},
               {"he$.x", "he$.x"},
               {"he$pwd.", "he."},
               {"he$PWD", "he/home"},
               {R"(he\$PWD)", "he$PWD"},
               {R"(he\\$PWD)", R"(he\/home)"},
               {R"("he\$PWD")", "he$PWD"},
               {R"("he\\$PWD")", R"(he\/home)"},
               {R"(\${})", "${}"},
               {R"(\${}aaa)", "${}aaa"},
               {R"(he\${})", "he${}"},
               {R"(he\${}xx)", "he${}xx"},
               {"${}", nullptr},
               {"${}aaa", nullptr},
               {"he${}", nullptr},
               {"he${}xx", nullptr},
               {"he${hi}", "he"},
               {"he${hi}xx", "hexx"},
               {"he${PWD}", "he/home"},
               {"he${.}", nullptr},
               {"'he${XX}'", "he${XX}"},
               {R"("he${PWD}")", "he/home"},
               {R"("he'$PWD'")", "he'/home'"},
               {R"("$PWD")", "/home"},
               {"'$PWD'", "$PWD"},
               {R"('\$PWD')", R"(\$PWD)"},
               {R"('he\$PWD')", R"(he\$PWD)"},
               {"he${PWD", nullptr},
               {"$", "$"},
               {"a$", "a$"},
               {"$}", "$}"},
               {"${", nullptr},
               {"${{aaa}", nullptr},
               {"${:aaa}", nullptr},
               {"${aaa}}", "}"},
               {"${aaa}}}", "}}"},
               {"$KOREAN", "한국어"},
               {"안녕$KOREAN", "안녕한국어"},
               {"안녕$PWD", "안녕/home"},
               {"안'녕'하세요", "안녕하세요"},
               {"안'녕하세요", nullptr},
               {R"(안녕\'하세요)", "안녕'하세요"},
               {"'안녕하세요'", "안녕하세요"}},
              k_env);
}

TEST(ShellLex, EnvVarTestModifiers) {
  check_cases({{"he${XXX:-000}xx", "he000xx"},
               {"he${PWD:-000}xx", "he/homexx"},
               {"he${XXX:-$PWD}xx", "he/homexx"},
               {"he${XXX:-${PWD:-yyy}}xx", "he/homexx"},
               {"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
               {"he${XXX:YYY}", nullptr},
               {"he${XXX?}", nullptr},
               {"he${XXX:?}", nullptr},
               {"he${PWD?}", "he/home"},
               {"he${PWD:?}", "he/home"},
               {"he${NULL?}", "he"},
               {"he${NULL:?}", nullptr},
               {"he${XXX:+${PWD}}xx", "hexx"},
               {"he${PWD:+${XXX}}xx", "hexx"},
               {"he${PWD:+${SHELL}}xx", "hebashxx"},
               {"he${XXX:+000}xx", "hexx"},
               {"he${PWD:+000}xx", "he000xx"},
               {"he${PWD:=000}xx", nullptr},
               {"he${PWD:+${PWD}:}xx", "he/home:xx"},
               {R"(he${XXX:-\$PWD:}xx)", "he$PWD:xx"},
               {R"(he${XXX:-\${PWD}z}xx)", "he${PWDz}xx"},
               {"${aaa:-bbb}}", "bbb}"},
               {"${aaa:-{bbb}", "{bbb"},
               {"${aaa:-{bbb}}", "{bbb}"},
               {"${aaa:-'x}y'}", "x}y"},
               {R"(${aaa:-"a b"})", "a b"},
               {"${NULL-dflt}", ""},
               {"${NULL:-dflt}", "dflt"},
               {"${NULL+alt}", "alt"},
               {"${NULL:+alt}", ""},
               {"${XXX:-a", nullptr}},
              k_env);
}

TEST(ShellLex, ProcessWithMatchesPatterns) {
  struct P {
    const char* input;
    std::map<std::string, std::string> env;
    const char* expected;
  };
  const std::vector<P> cases = {
      {R"(${FOO#()[]{\}^$.\*\?|\\})", {{"FOO", R"(()[]{}^$.*?|\x)"}}, "x"},
      {R"(${FOO%%\**})", {{"FOO", "xx**"}}, "xx"},
      {"${FOO#*x*y}", {{"FOO", "xxyy"}}, "y"},
      {"${FOO#*}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", "x"}}, "xyy"},
      {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy"},
      {"${FOO#}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO##*x}", {{"FOO", "xxyy"}}, "yy"},
      {"${FOO##}", {{"FOO", "xxyy"}}, "xxyy"},
      {R"(${FOO#?\?})", {{"FOO", "???y"}}, "?y"},
      {"${ABC:-.}${FOO%x}${ABC:-.}", {{"FOO", "xxyy"}}, ".xxyy."},
      {R"(${FOO%%\**\*})", {{"FOO", "a***yy*"}}, "a"},
      {"${FOO%}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO%%$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy"},
      {"${FOO%y*}", {{"FOO", "xxyy"}}, "xxy"},
      {"${FOO%%y*}", {{"FOO", "xxyy"}}, "xx"},
      {"${FOO%.*}", {{"FOO", "archive.tar.gz"}}, "archive.tar"},
      {"${FOO%%.*}", {{"FOO", "archive.tar.gz"}}, "archive"},
      {"${FOO##*/}", {{"FOO", "/usr/local/bin/tool"}}, "tool"},
      {"${FOO#*/}", {{"FOO", "/usr/local/bin/tool"}}, "usr/local/bin/tool"},
      {"${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {{"FOO", "/foo*/*/*.txt"}, {"NEEDLE", R"(\*/)"}},
       "/foo.*/*.txt - /foo..*.txt"},
      {"${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {{"FOO", "/tmp/tmp/bar.txt"}, {"NEEDLE", "/tmp"}},
       "/tmp/bar.txt - /bar.txt"},
      {"${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
       {{"FOO", "/a/foo/b/c.txt"}, {"NEEDLE", "/?/"}, {"REPLACEMENT", "/"}},
       "/foo/b/c.txt - /foo/c.txt"},
      {"${FOO/$NEEDLE/$REPLACEMENT}",
       {{"FOO", "http://google.de"}, {"NEEDLE", "http://"}, {"REPLACEMENT", "https://"}},
       "https://google.de"},
      {R"(${FOO//\//\/})", {{"FOO", "/tmp/foo.txt"}}, R"(\/tmp\/foo.txt)"},
      {"${FOO/$BAR/ww}", {{"FOO", "xxyy"}, {"BAR", ""}}, "wwxxyy"},
      {"${FOO///}", {{"FOO", "xxyy"}}, "xxyy"},
      {"${FOO///}", {}, ""},
      {"${FOO/x*/z}", {{"FOO", "axbxc"}}, "az"},
      {"${FOO//x/}", {{"FOO", "axbxc"}}, "abc"},
      {"${FOO//?/-}", {{"FOO", "añb"}}, "---"},
      {"${FOO//$BAR/-}", {{"FOO", "ab"}, {"BAR", ""}}, "-a-b-"},
      {"${FOO/*/}", {{"FOO", "a\nb"}}, "\nb"},
  };
  for (const P& c : cases) {
    auto r = expand_word(c.input, map_lookup(c.env));
    ASSERT_TRUE(r.has_value()) << c.input << ": " << r.error().message();
    EXPECT_EQ(r->value, c.expected) << c.input;
  }
  for (const char* bad : {"${FOO//ww}", "${FOO//}", "${FOO=aaa}", "${FOO=:aaa}", "${FOO=}",
                          R"(${FOO#\x})", R"(${FOO#a\})", "${FOO/a"}) {
    EXPECT_FALSE(expand_word(bad, map_lookup({{"FOO", "xxyy"}})).has_value()) << bad;
  }
}

TEST(ShellLex, MandatoryVariables) {
  const std::map<std::string, std::string> set = {{"VAR", "plain"}, {"ARG", "x"}};
  const std::map<std::string, std::string> empty = {{"VAR", ""}, {"ARG", "x"}};
  const std::map<std::string, std::string> unset = {{"ARG", "x"}};
  const char* no_empty = "${VAR:?message here$ARG}";
  const char* no_unset = "${VAR?message here$ARG}";

  EXPECT_EQ(expand_word(no_empty, map_lookup(set))->value, "plain");
  auto e = expand_word(no_empty, map_lookup(empty));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("VAR: message herex"), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().message().find(no_empty), std::string::npos) << "the error names the word";
  EXPECT_FALSE(expand_word(no_empty, map_lookup(unset)).has_value());

  EXPECT_EQ(expand_word(no_unset, map_lookup(set))->value, "plain");
  EXPECT_EQ(expand_word(no_unset, map_lookup(empty))->value, "");
  auto u = expand_word(no_unset, map_lookup(unset));
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message().find("message herex"), std::string::npos);

  auto d = expand_word("${BAZ:?}", map_lookup({}));
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("BAZ: is not allowed to be unset"), std::string::npos);
  auto z = expand_word("${BAZ:?}", map_lookup({{"BAZ", ""}}));
  ASSERT_FALSE(z.has_value());
  EXPECT_NE(z.error().message().find("BAZ: is not allowed to be empty"), std::string::npos);
}

TEST(ShellLex, UsedNamesInOrderAndUnique) {
  auto r = expand_word("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc} $FOO", map_lookup({{"FOO", "xxx"}, {"BAR", ""}}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "xxx  ccc xxx");
  EXPECT_EQ(r->used, (std::vector<std::string>{"FOO", "BAR", "BAZ"}));

  auto n = expand_word("${A:-${B}}'$C'", map_lookup({}));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->value, "$C");
  EXPECT_EQ(n->used, (std::vector<std::string>{"B", "A"}));  // the nested word expands first

  auto p = expand_word("something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
                       map_lookup({{"VERSION", "v1.2.3"}, {"TARGETOS", "linux"}, {"TARGETARCH", "arm"},
                                   {"TARGETVARIANT", "v7"}}));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->value, "something-v1.2.3.linux-arm-v7.tar.gz");
}

TEST(ShellLex, BacktickEscape) {
  const Lookup lookup = map_lookup(k_env);
  EXPECT_EQ(expand_word(R"(C:\path\$PWD)", lookup, '`')->value, R"(C:\path\/home)");
  EXPECT_EQ(expand_word("he`$PWD", lookup, '`')->value, "he$PWD");
  EXPECT_EQ(expand_word("\"a`\"b\"", lookup, '`')->value, "a\"b");
  EXPECT_EQ(expand_word("a``b", lookup, '`')->value, "a`b");
}

TEST(ShellLex, Words) {
  struct W {
    const char* input;
    std::vector<std::string> expected;  // {"error"} for a failure
  };
  const std::map<std::string, std::string> env = {
      {"hi", "hi"}, {"space", "abc  def"}, {"leading", "  ab c"}, {"trailing", "ab c   "}};
  const std::vector<W> cases = {
      {"hello", {"hello"}},
      {"hello${hi}bye", {"hellohibye"}},
      {"hello${space}bye", {"helloabc", "defbye"}},
      {"hello\"${space}\"bye", {"helloabc  defbye"}},
      {"hello \"${space}\"bye", {"hello", "abc  defbye"}},
      {"hello${leading}def", {"hello", "ab", "cdef"}},
      {"hello\"${leading}\" def", {"hello  ab c", "def"}},
      {"hello\"${leading}\"", {"hello  ab c"}},
      {"hello${leading}", {"hello", "ab", "c"}},
      {"hello${trailing}", {"helloab", "c"}},
      {"hello${trailing}d", {"helloab", "c", "d"}},
      {"hello\"${trailing}\"d", {"helloab c   d"}},
      {"hel\"lo${trailing}\"", {"helloab c   "}},
      {"hello\" there  \"", {"hello there  "}},
      {"hello there     ", {"hello", "there"}},
      {"  hello   there", {"hello", "there"}},
      {R"(hello\ there)", {"hello there"}},
      {"hello\" there", {"error"}},
      {R"(hello\" there)", {"hello\"", "there"}},
      {R"(hello"\\there")", {R"(hello\there)"}},
      {R"(hello"\there")", {R"(hello\there)"}},
      {R"(hello'\\there')", {R"(hello\\there)"}},
      {R"(hello'\there')", {R"(hello\there)"}},
      {"hello'$there'", {"hello$there"}},
      {"a \"\" b", {"a", "b"}},
      {"", {}},
  };
  for (const W& c : cases) {
    auto r = expand_words(c.input, map_lookup(env));
    const std::vector<std::string> got = r ? *r : std::vector<std::string>{"error"};
    EXPECT_EQ(got, c.expected) << "input: " << c.input;
  }
}

TEST(ShellLex, LookupFromEnvLastWins) {
  const std::vector<std::string> env = {"A=1", "B", "A=2", "C=x=y"};
  const Lookup lookup = lookup_from_env(env);
  EXPECT_EQ(lookup("A"), "2");
  EXPECT_EQ(lookup("B"), "");
  EXPECT_EQ(lookup("C"), "x=y");
  EXPECT_EQ(lookup("D"), std::nullopt);
  EXPECT_EQ(expand_word("${B-unset}${D-unset}", lookup)->value, "unset");
}

TEST(ShellLex, HostileInputsTerminate) {
  // Long patterns against long values must stay polynomial.
  const std::string value(400, 'a');
  const std::string word = "${V//" + std::string(30, '*') + "b/x}";
  auto r = expand_word(word, map_lookup({{"V", value}}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, value);
  EXPECT_FALSE(expand_word(std::string(5000, '{').insert(0, "$"), map_lookup({})).has_value());
  std::string nested = "x";
  for (int i = 0; i < 200; ++i) nested = "${U:-" + nested + "}";
  EXPECT_EQ(expand_word(nested, map_lookup({}))->value, "x");
}

}  // namespace
}  // namespace strata::dockerfile

namespace strata::dockerfile {
namespace {

// COPY <<EOT bodies: BuildKit's ExpandRaw (SkipProcessQuotes, `\` as escape).
TEST(ShellLex, HeredocBodyKeepsQuotesAndExpandsVariables) {
  const Lookup lookup = map_lookup({{"NAME", "strata"}, {"EMPTY", ""}});
  auto r = expand_heredoc("hello ${NAME}\necho \"hi $NAME\" 'x $NAME'\n", lookup);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->value, "hello strata\necho \"hi strata\" 'x strata'\n");
  EXPECT_EQ(r->used, std::vector<std::string>{"NAME"});
  auto escaped = expand_heredoc("cost \\$5 ${EMPTY:-dflt} it's\n", lookup);
  ASSERT_TRUE(escaped) << escaped.error().message();
  EXPECT_EQ(escaped->value, "cost $5 dflt it's\n");
  EXPECT_FALSE(expand_heredoc("${NAME", lookup));
}

}  // namespace
}  // namespace strata::dockerfile
