#include "cache/local_store.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "cache_test_support.hpp"

namespace strata::cache {
namespace {

using namespace std::chrono_literals;

StepKey sample_key(const std::string& instruction = "RUN make", const std::string& version = "1") {
  StepInputs s;
  s.kind = StepKind::run;
  s.instruction = instruction;
  s.display = "RUN make";
  s.variables = {{dockerfile::VisibleVariable::Source::arg, "VERSION", version}};
  return compute_key("linux/amd64", "scratch", s);
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = store::CacheDir::open(m_tmp / "cache", {m_clock.clock()});
    ASSERT_TRUE(dir) << dir.error().message();
    m_dir.emplace(std::move(*dir));
    m_store.emplace(*m_dir);
  }
  test::TempDir m_tmp;
  store::ManualClock m_clock;
  std::optional<store::CacheDir> m_dir;
  std::optional<LocalLayerStore> m_store;
};

TEST_F(LocalStoreTest, PutThenLookupHits) {
  auto key = sample_key();
  auto layer = test::make_layer(m_tmp / "work/layer", "layer bytes");
  auto entry = make_entry_image(key, layer.descriptor, layer.diff_id, m_clock.now());
  auto rec = m_store->put(entry, layer.path);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->key, key.key);
  EXPECT_EQ(rec->layer, layer.descriptor.digest);

  auto found = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_EQ(found->status, LocalStatus::hit);
  EXPECT_EQ(found->layer.descriptor, layer.descriptor);
  EXPECT_EQ(found->layer.diff_id, layer.diff_id);
  EXPECT_EQ(test::read_file(found->layer.path), "layer bytes");
  EXPECT_NE(found->layer.path, layer.path) << "the layer must be copied into the cache dir";

  // The entry's manifest, config and layer are recorded so prune/du see them.
  auto session = m_dir->index().read();
  ASSERT_TRUE(session);
  auto manifest = session->manifest(entry.manifest_digest);
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->config, entry.config_digest);
  EXPECT_EQ(manifest->layers, std::vector<digest::Digest>{layer.descriptor.digest});
  EXPECT_TRUE(session->blob(layer.descriptor.digest));
  auto record = session->layer_cache(key.key);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->hits, 1u);
}

TEST_F(LocalStoreTest, AbsentKey) {
  auto found = m_store->lookup(sample_key().key, 336h);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, LocalStatus::absent);
}

TEST_F(LocalStoreTest, PutRejectsALayerThatDoesNotMatchItsDescriptor) {
  auto key = sample_key();
  auto layer = test::make_layer(m_tmp / "work/layer", "layer bytes");
  test::write_file(layer.path, "other bytes");
  auto entry = make_entry_image(key, layer.descriptor, layer.diff_id, m_clock.now());
  auto rec = m_store->put(entry, layer.path);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind(), ErrorKind::corrupt);
  auto found = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, LocalStatus::absent);
}

TEST_F(LocalStoreTest, TtlCountsFromLastUseAndHitsRefresh) {
  auto key = sample_key();
  auto layer = test::make_layer(m_tmp / "work/layer", "layer bytes");
  ASSERT_TRUE(m_store->put(make_entry_image(key, layer.descriptor, layer.diff_id, m_clock.now()), layer.path));

  m_clock.advance(300h);
  auto r1 = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, LocalStatus::hit);
  EXPECT_EQ(r1->age, std::chrono::milliseconds(300h));

  // 600h after creation but 300h after the last hit: still fresh.
  m_clock.advance(300h);
  auto r2 = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, LocalStatus::hit);

  // A lookup without refresh does not extend the life.
  m_clock.advance(200h);
  ASSERT_EQ(m_store->lookup(key.key, 336h, Refresh::no)->status, LocalStatus::hit);
  m_clock.advance(137h);
  auto r3 = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->status, LocalStatus::expired);
  EXPECT_EQ(r3->age, std::chrono::milliseconds(337h));

  auto session = m_dir->index().read();
  ASSERT_TRUE(session);
  EXPECT_EQ(session->layer_cache(key.key)->hits, 2u);
}

TEST_F(LocalStoreTest, MissingBlobMakesTheEntryIncomplete) {
  auto key = sample_key();
  auto layer = test::make_layer(m_tmp / "work/layer", "layer bytes");
  ASSERT_TRUE(m_store->put(make_entry_image(key, layer.descriptor, layer.diff_id, m_clock.now()), layer.path));
  ASSERT_TRUE(m_dir->blobs().remove(layer.descriptor.digest));
  auto found = m_store->lookup(key.key, 336h);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, LocalStatus::incomplete);
}

TEST_F(LocalStoreTest, EntriesForStepFindsTheSameStepText) {
  auto layer = test::make_layer(m_tmp / "work/layer", "layer bytes");
  auto k1 = sample_key("RUN make", "1");
  auto k2 = sample_key("RUN make", "2");
  ASSERT_TRUE(m_store->put(make_entry_image(k1, layer.descriptor, layer.diff_id, m_clock.now()), layer.path));
  m_clock.advance(1h);
  ASSERT_TRUE(m_store->put(make_entry_image(k2, layer.descriptor, layer.diff_id, m_clock.now()), layer.path));

  auto entries = m_store->entries_for_step("RUN make", "linux/amd64");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->front().key, k2.key) << "most recently used first";
  EXPECT_EQ(differing_inputs(entries->front().inputs, k1.inputs), std::vector<std::string>{"var:VERSION"});
  EXPECT_TRUE(m_store->entries_for_step("RUN make", "linux/arm64")->empty());
  EXPECT_TRUE(m_store->entries_for_step("RUN other", "linux/amd64")->empty());
}

}  // namespace
}  // namespace strata::cache
