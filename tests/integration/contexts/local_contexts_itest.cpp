// Local contexts: directories (with --context-sub-path), tar://PATH in three
// compressions, tar://stdin, and hostile archives refused with an error naming
// the context.
#include "context_fixture.hpp"

namespace strata::itest {
namespace {

using LocalContexts = ContextTest;

TEST_F(LocalContexts, DirectoryAndDirSchemeAndSubPath) {
  std::string src = make_source("src", "plain dir\n");
  expect_built(build(src), "plain dir\n");
  expect_built(build("dir://" + src), "plain dir\n");

  std::string outer = file("outer");
  ASSERT_EQ(::mkdir(outer.c_str(), 0755), 0);
  ASSERT_EQ(::rename(src.c_str(), (outer + "/app").c_str()), 0);
  expect_built(build(outer, {"--context-sub-path=app"}), "plain dir\n");

  auto escape = build(outer + "/app", {"--context-sub-path=../.."});
  EXPECT_NE(escape.exit_code, 0) << escape.describe();
  EXPECT_NE(escape.err.find("--context-sub-path"), std::string::npos)
      << escape.err;
  ASSERT_EQ(::symlink("/", (outer + "/rootlink").c_str()), 0);
  auto via_link = build(outer, {"--context-sub-path=rootlink/etc"});
  EXPECT_NE(via_link.exit_code, 0)
      << "a symlink must not lead out of the context: " << via_link.describe();
}

TEST_F(LocalContexts, TarGzipZstdAndStdin) {
  std::string src = make_source("src", "from a tarball\n");
  sh("tar -C '" + src + "' -cf '" + file("ctx.tar") + "' .");
  sh("tar -C '" + src + "' -czf '" + file("ctx.tar.gz") + "' .");
  sh("tar -C '" + src + "' -cf - . | zstd -q -o '" + file("ctx.tar.zst") + "'");
  for (const char *name : {"ctx.tar", "ctx.tar.gz", "ctx.tar.zst"}) {
    SCOPED_TRACE(name);
    expect_built(build("tar://" + file(name)), "from a tarball\n");
  }
  expect_built(build("tar://stdin", {}, {}, file("ctx.tar.gz")),
               "from a tarball\n");

  // Sub path inside an archive.
  std::string outer = file("outer");
  ASSERT_EQ(::mkdir(outer.c_str(), 0755), 0);
  ASSERT_EQ(::rename(src.c_str(), (outer + "/nested").c_str()), 0);
  sh("tar -C '" + outer + "' -czf '" + file("nested.tgz") + "' .");
  expect_built(
      build("tar://" + file("nested.tgz"), {"--context-sub-path=nested"}),
      "from a tarball\n");
}

TEST_F(LocalContexts, HostileAndBrokenArchivesAreRefused) {
  // Python's tarfile writes what GNU tar refuses to.
  sh("python3 - '" + file("") +
     "' <<'EOF'\n"
     "import io, sys, tarfile\n"
     "d = sys.argv[1]\n"
     "def make(name, entries):\n"
     "    with tarfile.open(d + name, 'w:gz') as t:\n"
     "        for n, kind, extra in entries:\n"
     "            i = tarfile.TarInfo(n)\n"
     "            if kind == 'sym': i.type = tarfile.SYMTYPE; i.linkname = "
     "extra; t.addfile(i)\n"
     "            else: data = b'FROM scratch\\n'; i.size = len(data); "
     "t.addfile(i, io.BytesIO(data))\n"
     "make('dotdot.tgz', [('Dockerfile', 'f', ''), ('../escape.txt', 'f', "
     "'')])\n"
     "make('absolute.tgz', [('Dockerfile', 'f', ''), "
     "('/tmp/strata-absolute-escape', 'f', '')])\n"
     "make('symlink.tgz', [('Dockerfile', 'f', ''), ('etc', 'sym', '/etc'), "
     "('up', 'sym', '../../..')])\n"
     "EOF");
  struct Case {
    const char *file;
    const char *needle;
  };
  for (Case c :
       {Case{"dotdot.tgz", "\"..\""}, Case{"absolute.tgz", "absolute path"},
        Case{"symlink.tgz", "symlink"}}) {
    SCOPED_TRACE(c.file);
    auto r = build("tar://" + file(c.file));
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("context tar://" + file(c.file)), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    expect_no_leftovers();
  }
  EXPECT_NE(::access("/tmp/strata-absolute-escape", F_OK), 0);
  EXPECT_NE(::access(file("kaniko/escape.txt").c_str(), F_OK), 0);

  ASSERT_TRUE(
      write_file(file("notes.txt"), "just some text, not an archive\n"));
  auto r = build("tar://" + file("notes.txt"));
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("not a tar archive"), std::string::npos) << r.err;

  auto missing = build("tar://" + file("missing.tgz"));
  EXPECT_EQ(missing.exit_code, 2) << missing.describe();
  auto scheme = build("ftp://example.invalid/ctx.tgz");
  EXPECT_EQ(scheme.exit_code, 2) << scheme.describe();
  EXPECT_NE(scheme.err.find("unknown scheme"), std::string::npos) << scheme.err;
}

} // namespace
} // namespace strata::itest
