// SourceRoot: ignore-file choice, visibility and in-root resolution.
#include "build/context.hpp"
#include "unit/build/copy_test_support.hpp"

namespace strata::build {
namespace {

using namespace testing;

TEST(Context, ResolveFollowsLinksInsideAndHidesExcluded) {
  TempDir ctx;
  write_file(ctx / ".dockerignore", "hidden\nlinks/excluded-link\n");
  write_file(ctx / "hidden", "h");
  write_file(ctx / "dir/file", "f");
  make_dirs(ctx / "links");
  ASSERT_EQ(::symlink("../dir", (ctx / "links/d").c_str()), 0);
  ASSERT_EQ(::symlink("/hidden", (ctx / "links/to-hidden").c_str()), 0);
  ASSERT_EQ(::symlink("/dir/file", (ctx / "links/excluded-link").c_str()), 0);
  auto root = SourceRoot::open_context(ctx.path(), "");
  ASSERT_TRUE(root);
  EXPECT_EQ(*root->resolve("links/d/file"), "dir/file");
  EXPECT_EQ(*root->resolve(""), "");
  auto h = root->resolve("hidden");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().kind(), ErrorKind::not_found);
  EXPECT_FALSE(root->resolve("links/to-hidden"));
  EXPECT_FALSE(root->resolve("links/excluded-link"));
  EXPECT_FALSE(root->resolve("nope"));
}

TEST(Context, TreeRootHasNoIgnoreRules) {
  TempDir dir;
  write_file(dir / ".dockerignore", "*\n");
  write_file(dir / "a", "a");
  auto root = SourceRoot::open_tree(dir.path());
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->visible("a", false));
  EXPECT_EQ(*root->resolve("a"), "a");
}

TEST(Context, BadIgnorePatternIsAnError) {
  TempDir dir;
  write_file(dir / ".dockerignore", "[\n");
  auto root = SourceRoot::open_context(dir.path(), "");
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().kind(), ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace strata::build
