#include "store/lease.hpp"

#include <gtest/gtest.h>

#include "store/file_ops.hpp"
#include "store_test_support.hpp"

namespace strata::store {
namespace {

using test::TempDir;

digest::Digest D(std::string_view s) { return digest::sha256(s); }

std::size_t lease_files(const TempDir& dir) {
  auto names = list_dir(dir / "leases");
  return names ? names->size() : 0;
}

TEST(Lease, NoLeaseDirectoryMeansNothingInUse) {
  TempDir dir;
  auto a = active_leases(dir.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->live, 0u);
  EXPECT_TRUE(a->in_use.empty());
}

// Leases are checked from another process, as cachectl does: a flock held by this very
// process would not look held to itself on NFS, and the tests must not rely on that.
TEST(Lease, HeldLeasesAreUnionedAndReleasedOnesVanish) {
  TempDir dir;
  auto l1 = Lease::acquire(dir.path(), {{D("m1"), D("b1")}, {"key1"}, "executor one"});
  ASSERT_TRUE(l1) << l1.error().message();
  auto l2 = Lease::acquire(dir.path(), {{D("b1"), D("b2")}, {}, "executor two"});
  ASSERT_TRUE(l2);
  pid_t child = test::fork_child([&] {
    auto a = active_leases(dir.path());
    if (!a) return 1;
    if (a->live != 2 || a->removed != 0) return 2;
    if (a->in_use.digests != std::set<digest::Digest>{D("m1"), D("b1"), D("b2")}) return 3;
    if (a->in_use.cache_keys != std::set<std::string>{"key1"}) return 4;
    return 0;
  });
  EXPECT_EQ(test::wait_child(child), 0);

  ASSERT_TRUE(l2->extend({{D("b3")}, {"key2"}, ""}));
  EXPECT_EQ(lease_files(dir), 2u) << "update replaces the old lease file";
  l1->release();
  auto a = active_leases(dir.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->live, 1u);
  EXPECT_EQ(a->in_use.digests, (std::set<digest::Digest>{D("b1"), D("b2"), D("b3")}));
  EXPECT_EQ(a->in_use.cache_keys, std::set<std::string>{"key2"});
  { Lease moved = std::move(*l2); }
  EXPECT_EQ(lease_files(dir), 0u);
}

TEST(Lease, KilledOwnersLeaseIsStaleAndRemoved) {
  TempDir dir;
  test::Signal ready;
  pid_t owner = test::fork_child([&] {
    auto l = Lease::acquire(dir.path(), {{D("layer")}, {"k"}, "doomed build"});
    if (!l) return 1;
    ready.notify();
    for (;;) ::pause();
  });
  ASSERT_TRUE(ready.wait());
  auto live = active_leases(dir.path());
  ASSERT_TRUE(live);
  EXPECT_EQ(live->live, 1u);
  EXPECT_EQ(live->in_use.digests.count(D("layer")), 1u);

  ::kill(owner, SIGKILL);
  EXPECT_EQ(test::wait_child(owner), 128 + SIGKILL);
  EXPECT_EQ(lease_files(dir), 1u) << "the file survives its owner";
  auto after = active_leases(dir.path());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->live, 0u);
  EXPECT_EQ(after->removed, 1u);
  EXPECT_TRUE(after->in_use.empty());
  EXPECT_EQ(lease_files(dir), 0u);
}

TEST(LeaseSet, GrowsOneLeaseAndPublishesOnlyNews) {
  TempDir dir;
  {
    LeaseSet set(dir.path(), "warmer");
    EXPECT_EQ(lease_files(dir), 0u) << "created lazily";
    ASSERT_TRUE(set.add({{D("m1"), D("l1")}, {}, ""}));
    EXPECT_EQ(lease_files(dir), 1u);
    ASSERT_TRUE(set.add({{D("l1")}, {}, ""}));  // nothing new
    ASSERT_TRUE(set.add({{D("l2")}, {"key"}, ""}));
    EXPECT_EQ(lease_files(dir), 1u);
    EXPECT_EQ(set.contents().digests, (std::set<digest::Digest>{D("m1"), D("l1"), D("l2")}));
    EXPECT_EQ(set.contents().owner, "warmer");
    pid_t child = test::fork_child([&] {
      auto a = active_leases(dir.path());
      return a && a->live == 1 && a->in_use.digests.count(D("l2")) && a->in_use.cache_keys.count("key") ? 0 : 1;
    });
    EXPECT_EQ(test::wait_child(child), 0);
  }
  EXPECT_EQ(lease_files(dir), 0u) << "released with the set";
}

// While a deleter holds the fence, no new lease becomes visible; once it lets go, the waiting
// lease is published.
TEST(Lease, DeletionFenceHoldsBackNewLeases) {
  TempDir dir;
  auto fence = lock_deletions(dir.path());
  ASSERT_TRUE(fence) << fence.error().message();
  test::Signal published;
  pid_t child = test::fork_child([&] {
    fence->reset();  // the inherited descriptor shares the parent's lock: drop our copy
    auto l = Lease::acquire(dir.path(), {{D("blob")}, {}, "late build"});
    if (!l) return 1;
    published.notify();
    for (;;) ::pause();
  });
  for (int i = 0; i < 50; ++i) {
    auto a = active_leases(dir.path());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->live, 0u) << "a lease appeared while the fence was held";
  }
  fence->reset();
  ASSERT_TRUE(published.wait());
  auto a = active_leases(dir.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->live, 1u);
  ::kill(child, SIGKILL);
  test::wait_child(child);
}

}  // namespace
}  // namespace strata::store
