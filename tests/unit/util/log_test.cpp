#include "util/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace slog = strata::log;

namespace {

// Captures everything the logger writes while alive.
class Capture {
 public:
  Capture() {
    m_file = std::tmpfile();
    slog::set_sink(fileno(m_file));
  }
  ~Capture() {
    slog::set_sink(STDERR_FILENO);
    std::fclose(m_file);
  }
  std::string text() {
    std::fflush(m_file);
    std::string out;
    char buf[4096];
    std::rewind(m_file);
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, m_file)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  FILE* m_file;
};

}  // namespace

TEST(Log, RedactsRegisteredSecretsInEveryFormat) {
  slog::add_secret("hunter2-password");
  for (auto format : {slog::Format::text, slog::Format::color, slog::Format::json}) {
    slog::configure({slog::Level::trace, format, true, "test"});
    Capture capture;
    slog::debug("Authorization: Basic hunter2-password", {{"token", "xx-hunter2-password-yy"}});
    std::string out = capture.text();
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_NE(out.find("***"), std::string::npos) << out;
  }
  EXPECT_EQ(slog::redact("a hunter2-password b"), "a *** b");
}

TEST(Log, JsonLinesAreParseableAndCarryFields) {
  slog::configure({slog::Level::info, slog::Format::json, false, "warmer"});
  Capture capture;
  slog::info("cached image", {{"ref", "docker.io/library/busybox:latest"}});
  auto j = nlohmann::json::parse(capture.text());
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "cached image");
  EXPECT_EQ(j["tool"], "warmer");
  EXPECT_EQ(j["ref"], "docker.io/library/busybox:latest");
}

TEST(Log, LevelFiltersLines) {
  slog::configure({slog::Level::warn, slog::Format::text, false, ""});
  Capture capture;
  slog::info("hidden");
  slog::warn("shown");
  std::string out = capture.text();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("warning: shown"), std::string::npos);
  EXPECT_FALSE(slog::parse_level("loud"));
  EXPECT_EQ(*slog::parse_level("warning"), slog::Level::warn);
}
