#include <gtest/gtest.h>

#include "transport/retry.hpp"
#include "transport/transport.hpp"

namespace strata::transport {
namespace {

using namespace std::chrono_literals;

TEST(StatusError, KindsAndRetryability) {
  struct Case {
    int status;
    ErrorKind kind;
    bool retryable;
  };
  for (auto c : {Case{401, ErrorKind::unauthorized, false}, Case{403, ErrorKind::denied, false},
                 Case{404, ErrorKind::not_found, false}, Case{405, ErrorKind::unsupported, false},
                 Case{400, ErrorKind::invalid_argument, false}, Case{408, ErrorKind::timeout, true},
                 Case{429, ErrorKind::network, true}, Case{500, ErrorKind::network, true},
                 Case{503, ErrorKind::network, true}}) {
    Error e = status_error(c.status, "GET https://h/v2/", "");
    EXPECT_EQ(e.kind(), c.kind) << c.status;
    EXPECT_EQ(e.retryable(), c.retryable) << c.status;
    EXPECT_NE(e.message().find("HTTP " + std::to_string(c.status)), std::string::npos);
  }
}

TEST(StatusError, RegistryErrorEnvelopeRefinesAndNames) {
  Error e = status_error(400, "PUT x", R"({"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match"}]})");
  EXPECT_EQ(e.kind(), ErrorKind::corrupt);
  EXPECT_NE(e.message().find("DIGEST_INVALID: provided digest did not match"), std::string::npos);
  EXPECT_EQ(status_error(400, "x", "<html>oops</html>").kind(), ErrorKind::invalid_argument);
  EXPECT_TRUE(status_error(403, "x", R"({"errors":[{"code":"TOOMANYREQUESTS"}]})").retryable());
}

TEST(Headers, CaseInsensitiveLookupSetAndRemove) {
  Headers h;
  h.add("WWW-Authenticate", "Basic realm=a");
  h.add("www-authenticate", "Bearer realm=b");
  h.add("Content-Type", "x");
  EXPECT_EQ(h.get("content-type").value_or(""), "x");
  EXPECT_EQ(h.get_all("Www-Authenticate").size(), 2u);
  h.set("CONTENT-TYPE", "y");
  EXPECT_EQ(h.get_all("content-type"), std::vector<std::string>{"y"});
  h.remove("www-authenticate");
  EXPECT_FALSE(h.get("WWW-Authenticate"));
}

TEST(RetryAfter, SecondsAndDates) {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(parse_retry_after("120", now), std::optional(std::chrono::milliseconds(120s)));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::optional(0ms));
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now), std::optional(std::chrono::milliseconds(60s)));
  EXPECT_EQ(parse_retry_after("Tuesday, 14-Nov-23 22:13:30 GMT", now), std::optional(std::chrono::milliseconds(10s)));
  EXPECT_EQ(parse_retry_after("Tue Nov 14 22:13:25 2023", now), std::optional(std::chrono::milliseconds(5s)));
  EXPECT_EQ(parse_retry_after("Mon, 13 Nov 2023 00:00:00 GMT", now), std::optional(0ms));  // in the past
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("99999999999999", now));
}

TEST(Backoff, ExponentialWithEqualJitterAndCap) {
  RetryPolicy p;
  p.initial_backoff = 100ms;
  p.max_backoff = 1000ms;
  EXPECT_EQ(backoff_delay(p, 0, 1.0), 100ms);
  EXPECT_EQ(backoff_delay(p, 0, 0.0), 50ms);
  EXPECT_EQ(backoff_delay(p, 1, 1.0), 200ms);
  EXPECT_EQ(backoff_delay(p, 3, 1.0), 800ms);
  EXPECT_EQ(backoff_delay(p, 4, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(p, 60, 0.5), 750ms);
}

}  // namespace
}  // namespace strata::transport
