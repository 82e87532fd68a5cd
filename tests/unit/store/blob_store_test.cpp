#include "store/blob_store.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <sched.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/file_ops.hpp"
#include "store_test_support.hpp"

namespace strata::store {
namespace {

using test::TempDir;

std::string big_payload(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 131 % 251);
  return s;
}

std::size_t count_entries(const std::string& dir) {
  auto names = list_dir(dir);
  return names ? names->size() : 0;
}

TEST(BlobStore, CommitMakesVerifiedBlobVisible) {
  TempDir dir;
  auto store = BlobStore::open(dir.path());
  ASSERT_TRUE(store) << store.error().message();
  const std::string data = "hello, cache";
  const auto d = digest::sha256(data);

  auto w = store->writer({d, data.size()});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write(data.substr(0, 5)));
  EXPECT_FALSE(store->has(d)) << "a blob must not be visible before commit";
  EXPECT_EQ(count_entries(dir / "ingest"), 1u);
  ASSERT_TRUE(w->write(data.substr(5)));
  auto c = w->commit();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->digest, d);
  EXPECT_EQ(c->size, data.size());
  EXPECT_FALSE(c->already_present);
  EXPECT_TRUE(store->has(d));
  EXPECT_EQ(*store->size(d), data.size());
  EXPECT_EQ(*store->read(d), data);
  EXPECT_TRUE(store->verify(d));
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
  auto fd = store->open_blob(d);
  ASSERT_TRUE(fd);
  char buf[5];
  ASSERT_EQ(::read(fd->get(), buf, 5), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(BlobStore, DestructionWithoutCommitAborts) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  {
    auto w = *store.writer();
    ASSERT_TRUE(w.write("partial"));
    EXPECT_EQ(count_entries(dir / "ingest"), 1u);
  }
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
  EXPECT_FALSE(store.has(digest::sha256("partial")));
  EXPECT_TRUE(store.list()->empty());
}

TEST(BlobStore, DigestMismatchIsCorruptAndRemovesTemp) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  const auto expected = digest::sha256("what the registry promised");
  auto w = *store.writer({expected, std::nullopt});
  ASSERT_TRUE(w.write("what it sent"));
  auto c = w.commit();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind(), ErrorKind::corrupt);
  EXPECT_NE(c.error().message().find(expected.str()), std::string::npos) << c.error().message();
  EXPECT_FALSE(store.has(expected));
  EXPECT_FALSE(store.has(digest::sha256("what it sent")));
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
}

TEST(BlobStore, SizeMismatchIsCorrupt) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  const std::string data = "twelve bytes";
  {  // shorter than expected
    auto w = *store.writer({digest::sha256(data), 100});
    ASSERT_TRUE(w.write(data));
    auto c = w.commit();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().kind(), ErrorKind::corrupt);
  }
  {  // longer than expected: fails as soon as it is known
    auto w = *store.writer({std::nullopt, 4});
    auto r = w.write(data);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
    EXPECT_FALSE(w.commit());
  }
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
  EXPECT_TRUE(store.list()->empty());
}

TEST(BlobStore, ExistingBlobJustDropsTheTemp) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  auto first = store.put("same bytes");
  ASSERT_TRUE(first);
  struct stat before {};
  ASSERT_EQ(::stat(store.path(first->digest).c_str(), &before), 0);
  auto second = store.put("same bytes", {first->digest, first->size});
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->already_present);
  struct stat after {};
  ASSERT_EQ(::stat(store.path(first->digest).c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "an existing blob must not be replaced";
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
}

TEST(BlobStore, ConcurrentThreadsWritingTheSameBlob) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  const std::string data = big_payload(1 << 20, 7);
  const auto d = digest::sha256(data);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto w = store.writer({d, data.size()});
      if (!w) return;
      for (std::size_t off = 0; off < data.size(); off += 65536)
        if (!w->write(std::string_view(data).substr(off, 65536))) return;
      if (w->commit()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_TRUE(store.verify(d));
  EXPECT_EQ(store.list()->size(), 1u);
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
}

TEST(BlobStore, ConcurrentProcessesWritingTheSameBlob) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  const std::string data = big_payload(512 << 10, 3);
  const auto d = digest::sha256(data);
  std::vector<pid_t> kids;
  for (int i = 0; i < 4; ++i) {
    kids.push_back(test::fork_child([&] {
      auto s = BlobStore::open(dir.path());
      if (!s) return 1;
      auto w = s->writer({d, data.size()});
      if (!w) return 2;
      for (std::size_t off = 0; off < data.size(); off += 4096)
        if (!w->write(std::string_view(data).substr(off, 4096))) return 3;
      return w->commit() ? 0 : 4;
    }));
  }
  for (pid_t k : kids) EXPECT_EQ(test::wait_child(k), 0);
  EXPECT_TRUE(store.verify(d));
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
}

TEST(BlobStore, KilledWriterLeavesOnlyAStaleTemp) {
  TempDir dir;
  ManualClock clock(to_unix_ms(std::chrono::system_clock::now()));
  auto store = *BlobStore::open(dir.path(), clock.clock());
  const std::string data = big_payload(256 << 10, 5);
  const auto d = digest::sha256(data);
  test::Signal ready;
  pid_t child = test::fork_child([&] {
    auto w = store.writer({d, data.size()});
    if (!w || !w->write(std::string_view(data).substr(0, data.size() / 2))) return 1;
    ready.notify();
    for (;;) ::pause();
  });
  ASSERT_TRUE(ready.wait());

  // While the writer lives, its temp is not stale even past the grace period.
  clock.advance(std::chrono::hours(2));
  auto live = store.list_stale_ingests(std::chrono::minutes(10));
  ASSERT_TRUE(live);
  EXPECT_TRUE(live->empty());
  EXPECT_EQ(count_entries(dir / "ingest"), 1u);

  ::kill(child, SIGKILL);
  EXPECT_EQ(test::wait_child(child), 128 + SIGKILL);
  EXPECT_FALSE(store.has(d));
  EXPECT_TRUE(store.list()->empty()) << "no partial blob may be visible";

  // Dead, but younger than the grace period: kept.
  EXPECT_TRUE(store.list_stale_ingests(std::chrono::hours(3))->empty());
  auto stale = store.list_stale_ingests(std::chrono::minutes(10));
  ASSERT_TRUE(stale);
  ASSERT_EQ(stale->size(), 1u);
  EXPECT_EQ((*stale)[0].size, data.size() / 2);
  EXPECT_TRUE(*store.remove_stale_ingest((*stale)[0].path));
  EXPECT_EQ(count_entries(dir / "ingest"), 0u);
}

TEST(BlobStore, LiveWriterTempCannotBeRemoved) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  auto w = *store.writer();
  ASSERT_TRUE(w.write("in progress"));
  auto removed = store.remove_stale_ingest(w.temp_path());
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  EXPECT_TRUE(w.commit());
}

TEST(BlobStore, ListSkipsForeignNames) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  auto a = *store.put("a");
  auto b = *store.put("b");
  ASSERT_TRUE(write_file_atomic(dir / "blobs/sha256/not-a-digest", "x"));
  auto all = *store.list();
  std::sort(all.begin(), all.end());
  std::vector<digest::Digest> want{a.digest, b.digest};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(all, want);
  ASSERT_TRUE(store.remove(a.digest));
  EXPECT_FALSE(store.has(a.digest));
  EXPECT_TRUE(store.remove(a.digest)) << "removing a missing blob is not an error";
}

TEST(BlobStore, VerifyDetectsBitRot) {
  TempDir dir;
  auto store = *BlobStore::open(dir.path());
  auto c = *store.put("pristine");
  ASSERT_TRUE(write_file_atomic(store.path(c.digest), "rotten!!"));
  auto v = store.verify(c.digest);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind(), ErrorKind::corrupt);
}

// ENOSPC on a tiny tmpfs, mounted in a private mount namespace of a child process so that
// nothing leaks into the host's mount table whatever happens.
TEST(BlobStore, NoSpaceIsReportedAndCleansUp) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tiny tmpfs";
  TempDir dir;
  const std::string mnt = dir / "tiny";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  pid_t child = test::fork_child([&] {
    if (::unshare(CLONE_NEWNS) != 0) return 77;
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) return 77;
    auto store = BlobStore::open(mnt);
    if (!store) return 1;
    auto w = store->writer();
    if (!w) return 2;
    const std::string chunk(64 << 10, 'z');
    Result<void> r;
    for (int i = 0; i < 16 && r; ++i) r = w->write(chunk);
    if (r) return 3;  // 1 MiB fit into 256 KiB?
    if (r.error().kind() != ErrorKind::no_space) return 4;
    if (r.error().message().find("no space left") == std::string::npos) return 5;
    if (count_entries(mnt + "/ingest") != 0) return 6;  // temp removed at once
    if (w->commit()) return 7;
    if (!store->list()->empty()) return 8;
    // The space is back: a small blob fits again.
    if (!store->put("small")) return 9;
    return 0;
  });
  int rc = test::wait_child(child);
  if (rc == 77) GTEST_SKIP() << "cannot mount tmpfs in a private mount namespace here";
  EXPECT_EQ(rc, 0) << "failed at step " << rc;
}

}  // namespace
}  // namespace strata::store
