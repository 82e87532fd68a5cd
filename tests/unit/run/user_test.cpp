#include <gtest/gtest.h>

#include "run/user.hpp"
#include "unit/run/run_test_support.hpp"

namespace strata::run {
namespace {

using testing::TempDir;

class ResolveUser : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(m_tmp / "etc");
    testing::write_file(m_tmp / "etc/passwd",
                        "# comment\nroot:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"
                        "broken line\n2000:x:3000:3000::/numeric:/bin/sh\n");
    testing::write_file(m_tmp / "etc/group", "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nwheel:x:10:app\n");
  }
  TempDir m_tmp;
};

TEST_F(ResolveUser, EmptyIsRootFromPasswd) {
  auto u = resolve_user(m_tmp.path(), "");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/root");
  EXPECT_EQ(u->groups, std::vector<gid_t>({0}));
}

TEST_F(ResolveUser, NameGivesPrimaryAndSupplementaryGroups) {
  auto u = resolve_user(m_tmp.path(), "app");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1001u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->groups, std::vector<gid_t>({1001, 50, 10}));
}

TEST_F(ResolveUser, NumericMatchesTheEntryOrStandsAlone) {
  auto known = resolve_user(m_tmp.path(), "1000");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->name, "app");
  EXPECT_EQ(known->gid, 1001u);
  auto unknown = resolve_user(m_tmp.path(), "4242");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->uid, 4242u);
  EXPECT_EQ(unknown->gid, 0u);
  EXPECT_EQ(unknown->home, "/");
  EXPECT_EQ(unknown->groups, std::vector<gid_t>({0}));
  // A user literally named "2000" wins over uid 2000.
  auto named = resolve_user(m_tmp.path(), "2000");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->uid, 3000u);
}

TEST_F(ResolveUser, ExplicitGroupReplacesGroups) {
  auto u = resolve_user(m_tmp.path(), "app:staff");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->gid, 50u);
  EXPECT_EQ(u->groups, std::vector<gid_t>({50}));
  auto n = resolve_user(m_tmp.path(), "1000:777");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->uid, 1000u);
  EXPECT_EQ(n->gid, 777u);
}

TEST_F(ResolveUser, Errors) {
  auto ghost = resolve_user(m_tmp.path(), "ghost");
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().kind(), ErrorKind::not_found);
  EXPECT_EQ(ghost.error().message(), "unable to find user ghost: no matching entries in passwd file");
  auto group = resolve_user(m_tmp.path(), "app:nogroup");
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().message(), "unable to find group nogroup: no matching entries in group file");
  EXPECT_EQ(resolve_user(m_tmp.path(), "app:").error().kind(), ErrorKind::invalid_argument);
  EXPECT_EQ(resolve_user(m_tmp.path(), ":staff").error().kind(), ErrorKind::invalid_argument);
  EXPECT_FALSE(resolve_user(m_tmp.path(), "99999999999"));
}

TEST_F(ResolveUser, WithoutPasswdFileOnlyNumbersWork) {
  TempDir empty;
  auto u = resolve_user(empty.path(), "1234:5");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 1234u);
  EXPECT_EQ(u->gid, 5u);
  EXPECT_FALSE(resolve_user(empty.path(), "app"));
  auto root = resolve_user(empty.path(), "");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->home, "/");
}

TEST_F(ResolveUser, PasswdIsReadInsideTheRootThroughSymlinks) {
  std::filesystem::rename(m_tmp / "etc/passwd", m_tmp / "etc/passwd.real");
  std::filesystem::create_symlink("/etc/passwd.real", m_tmp / "etc/passwd");
  auto u = resolve_user(m_tmp.path(), "app");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->uid, 1000u);
}

TEST_F(ResolveUser, ChownUsesTheUidAsGidWithoutAGroup) {
  auto named = resolve_chown(m_tmp.path(), "app");
  ASSERT_TRUE(named);
  EXPECT_EQ(*named, std::make_pair(uid_t{1000}, gid_t{1000}));
  auto both = resolve_chown(m_tmp.path(), "app:staff");
  ASSERT_TRUE(both);
  EXPECT_EQ(*both, std::make_pair(uid_t{1000}, gid_t{50}));
  auto numeric = resolve_chown(m_tmp.path(), "55:66");
  ASSERT_TRUE(numeric);
  EXPECT_EQ(*numeric, std::make_pair(uid_t{55}, gid_t{66}));
  EXPECT_FALSE(resolve_chown(m_tmp.path(), "ghost"));
  EXPECT_FALSE(resolve_chown(m_tmp.path(), "app:ghosts"));
}

}  // namespace
}  // namespace strata::run
