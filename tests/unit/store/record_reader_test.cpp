// The index's record reader (store/record_reader.hpp) against hand-written inputs, and the
// codec's decoders on records nlohmann wrote (escapes, unknown and mistyped fields).
#include "store/record_reader.hpp"

#include <map>

#include <gtest/gtest.h>

#include "store/index_codec.hpp"

namespace strata::store::codec {
namespace {

struct Seen {
  FieldValue::Kind kind;
  std::string text;
  std::uint64_t number;
  std::vector<std::string> items;
};

// Reads `json`, returning the fields (last wins) or nullopt when the reader refuses it.
std::optional<std::map<std::string, Seen>> fields(std::string_view json) {
  std::map<std::string, Seen> out;
  bool ok = read_record(json, [&](std::string_view name, const FieldValue& v) {
    out[std::string(name)] = Seen{v.kind, std::string(v.text), v.number, v.items};
    return true;
  });
  if (!ok) return std::nullopt;
  return out;
}

TEST(RecordReader, ReadsStringsNumbersAndStringArrays) {
  auto f = fields(R"( {"s":"plain", "e":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "n":42, "neg":-7, "big":18446744073709551615,
                      "l":["x","y\n"], "empty":[]} )");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["s"].text, "plain");
  EXPECT_EQ((*f)["e"].text, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ((*f)["n"].kind, FieldValue::Kind::unsigned_integer);
  EXPECT_EQ((*f)["n"].number, 42u);
  EXPECT_EQ((*f)["neg"].kind, FieldValue::Kind::negative_integer);
  EXPECT_EQ((*f)["neg"].number, 7u);
  EXPECT_EQ((*f)["big"].number, 18446744073709551615u);
  EXPECT_EQ((*f)["l"].kind, FieldValue::Kind::string_array);
  EXPECT_EQ((*f)["l"].items, (std::vector<std::string>{"x", "y\n"}));
  EXPECT_EQ((*f)["empty"].kind, FieldValue::Kind::string_array);
  EXPECT_TRUE((*f)["empty"].items.empty());
}

TEST(RecordReader, OtherValuesAreSkippedAsOther) {
  auto f = fields(R"({"o":{"a":[1,{"b":null}],"c":true},"f":1.5,"x":1e3,"t":false,"m":[1,"a"],"huge":99999999999999999999,
                     "last":"ok"})");
  ASSERT_TRUE(f);
  for (const char* name : {"o", "f", "x", "t", "m", "huge"}) EXPECT_EQ((*f)[name].kind, FieldValue::Kind::other) << name;
  EXPECT_EQ((*f)["last"].text, "ok");
  EXPECT_TRUE(fields("{}"));
  EXPECT_EQ(fields(R"({"a":"1","a":"2"})")->at("a").text, "2");  // the last wins, as in nlohmann
}

TEST(RecordReader, RefusesWhatIsNotOneObject) {
  for (const char* bad : {"", "[]", "\"s\"", "{", "{\"a\":1", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1}x", "{\"a\":1}{}",
                          "{a:1}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"\\udc00\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"unterminated}", "{\"a\":tru}",
                          "{\"a\":[\"x\",]}", "{\"a\":\"\\u12\"}"}) {
    EXPECT_FALSE(fields(bad)) << bad;
  }
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_FALSE(fields(deep));  // nesting is bounded
  std::string ok = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
  EXPECT_TRUE(fields(ok));
}

TEST(RecordReader, TheVisitorCanStopTheRead) {
  EXPECT_FALSE(read_record(R"({"a":1})", [](std::string_view, const FieldValue&) { return false; }));
}

TEST(IndexCodec, DecodesWhatItEncodesWhateverTheStepHolds) {
  LayerCacheRecord r;
  r.key = "k1";
  r.manifest = digest::sha256("m");
  r.layer = digest::sha256("l");
  r.diff_id = digest::sha256("d");
  r.step = "RUN echo \"quoted\" \\ back\nslash \x01 \xc3\xa9 \xff";  // \xff is not UTF-8
  r.platform = "linux/amd64";
  r.created = from_unix_ms(1'700'000'000'123);
  r.last_used = from_unix_ms(1'700'000'000'456);
  r.hits = 7;
  r.size = 1234;
  auto back = decode_layer_cache(layer_cache_key(r.key), encode(r));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->step, "RUN echo \"quoted\" \\ back\nslash \x01 \xc3\xa9 \xef\xbf\xbd");  // U+FFFD
  EXPECT_EQ(back->manifest, r.manifest);
  EXPECT_EQ(back->diff_id, r.diff_id);
  EXPECT_EQ(back->created, r.created);
  EXPECT_EQ(back->hits, 7u);
  EXPECT_EQ(back->size, 1234u);
}

TEST(IndexCodec, UnknownFieldsAreIgnoredAndMistypedOnesReadAsEmpty) {
  auto d = digest::sha256("x").str();
  auto blob = decode_blob(blob_key(digest::sha256("x")),
                          R"({"s":"12","mt":5,"a":-1000,"future":{"nested":[1,2]},"n":3})");
  ASSERT_TRUE(blob) << blob.error().message();
  EXPECT_EQ(blob->size, 0u);
  EXPECT_EQ(blob->media_type, "");
  EXPECT_EQ(blob->added, from_unix_ms(-1000));
  EXPECT_EQ(blob->use_count, 3u);

  auto man = decode_manifest(manifest_key(digest::sha256("x")), R"({"k":"image","l":[")" + d + R"("],"c":5})");
  ASSERT_FALSE(man);  // a digest field must be a digest
  EXPECT_NE(man.error().message().find("missing digest field c"), std::string::npos) << man.error().message();
  man = decode_manifest(manifest_key(digest::sha256("x")), R"({"k":"image","l":[1]})");
  ASSERT_FALSE(man);
  EXPECT_NE(man.error().message().find("l is not an array of strings"), std::string::npos);
  auto lc = decode_layer_cache("lc/k", R"({"m":")" + d + R"(","l":")" + d + R"("})");
  ASSERT_FALSE(lc);
  EXPECT_NE(lc.error().message().find("missing digest field d"), std::string::npos);
  EXPECT_EQ(lc.error().kind(), ErrorKind::corrupt);
}

}  // namespace
}  // namespace strata::store::codec
