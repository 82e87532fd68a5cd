#include "util/json_writer.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using strata::util::JsonWriter;

namespace {

std::string write(const std::function<void(JsonWriter&)>& fn, int indent = 2) {
  std::ostringstream out;
  JsonWriter w(out, indent);
  fn(w);
  w.finish();
  return out.str();
}

TEST(JsonWriter, PrettyPrintsLikeNlohmann) {
  auto text = write([](JsonWriter& w) {
    w.begin_object().member("name", "x").member("n", std::uint64_t{18446744073709551615u}).member("neg", -5);
    w.member("ok", true).key("none").null().key("empty").begin_array().end_array();
    w.key("obj").begin_object().end_object().key("list").begin_array().value("a").value(1).end_array();
    w.key("nested").begin_object().member("k", "v").end_object().end_object();
  });
  nlohmann::json want = {{"name", "x"},   {"n", 18446744073709551615u}, {"neg", -5},
                         {"ok", true},    {"none", nullptr},            {"empty", nlohmann::json::array()},
                         {"obj", nlohmann::json::object()}, {"list", {"a", 1}}, {"nested", {{"k", "v"}}}};
  // nlohmann sorts keys; compare documents, and the layout on an ordered example.
  EXPECT_EQ(nlohmann::json::parse(text), want);
  EXPECT_EQ(write([](JsonWriter& w) { w.begin_object().member("a", 1).key("b").begin_array().value("x").end_array().end_object(); }),
            nlohmann::json({{"a", 1}, {"b", {"x"}}}).dump(2) + "\n");
  EXPECT_EQ(write([](JsonWriter& w) { w.begin_object().member("a", 1).member("b", "c").end_object(); }, 0),
            "{\"a\":1,\"b\":\"c\"}\n");
}

TEST(JsonWriter, EscapesAndReplacesInvalidUtf8) {
  std::string s = "q\"b\\n\n\t\x01 \xc3\xa9 \xf0\x9f\x98\x80 \xff \xc3 \xed\xa0\x80 end";
  auto text = write([&](JsonWriter& w) { w.begin_array().value(s).end_array(); }, 0);
  auto back = nlohmann::json::parse(text);  // throws on invalid UTF-8 in the output
  nlohmann::json want = nlohmann::json::array({s});
  EXPECT_EQ(text, want.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  EXPECT_EQ(back[0].get<std::string>().substr(0, 9), "q\"b\\n\n\t\x01 ");
}

TEST(JsonWriter, LargeOutputsAreFlushedAsTheyGo) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_array();
  for (int i = 0; i < 20000; ++i) w.value("entry number " + std::to_string(i));
  EXPECT_GT(out.str().size(), 0u);  // flushed before the end
  w.end_array();
  w.finish();
  EXPECT_EQ(nlohmann::json::parse(out.str()).size(), 20000u);
}

}  // namespace
