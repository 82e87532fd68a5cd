// Cases from moby/patternmatcher's tests (TestMatches, TestMatch, the multi-pattern cases) and
// from the issues users hit with kaniko/docker (`**/*.go`, re-inclusion inside an excluded
// directory, `*/` patterns, `.git`, trailing slashes, `./foo`).
#include <gtest/gtest.h>

#include <set>

#include "dockerfile/dockerignore.hpp"

namespace strata::dockerfile {
namespace {

DockerIgnore make(const std::vector<std::string>& patterns) {
  auto r = DockerIgnore::from_patterns(patterns);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? std::move(*r) : DockerIgnore();
}

DockerIgnore parse(std::string_view content) {
  auto r = DockerIgnore::parse(content);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? std::move(*r) : DockerIgnore();
}

enum Want { k_fail, k_exact, k_inexact };

TEST(DockerIgnore, PatternMatcherMatchesTable) {
  struct C {
    const char* pattern;
    const char* text;
    Want want;
  };
  const std::vector<C> cases = {
      {"**", "file", k_exact},
      {"**", "file/", k_exact},
      {"**/", "file", k_exact},
      {"**/", "file/", k_exact},
      {"**", "/", k_exact},
      {"**/", "/", k_exact},
      {"**", "dir/file", k_exact},
      {"**/", "dir/file", k_exact},
      {"**", "dir/file/", k_exact},
      {"**/", "dir/file/", k_exact},
      {"**/**", "dir/file", k_exact},
      {"**/**", "dir/file/", k_exact},
      {"dir/**", "dir/file", k_exact},
      {"dir/**", "dir/file/", k_exact},
      {"dir/**", "dir/dir2/file", k_exact},
      {"dir/**", "dir/dir2/file/", k_exact},
      {"**/dir", "dir", k_exact},
      {"**/dir", "dir/file", k_inexact},
      {"**/dir2/*", "dir/dir2/file", k_exact},
      {"**/dir2/*", "dir/dir2/file/", k_inexact},
      {"**/dir2/**", "dir/dir2/dir3/file", k_exact},
      {"**/dir2/**", "dir/dir2/dir3/file/", k_exact},
      {"**file", "file", k_exact},
      {"**file", "dir/file", k_exact},
      {"**/file", "dir/file", k_exact},
      {"**file", "dir/dir/file", k_exact},
      {"**/file", "dir/dir/file", k_exact},
      {"**/file*", "dir/dir/file", k_exact},
      {"**/file*", "dir/dir/file.txt", k_exact},
      {"**/file*txt", "dir/dir/file.txt", k_exact},
      {"**/file*.txt", "dir/dir/file.txt", k_exact},
      {"**/file*.txt*", "dir/dir/file.txt", k_exact},
      {"**/**/*.txt", "dir/dir/file.txt", k_exact},
      {"**/**/*.txt2", "dir/dir/file.txt", k_fail},
      {"**/*.txt", "file.txt", k_exact},
      {"**/**/*.txt", "file.txt", k_exact},
      {"a**/*.txt", "a/file.txt", k_exact},
      {"a**/*.txt", "a/dir/file.txt", k_exact},
      {"a**/*.txt", "a/dir/dir/file.txt", k_exact},
      {"a/*.txt", "a/dir/file.txt", k_fail},
      {"a/*.txt", "a/file.txt", k_exact},
      {"a/*.txt**", "a/file.txt", k_exact},
      {"a[b-d]e", "ae", k_fail},
      {"a[b-d]e", "ace", k_exact},
      {"a[b-d]e", "aae", k_fail},
      {"a[^b-d]e", "aze", k_exact},
      {".*", ".foo", k_exact},
      {".*", "foo", k_fail},
      {"abc.def", "abcdef", k_fail},
      {"abc.def", "abc.def", k_exact},
      {"abc.def", "abcZdef", k_fail},
      {"abc?def", "abcZdef", k_exact},
      {"abc?def", "abcdef", k_fail},
      {"**/foo/bar", "foo/bar", k_exact},
      {"**/foo/bar", "dir/foo/bar", k_exact},
      {"**/foo/bar", "dir/dir2/foo/bar", k_exact},
      {"abc/**", "abc", k_fail},
      {"abc/**", "abc/def", k_exact},
      {"abc/**", "abc/def/ghi", k_exact},
      {"**/.foo", ".foo", k_exact},
      {"**/.foo", "bar.foo", k_fail},
      {"a(b)c/def", "a(b)c/def", k_exact},
      {"a(b)c/def", "a(b)c/xyz", k_fail},
      {"a.|)$(}+{bc", "a.|)$(}+{bc", k_exact},
      {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
       "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", k_exact},
      {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", k_exact},
      {R"(a\\)", R"(a\)", k_exact},
      {R"(a\*b)", "a*b", k_exact},
  };
  for (const C& c : cases) {
    auto p = IgnorePattern::compile(clean_path(c.pattern));
    ASSERT_TRUE(p.has_value()) << c.pattern;
    EXPECT_EQ(p->matches(c.text), c.want == k_exact) << "exact: " << c.pattern << " vs " << c.text;
    const std::string_view text = c.text;
    if (text == "/") continue;  // context paths are relative: "/" is the root, never excluded
    EXPECT_EQ(p->matches_self_or_parent(text.ends_with('/') ? text.substr(0, text.size() - 1) : text),
              c.want != k_fail)
        << "or-parent: " << c.pattern << " vs " << c.text;
    EXPECT_EQ(make({c.pattern}).excluded(c.text), c.want != k_fail) << c.pattern << " vs " << c.text;
  }
}

TEST(DockerIgnore, GoFilepathMatchTable) {
  struct C {
    const char* pattern;
    const char* text;
    bool match;
    bool bad = false;
  };
  const std::vector<C> cases = {
      {"abc", "abc", true},
      {"*", "abc", true},
      {"*c", "abc", true},
      {"a*", "a", true},
      {"a*", "abc", true},
      {"a*", "ab/c", true},
      {"a*/b", "abc/b", true},
      {"a*/b", "a/c/b", false},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
      {"a*b?c*x", "abxbbxdbxebxczzx", true},
      {"a*b?c*x", "abxbbxdbxebxczzy", false},
      {"ab[c]", "abc", true},
      {"ab[b-d]", "abc", true},
      {"ab[e-g]", "abc", false},
      {"ab[^c]", "abc", false},
      {"ab[^b-d]", "abc", false},
      {"ab[^e-g]", "abc", true},
      {R"(a\*b)", "a*b", true},
      {R"(a\*b)", "ab", false},
      {"a?b", "a☺b", true},
      {"a[^a]b", "a☺b", true},
      {"a???b", "a☺b", false},
      {"a[^a][^a][^a]b", "a☺b", false},
      {"[a-ζ]*", "α", true},
      {"*[a-ζ]", "A", false},
      {"a?b", "a/b", false},
      {"a*b", "a/b", false},
      {R"([\]a])", "]", true},
      {R"([\-])", "-", true},
      {R"([x\-])", "x", true},
      {R"([x\-])", "-", true},
      {R"([x\-])", "z", false},
      {R"([\-x])", "x", true},
      {R"([\-x])", "-", true},
      {R"([\-x])", "a", false},
      {"[]a]", "]", false, true},
      {"[-]", "-", false, true},
      {"[x-]", "x", false, true},
      {"[-x]", "x", false, true},
      {R"(\)", "a", false, true},
      {"[a-b-c]", "a", false, true},
      {"[", "a", false, true},
      {"[^", "a", false, true},
      {"[^bc", "a", false, true},
      {"a[", "a", false, true},
      {"*x", "xxx", true},
  };
  for (const C& c : cases) {
    auto d = DockerIgnore::from_patterns({c.pattern});
    if (c.bad) {
      ASSERT_FALSE(d.has_value()) << c.pattern;
      EXPECT_EQ(d.error().kind(), ErrorKind::invalid_argument);
      EXPECT_NE(d.error().message().find(c.pattern), std::string::npos) << d.error().message();
      continue;
    }
    ASSERT_TRUE(d.has_value()) << c.pattern << ": " << d.error().message();
    EXPECT_EQ(d->excluded(c.text), c.match) << c.pattern << " vs " << c.text;
  }
}

TEST(DockerIgnore, LastMatchWinsAndExceptions) {
  EXPECT_TRUE(make({"*"}).excluded("fileutils.go"));
  EXPECT_TRUE(make({"*.go"}).excluded("fileutils.go"));
  EXPECT_TRUE(make({"!fileutils.go", "*.go"}).excluded("fileutils.go"));
  EXPECT_FALSE(make({"*.go", "!fileutils.go"}).excluded("fileutils.go"));
  EXPECT_FALSE(make({"docs", "!docs/README.md"}).excluded("docs/README.md"));
  EXPECT_FALSE(make({"docs/", "!docs/README.md"}).excluded("docs/README.md"));
  EXPECT_FALSE(make({"docs/*", "!docs/README.md"}).excluded("docs/README.md"));
  EXPECT_FALSE(make({"*.go"}).excluded("."));
  EXPECT_FALSE(make({"*.go"}).excluded(""));
  EXPECT_FALSE(make({}).excluded("any/path/there"));
  EXPECT_FALSE(make({"**", "!util/docker/web"}).excluded("util/docker/web/foo"));
  EXPECT_TRUE(make({"**", "!util/docker/web", "util/docker/web/foo"}).excluded("util/docker/web/foo"));
  EXPECT_FALSE(make({"**", "!dist/*.whl"}).excluded("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
  EXPECT_TRUE(make({"docs", "  !docs/README.md  "}).has_exceptions());
  EXPECT_FALSE(make({"docs", "  !docs/README.md  "}).excluded("docs/README.md"));
  EXPECT_FALSE(DockerIgnore::from_patterns({"!"}).has_value());
  EXPECT_EQ(make({"docs", "config", "", "  "}).rules().size(), 2u);
}

TEST(DockerIgnore, WhatUsersHit) {
  // `**/*.go` matches at every depth, including the root.
  const DockerIgnore go = make({"**/*.go"});
  EXPECT_TRUE(go.excluded("main.go"));
  EXPECT_TRUE(go.excluded("cmd/tool/main.go"));
  EXPECT_FALSE(go.excluded("cmd/tool/main.go.txt"));
  EXPECT_FALSE(go.excluded("go"));
  // `*.go` is anchored at the root (unlike .gitignore).
  EXPECT_TRUE(make({"*.go"}).excluded("main.go"));
  EXPECT_FALSE(make({"*.go"}).excluded("cmd/main.go"));
  // Re-including a file inside an excluded directory.
  const DockerIgnore vendor = make({"vendor", "!vendor/keep/**", "vendor/keep/tmp"});
  EXPECT_TRUE(vendor.excluded("vendor"));
  EXPECT_TRUE(vendor.excluded("vendor/x.go"));
  EXPECT_FALSE(vendor.excluded("vendor/keep/a.go"));
  EXPECT_TRUE(vendor.excluded("vendor/keep/tmp/junk"));
  // `*/` is `*` (trailing slash cleaned): every top-level entry, hence everything.
  const DockerIgnore star_slash = make({"*/", "!README.md"});
  EXPECT_TRUE(star_slash.excluded("src"));
  EXPECT_TRUE(star_slash.excluded("src/a.c"));
  EXPECT_FALSE(star_slash.excluded("README.md"));
  // `*/node_modules` only one level down.
  const DockerIgnore nm = make({"*/node_modules"});
  EXPECT_TRUE(nm.excluded("web/node_modules/x/index.js"));
  EXPECT_FALSE(nm.excluded("node_modules/x"));
  EXPECT_FALSE(nm.excluded("a/b/node_modules/x"));
  // `.git` excludes the directory and everything inside, not `.github`.
  const DockerIgnore git = make({".git"});
  EXPECT_TRUE(git.excluded(".git"));
  EXPECT_TRUE(git.excluded(".git/objects/ab/cdef"));
  EXPECT_FALSE(git.excluded(".github/workflows/ci.yml"));
  EXPECT_FALSE(git.excluded("sub/.git/config"));
  // Trailing slash, leading slash and ./ are cleaned away.
  EXPECT_TRUE(parse("build/\n").excluded("build/out.o"));
  EXPECT_TRUE(parse("/build\n").excluded("build"));
  EXPECT_TRUE(parse("./foo\n").excluded("foo/bar"));
  EXPECT_TRUE(parse("!./foo\n*\n!./foo\n").rules().back().exception);
  EXPECT_FALSE(parse("*\n!./foo\n").excluded("foo/bar"));
  EXPECT_TRUE(parse("a/../b\n").excluded("b"));
  // Paths given to excluded() are cleaned too.
  EXPECT_TRUE(make({"foo"}).excluded("./foo/"));
  EXPECT_TRUE(make({"foo"}).excluded("/foo//bar"));
  // An exception that only names the directory re-includes it whole.
  EXPECT_FALSE(make({"*", "!src"}).excluded("src/deep/file.c"));
  EXPECT_TRUE(make({"*", "!src"}).excluded("Makefile"));
}

TEST(DockerIgnore, ReadAllFileFormat) {
  const std::string content =
      "\xEF\xBB\xBF# comment\n"
      "  # not a comment  \n"
      "\n"
      "   \t\n"
      "node_modules  \r\n"
      "! tmp/ \n"
      "/abs/path\n"
      "!/abs/keep\n"
      "./rel//x/.\n"
      "/\n"
      "!\n";
  const std::vector<std::string> expected = {"# not a comment", "node_modules", "!tmp", "abs/path",
                                             "!abs/keep",       "rel/x",        "/",    "!"};
  EXPECT_EQ(read_ignore_patterns(content), expected);
  EXPECT_FALSE(DockerIgnore::parse(content).has_value()) << "a lone ! is an error";
  auto ok = DockerIgnore::parse("# only\n\n*.log\n!keep.log");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->excluded("x.log"));
  EXPECT_FALSE(ok->excluded("keep.log"));
  EXPECT_TRUE(read_ignore_patterns("").empty());
  EXPECT_EQ(read_ignore_patterns("\xEF\xBB\xBF#x\n#y"), std::vector<std::string>{});
  auto bad = DockerIgnore::parse("ok\nfoo[\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("foo["), std::string::npos);
}

TEST(DockerIgnore, CleanPath) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("."), ".");
  EXPECT_EQ(clean_path("./"), ".");
  EXPECT_EQ(clean_path("a//b/./c/.."), "a/b");
  EXPECT_EQ(clean_path("/.."), "/");
  EXPECT_EQ(clean_path("../a"), "../a");
  EXPECT_EQ(clean_path("a/../../b"), "../b");
  EXPECT_EQ(clean_path("/a/b/"), "/a/b");
  EXPECT_EQ(clean_path("!./x/"), "!./x");  // "!." is a name, like in Go
}

TEST(DockerIgnore, WalkerStateAgreesAndSkipsDirs) {
  const DockerIgnore ig = make({"vendor", "!vendor/keep/*.go", "*.tmp", "docs/**", "!docs/api", "**/cache"});
  const std::vector<std::vector<std::string>> tree = {
      {"vendor", "keep", "a.go"}, {"vendor", "keep", "b.txt"}, {"vendor", "other", "c.go"},
      {"docs", "api", "x.md"},    {"docs", "guide", "y.md"},   {"src", "cache", "z"},
      {"src", "main.c"},          {"x.tmp"},                    {"src", "y.tmp"}};
  for (const auto& parts : tree) {
    DockerIgnore::DirState parent;
    std::string path;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      path += (i ? "/" : "") + parts[i];
      DockerIgnore::DirState self;
      const bool is_dir = i + 1 < parts.size();
      const bool walker = ig.excluded(path, parent, is_dir ? &self : nullptr);
      EXPECT_EQ(walker, ig.excluded(path)) << path;
      parent = std::move(self);
    }
  }
  EXPECT_FALSE(ig.can_skip_dir("vendor")) << "vendor/keep/*.go may be re-included";
  EXPECT_TRUE(ig.can_skip_dir("vendor/other"));
  EXPECT_FALSE(ig.can_skip_dir("vendor/keep"));
  EXPECT_FALSE(ig.can_skip_dir("docs"));
  EXPECT_TRUE(ig.can_skip_dir("docs/guide"));
  EXPECT_TRUE(ig.can_skip_dir("src/cache"));
  EXPECT_FALSE(ig.can_skip_dir("src")) << "not excluded at all";
  EXPECT_TRUE(make({"node_modules"}).can_skip_dir("node_modules"));
  EXPECT_FALSE(make({"node_modules", "!**/package.json"}).can_skip_dir("node_modules"));
  EXPECT_FALSE(make({"a", "!a*/b"}).can_skip_dir("a"));
  EXPECT_TRUE(make({"a", "!b/*"}).can_skip_dir("a"));
}

TEST(DockerIgnore, PickIgnoreFile) {
  std::set<std::string> files;
  auto exists = [&](const std::string& p) { return files.contains(p); };
  EXPECT_EQ(pick_ignore_file("ctx/Dockerfile", "ctx", exists), std::nullopt);
  files.insert("ctx/.dockerignore");
  EXPECT_EQ(pick_ignore_file("ctx/Dockerfile", "ctx", exists), "ctx/.dockerignore");
  EXPECT_EQ(pick_ignore_file("", "ctx/", exists), "ctx/.dockerignore");
  files.insert("ctx/build/app.Dockerfile.dockerignore");
  EXPECT_EQ(pick_ignore_file("ctx/build/app.Dockerfile", "ctx", exists),
            "ctx/build/app.Dockerfile.dockerignore");
  EXPECT_EQ(pick_ignore_file("ctx/build/Dockerfile", "ctx", exists), "ctx/.dockerignore");
  EXPECT_EQ(pick_ignore_file("-", "ctx", exists), "ctx/.dockerignore");
}

}  // namespace
}  // namespace strata::dockerfile
