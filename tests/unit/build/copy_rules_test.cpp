// COPY semantics on real temp trees: sources, globs, destinations, metadata, ignore rules.
#include <sys/xattr.h>

#include "build/copy_path.hpp"
#include "unit/build/copy_test_support.hpp"

namespace strata::build {
namespace {

using namespace testing;

TEST(CopyPath, GoMatchAndWildcards) {
  EXPECT_TRUE(*go_path_match("*.txt", "a.txt"));
  EXPECT_FALSE(*go_path_match("*.txt", "d/a.txt"));
  EXPECT_TRUE(*go_path_match("d/*.txt", "d/a.txt"));
  EXPECT_TRUE(*go_path_match("?.go", "x.go"));
  EXPECT_FALSE(*go_path_match("?.go", "xy.go"));
  EXPECT_TRUE(*go_path_match("[a-c]x", "bx"));
  EXPECT_FALSE(*go_path_match("[^a-c]x", "bx"));
  EXPECT_TRUE(*go_path_match("\\*", "*"));
  EXPECT_FALSE(go_path_match("[a-", "a"));
  EXPECT_TRUE(contains_wildcards("a*"));
  EXPECT_FALSE(contains_wildcards("a\\*"));
  auto [head, tail] = split_wildcards("a/b*/c");
  EXPECT_EQ(head, "a");
  EXPECT_EQ(tail, "b*/c");
  EXPECT_EQ(normalize_source("../x"), "x");
  EXPECT_EQ(normalize_source("./a/../../b/"), "b");
  EXPECT_EQ(normalize_source("."), "");
}

TEST(Copy, GlobCopiesOnlyMatchesIntoDirectory) {
  CopyFixture f;
  write_file(f.ctx("a.txt"), "A");
  write_file(f.ctx("b.txt"), "B");
  write_file(f.ctx("c.md"), "C");
  ASSERT_TRUE(f.copy(req({"*.txt"}, "/dst/")));
  EXPECT_EQ(read_file(f.img("dst/a.txt")), "A");
  EXPECT_EQ(read_file(f.img("dst/b.txt")), "B");
  EXPECT_FALSE(exists(f.img("dst/c.md")));
  EXPECT_EQ(lstat_of(f.img("dst")).st_mode & 07777, 0755u);
}

TEST(Copy, GlobWithOneMatchToFileName) {
  CopyFixture f;
  write_file(f.ctx("target/app-1.0.jar"), "JAR");
  ASSERT_TRUE(f.copy(req({"target/*.jar"}, "/app.jar")));
  EXPECT_EQ(read_file(f.img("app.jar")), "JAR");
}

TEST(Copy, NoMatchIsNotFoundNamingTheSource) {
  CopyFixture f;
  write_file(f.ctx("a.txt"), "A");
  auto r = f.copy(req({"*.nope"}, "/dst/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_NE(r.error().message().find("*.nope"), std::string::npos) << r.error().message();
  auto r2 = f.copy(req({"missing.txt"}, "/dst/"));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind(), ErrorKind::not_found);
  EXPECT_NE(r2.error().message().find("\"/missing.txt\": not found"), std::string::npos) << r2.error().message();
}

TEST(Copy, WildcardMatchingNothingIsSkippedWhenAnotherSourceMatches) {
  // kaniko's test_copy: COPY context/bar/doesnotexist* context/foo hello
  CopyFixture f;
  write_file(f.ctx("foo"), "F");
  write_file(f.ctx("bar/x"), "X");
  ASSERT_TRUE(f.copy(req({"bar/doesnotexist*", "foo"}, "/hello")));
  EXPECT_EQ(read_file(f.img("hello")), "F");
  ASSERT_TRUE(f.copy(req({"nodir/*.txt", "foo"}, "/d2/")));
  EXPECT_EQ(read_file(f.img("d2/foo")), "F");
  // Every source matching nothing is still an error, naming the first.
  auto r = f.copy(req({"bar/none*", "zz*"}, "/d3/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_NE(r.error().message().find("bar/none*"), std::string::npos) << r.error().message();
  EXPECT_FALSE(exists(f.img("d3")));
}

TEST(Copy, DirectoryCopiesItsContents) {
  CopyFixture f;
  write_file(f.ctx("src/a"), "1");
  write_file(f.ctx("src/sub/b"), "2");
  ASSERT_EQ(::chmod(f.ctx("src").c_str(), 0750), 0);
  ASSERT_TRUE(f.copy(req({"src"}, "/out")));
  EXPECT_EQ(read_file(f.img("out/a")), "1");
  EXPECT_EQ(read_file(f.img("out/sub/b")), "2");
  EXPECT_FALSE(exists(f.img("out/src")));
  // A destination created for a directory takes the source directory's mode.
  EXPECT_EQ(lstat_of(f.img("out")).st_mode & 07777, 0750u);
}

TEST(Copy, SingleFileDestinationRules) {
  CopyFixture f;
  write_file(f.ctx("a.txt"), "A");
  make_dirs(f.img("existing"));
  ASSERT_TRUE(f.copy(req({"a.txt"}, "/renamed")));
  EXPECT_EQ(read_file(f.img("renamed")), "A");
  ASSERT_TRUE(f.copy(req({"a.txt"}, "/existing")));
  EXPECT_EQ(read_file(f.img("existing/a.txt")), "A");
  ASSERT_TRUE(f.copy(req({"a.txt"}, "/new/dir/")));
  EXPECT_EQ(read_file(f.img("new/dir/a.txt")), "A");
  EXPECT_EQ(lstat_of(f.img("new")).st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(f.img("new")).st_uid, 0u);
}

TEST(Copy, MultipleSourcesMakeTheDestinationADirectory) {
  CopyFixture f;
  write_file(f.ctx("a"), "A");
  write_file(f.ctx("b"), "B");
  ASSERT_TRUE(f.copy(req({"a", "b"}, "/multi")));
  EXPECT_EQ(read_file(f.img("multi/a")), "A");
  EXPECT_EQ(read_file(f.img("multi/b")), "B");
}

TEST(Copy, RelativeDestinationUsesWorkdir) {
  CopyFixture f;
  write_file(f.ctx("a"), "A");
  auto r = req({"a"}, "sub/");
  r.workdir = "/work/dir";
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(read_file(f.img("work/dir/sub/a")), "A");
  auto dot = req({"a"}, ".");
  dot.workdir = "/w";
  ASSERT_TRUE(f.copy(dot));
  EXPECT_EQ(read_file(f.img("w/a")), "A");
}

TEST(Copy, DotDotStaysInTheContext) {
  CopyFixture f;
  write_file(f.ctx("x"), "X");
  ASSERT_TRUE(f.copy(req({"../x"}, "/d/")));
  EXPECT_EQ(read_file(f.img("d/x")), "X");
}

TEST(Copy, OverwritesFilesAndMergesDirectories) {
  CopyFixture f;
  write_file(f.img("app/old"), "keep");
  write_file(f.img("app/f"), "old");
  ASSERT_EQ(::chmod(f.img("app").c_str(), 0700), 0);
  write_file(f.ctx("d/f"), "new");
  ASSERT_TRUE(f.copy(req({"d"}, "/app")));
  EXPECT_EQ(read_file(f.img("app/f")), "new");
  EXPECT_EQ(read_file(f.img("app/old")), "keep");
  EXPECT_EQ(lstat_of(f.img("app")).st_mode & 07777, 0700u);  // an existing top keeps its metadata
}

TEST(Copy, FileCannotReplaceDirectory) {
  CopyFixture f;
  make_dirs(f.img("d/x"));
  write_file(f.ctx("src/x"), "file");
  auto r = f.copy(req({"src"}, "/d"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::invalid_argument);
}

TEST(Copy, KeepsModesAndMtimes) {
  CopyFixture f;
  write_file(f.ctx("run.sh"), "#!/bin/sh", 04755);
  struct timespec times[2] = {{1000000000, 5}, {1234567890, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.ctx("run.sh").c_str(), times, 0), 0);
  ASSERT_TRUE(f.copy(req({"run.sh"}, "/bin/")));
  struct stat st = lstat_of(f.img("bin/run.sh"));
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST(Copy, CopiesUserXattrs) {
  CopyFixture f;
  write_file(f.ctx("x"), "X");
  if (::setxattr(f.ctx("x").c_str(), "user.note", "hi", 2, 0) != 0) GTEST_SKIP() << "no user xattrs here";
  ASSERT_TRUE(f.copy(req({"x"}, "/x")));
  char buf[8];
  ASSERT_EQ(::getxattr(f.img("x").c_str(), "user.note", buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "hi");
}

TEST(Copy, DockerignoreHidesFilesWithReinclusion) {
  CopyFixture f;
  write_file(f.ctx(".dockerignore"), "*.log\n!keep.log\nsecret\nbuild\n!build/out\n");
  write_file(f.ctx("a.log"), "no");
  write_file(f.ctx("keep.log"), "yes");
  write_file(f.ctx("secret"), "s");
  write_file(f.ctx("main.c"), "c");
  write_file(f.ctx("build/tmp"), "no");
  write_file(f.ctx("build/out"), "yes");
  ASSERT_TRUE(f.copy(req({"."}, "/app/")));
  EXPECT_FALSE(exists(f.img("app/a.log")));
  EXPECT_TRUE(exists(f.img("app/keep.log")));
  EXPECT_FALSE(exists(f.img("app/secret")));
  EXPECT_TRUE(exists(f.img("app/main.c")));
  EXPECT_FALSE(exists(f.img("app/build/tmp")));
  EXPECT_EQ(read_file(f.img("app/build/out")), "yes");
  auto r = f.copy(req({"secret"}, "/s"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  auto g = f.copy(req({"*.log"}, "/logs/"));
  ASSERT_TRUE(g);
  EXPECT_TRUE(exists(f.img("logs/keep.log")));
  EXPECT_FALSE(exists(f.img("logs/a.log")));
}

TEST(Copy, DockerfileSpecificIgnoreFileWins) {
  CopyFixture f;
  write_file(f.ctx(".dockerignore"), "a\n");
  write_file(f.ctx("sub/Dockerfile"), "FROM x\n");
  write_file(f.ctx("sub/Dockerfile.dockerignore"), "b\n");
  write_file(f.ctx("a"), "A");
  write_file(f.ctx("b"), "B");
  f.dockerfile = f.ctx("sub/Dockerfile");
  ASSERT_TRUE(f.copy(req({"a"}, "/a")));
  EXPECT_FALSE(f.copy(req({"b"}, "/b")));
}

TEST(Copy, ChownByNameNumberAndGroup) {
  CopyFixture f;
  write_file(f.img("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
  write_file(f.img("etc/group"), "root:x:0:\nstaff:x:50:\n");
  write_file(f.ctx("d/f"), "F");
  auto r = req({"d"}, "/named/");
  r.chown = "app";
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("named/f")).st_uid, 1000u);
  EXPECT_EQ(lstat_of(f.img("named/f")).st_gid, 1001u);
  EXPECT_EQ(lstat_of(f.img("named")).st_uid, 1000u);  // created for the copy: chowned as BuildKit
  r.destination = "/num/";
  r.chown = "42";
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("num/f")).st_uid, 42u);
  EXPECT_EQ(lstat_of(f.img("num/f")).st_gid, 42u);
  r.destination = "/grp/";
  r.chown = "app:staff";
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("grp/f")).st_gid, 50u);
  r.chown = "nobody";
  auto bad = f.copy(r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), ErrorKind::not_found);
  EXPECT_NE(bad.error().message().find("nobody"), std::string::npos);
}

TEST(Copy, ChmodNumericAndSymbolic) {
  CopyFixture f;
  write_file(f.ctx("d/f"), "F", 0644);
  write_file(f.ctx("d/x"), "X", 0700);
  auto r = req({"d"}, "/n/");
  r.chmod = dockerfile::Chmod{"0751", 0751};
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("n/f")).st_mode & 07777, 0751u);
  r.destination = "/s/";
  r.chmod = dockerfile::Chmod{"u+x,g-w,o=r", std::nullopt};
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("s/f")).st_mode & 07777, 0744u);
  EXPECT_EQ(lstat_of(f.img("s/x")).st_mode & 07777, 0704u);
  r.destination = "/X/";
  r.chmod = dockerfile::Chmod{"a+X", std::nullopt};
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(lstat_of(f.img("X/f")).st_mode & 07777, 0644u);
  EXPECT_EQ(lstat_of(f.img("X/x")).st_mode & 07777, 0711u);
  r.chmod = dockerfile::Chmod{"u+q", std::nullopt};
  EXPECT_FALSE(f.copy(r));
}

TEST(Copy, SymlinksInsideAreCopiedAsLinksTopLevelFollowed) {
  CopyFixture f;
  write_file(f.ctx("d/real"), "R");
  ASSERT_EQ(::symlink("real", f.ctx("d/link").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/shadow-nonexistent", f.ctx("d/abs").c_str()), 0);
  ASSERT_EQ(::symlink("d/real", f.ctx("top").c_str()), 0);
  ASSERT_TRUE(f.copy(req({"d"}, "/d/")));
  struct stat st = lstat_of(f.img("d/link"));
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(S_ISLNK(lstat_of(f.img("d/abs")).st_mode));
  ASSERT_TRUE(f.copy(req({"top"}, "/t/")));
  struct stat t = lstat_of(f.img("t/top"));
  EXPECT_TRUE(S_ISREG(t.st_mode));
  EXPECT_EQ(read_file(f.img("t/top")), "R");
}

TEST(Copy, SymlinkSourceCannotLeaveTheContext) {
  CopyFixture f;
  TempDir outside;
  write_file(outside / "secret", "S");
  ASSERT_EQ(::symlink((outside.path() + "/secret").c_str(), f.ctx("esc").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../..", f.ctx("up").c_str()), 0);
  auto r = f.copy(req({"esc"}, "/e"));
  ASSERT_FALSE(r);  // resolved as /<outside>/secret inside the context: absent
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  write_file(f.ctx("inside"), "I");
  ASSERT_TRUE(f.copy(req({"up/inside"}, "/u")));
  EXPECT_EQ(read_file(f.img("u")), "I");
}

TEST(Copy, HardlinksArePreserved) {
  CopyFixture f;
  write_file(f.ctx("d/a"), "same");
  ASSERT_EQ(::link(f.ctx("d/a").c_str(), f.ctx("d/b").c_str()), 0);
  ASSERT_TRUE(f.copy(req({"d"}, "/h")));
  EXPECT_EQ(lstat_of(f.img("h/a")).st_ino, lstat_of(f.img("h/b")).st_ino);
  EXPECT_EQ(read_file(f.img("h/b")), "same");
}

TEST(Copy, FromAnotherRootIgnoresDockerignoreAndResolvesLinksInside) {
  CopyFixture f;
  write_file(f.ctx(".dockerignore"), "*\n");
  TempDir stage;
  write_file(stage / "usr/lib/libx.so.1", "LIB");
  ASSERT_EQ(::symlink("libx.so.1", (stage / "usr/lib/libx.so").c_str()), 0);
  ASSERT_EQ(::symlink("/usr/lib", (stage / "lib").c_str()), 0);
  auto from = SourceRoot::open_tree(stage.path());
  ASSERT_TRUE(from);
  ASSERT_TRUE(f.copy(req({"/lib/libx.so"}, "/out/"), &*from));
  EXPECT_EQ(read_file(f.img("out/libx.so")), "LIB");
  ASSERT_TRUE(f.copy(req({"/usr/lib/"}, "/all/"), &*from));
  EXPECT_TRUE(S_ISLNK(lstat_of(f.img("all/libx.so")).st_mode));
}

TEST(Copy, FromAnotherRootKeepsOwnersUnlessChown) {
  CopyFixture f;
  write_file(f.ctx("ctx.txt"), "C");
  ASSERT_EQ(::chown(f.ctx("ctx.txt").c_str(), 7, 7), 0);
  TempDir stage;
  write_file(stage / "o/d/f", "F");
  for (const char* p : {"o", "o/d", "o/d/f"}) ASSERT_EQ(::chown((stage / p).c_str(), 7, 8), 0);
  auto from = SourceRoot::open_tree(stage.path());
  ASSERT_TRUE(from);
  ASSERT_TRUE(f.copy(req({"/o"}, "/kept/"), &*from));
  EXPECT_EQ(lstat_of(f.img("kept/d/f")).st_uid, 7u);
  EXPECT_EQ(lstat_of(f.img("kept/d/f")).st_gid, 8u);
  EXPECT_EQ(lstat_of(f.img("kept/d")).st_uid, 7u);
  auto chowned = req({"/o"}, "/chowned/");
  chowned.chown = "5:5";
  ASSERT_TRUE(f.copy(chowned, &*from));
  EXPECT_EQ(lstat_of(f.img("chowned/d/f")).st_uid, 5u);
  EXPECT_EQ(lstat_of(f.img("chowned/d/f")).st_gid, 5u);
  // From the context: 0:0 whatever the context file's owner.
  ASSERT_TRUE(f.copy(req({"ctx.txt"}, "/c.txt")));
  EXPECT_EQ(lstat_of(f.img("c.txt")).st_uid, 0u);
  EXPECT_EQ(lstat_of(f.img("c.txt")).st_gid, 0u);
}

TEST(Copy, ExcludePatterns) {
  CopyFixture f;
  write_file(f.ctx("home.txt"), "t");
  write_file(f.ctx("homer.bin"), "b");
  write_file(f.ctx("d/a.txt"), "t");
  write_file(f.ctx("d/b.c"), "c");
  auto r = req({"hom*"}, "/m/");
  r.excludes = {"*.txt"};
  ASSERT_TRUE(f.copy(r));
  EXPECT_FALSE(exists(f.img("m/home.txt")));
  EXPECT_TRUE(exists(f.img("m/homer.bin")));
  auto d = req({"d"}, "/d/");
  d.excludes = {"*.txt"};
  ASSERT_TRUE(f.copy(d));
  EXPECT_FALSE(exists(f.img("d/a.txt")));
  EXPECT_TRUE(exists(f.img("d/b.c")));
}

TEST(Copy, ParentsKeepsRelativeDirectories) {
  CopyFixture f;
  write_file(f.ctx("x/y/file.txt"), "F");
  write_file(f.ctx("x/z/other.txt"), "O");
  write_file(f.ctx("p/q/r.txt"), "R");
  ASSERT_EQ(::chmod(f.ctx("x").c_str(), 0711), 0);
  auto r = req({"x/*/*.txt"}, "/out/");
  r.parents = true;
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(read_file(f.img("out/x/y/file.txt")), "F");
  EXPECT_EQ(read_file(f.img("out/x/z/other.txt")), "O");
  EXPECT_EQ(lstat_of(f.img("out/x")).st_mode & 07777, 0711u);
  auto p = req({"p/./q/r.txt"}, "/piv/");
  p.parents = true;
  ASSERT_TRUE(f.copy(p));
  EXPECT_EQ(read_file(f.img("piv/q/r.txt")), "R");
  EXPECT_FALSE(exists(f.img("piv/p")));
}

TEST(Copy, HeredocIsA0644File) {
  CopyFixture f;
  CopyRequest r;
  r.inline_sources.push_back({"script.sh", "echo hi\n"});
  r.destination = "/opt/";
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(read_file(f.img("opt/script.sh")), "echo hi\n");
  EXPECT_EQ(lstat_of(f.img("opt/script.sh")).st_mode & 07777, 0644u);
}

TEST(Copy, DestinationSymlinksResolveInsideTheRoot) {
  CopyFixture f;
  TempDir outside;
  write_file(f.ctx("f"), "F");
  make_dirs(f.img("etc"));
  ASSERT_EQ(::symlink("/etc", f.img("app").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../..", f.img("up").c_str()), 0);
  ASSERT_EQ(::symlink(outside.path().c_str(), f.img("host").c_str()), 0);
  ASSERT_TRUE(f.copy(req({"f"}, "/app/")));
  EXPECT_EQ(read_file(f.img("etc/f")), "F");
  ASSERT_TRUE(f.copy(req({"f"}, "/up/x/")));
  EXPECT_EQ(read_file(f.img("x/f")), "F");
  ASSERT_TRUE(f.copy(req({"f"}, "/host/y")));
  EXPECT_FALSE(exists(outside / "y"));
  EXPECT_TRUE(exists(f.img(outside.path().substr(1) + "/y")));
}

TEST(Copy, FingerprintFollowsContentAndMetadataNotMtime) {
  CopyFixture f;
  write_file(f.ctx("d/a"), "one");
  auto p1 = f.plan(req({"d"}, "/x/"));
  ASSERT_TRUE(p1);
  auto d1 = p1->fingerprint();
  ASSERT_TRUE(d1);
  struct timespec times[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.ctx("d/a").c_str(), times, 0), 0);
  auto p2 = f.plan(req({"d"}, "/x/"));
  EXPECT_EQ(*p2->fingerprint(), *d1);
  write_file(f.ctx("d/a"), "two");
  auto p3 = f.plan(req({"d"}, "/x/"));
  EXPECT_NE(*p3->fingerprint(), *d1);
  write_file(f.ctx("d/a"), "one", 0600);
  auto p4 = f.plan(req({"d"}, "/x/"));
  EXPECT_NE(*p4->fingerprint(), *d1);
  auto p5 = f.plan(req({"d"}, "/y/"));
  EXPECT_NE(*p5->fingerprint(), *p4->fingerprint());
  EXPECT_EQ(p4->total_bytes(), 3u);
}

TEST(Copy, CopyRefusesUrls) {
  CopyFixture f;
  auto r = f.copy(req({"http://127.0.0.1:1/x"}, "/x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace strata::build
