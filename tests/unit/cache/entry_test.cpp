#include "cache/entry.hpp"

#include <gtest/gtest.h>

#include "image/manifest.hpp"

namespace strata::cache {
namespace {

StepKey sample_key() {
  StepInputs s;
  s.kind = StepKind::copy;
  s.instruction = "COPY a /a";
  s.display = "COPY a /a";
  s.files = digest::sha256("files");
  return compute_key("linux/arm64", "scratch", s);
}

image::Descriptor sample_layer() {
  image::Descriptor d;
  d.media_type = "application/vnd.oci.image.layer.v1.tar";
  d.digest = digest::sha256("layer");
  d.size = 5;
  return d;
}

TEST(Entry, ImageRoundTrips) {
  auto key = sample_key();
  auto created = store::from_unix_ms(1'700'000'123'456);
  auto e = make_entry_image(key, sample_layer(), digest::sha256("diff"), created);
  EXPECT_EQ(e.config_digest, digest::sha256(e.config_bytes));
  EXPECT_EQ(e.manifest_digest, digest::sha256(e.manifest_bytes));

  auto m = image::Manifest::parse(e.manifest_bytes);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(m->config.media_type, k_entry_config_media_type);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0], sample_layer());

  auto back = parse_entry_image(e.manifest_bytes, e.config_bytes);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->config.key, key.key);
  EXPECT_EQ(back->config.step, "COPY a /a");
  EXPECT_EQ(back->config.kind, StepKind::copy);
  EXPECT_EQ(back->config.platform, "linux/arm64");
  EXPECT_EQ(back->config.created, created);
  EXPECT_EQ(back->config.diff_id, digest::sha256("diff"));
  EXPECT_EQ(back->config.layer_media_type, sample_layer().media_type);
  EXPECT_EQ(back->config.inputs, key.inputs);
  EXPECT_EQ(back->layer, sample_layer());
}

TEST(Entry, ParseRejectsMismatchedOrForeignDocuments) {
  auto e = make_entry_image(sample_key(), sample_layer(), digest::sha256("diff"), store::from_unix_ms(0));
  auto other = make_entry_image(sample_key(), sample_layer(), digest::sha256("diff2"), store::from_unix_ms(0));
  auto mismatch = parse_entry_image(e.manifest_bytes, other.config_bytes);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind(), ErrorKind::corrupt);

  EXPECT_FALSE(parse_entry_config("{\"architecture\":\"amd64\"}"));
  EXPECT_FALSE(parse_entry_config("not json"));
  EXPECT_FALSE(parse_entry_config(R"({"strataLayerCache":1,"key":"k","kind":"bogus","created":"2024-01-01T00:00:00Z"})"));
}

TEST(Entry, TimesRoundTripAsRfc3339) {
  auto t = store::from_unix_ms(1'714'564'800'123);
  EXPECT_EQ(format_time(t), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00.123Z"), t);
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00Z"), store::from_unix_ms(1'714'564'800'000));
  EXPECT_EQ(*parse_time("2024-05-01T14:00:00.123456+02:00"), t);
  EXPECT_FALSE(parse_time("2024-05-01 12:00:00Z"));
  EXPECT_FALSE(parse_time("2024-13-01T12:00:00Z"));
  EXPECT_FALSE(parse_time("2024-05-01T12:00:00"));
}

}  // namespace
}  // namespace strata::cache
