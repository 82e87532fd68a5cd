#include "image/config.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace strata::image;
using strata::ErrorKind;

namespace {

std::string d(char c) { return "sha256:" + std::string(64, c); }

TEST(ImageConfig, SerialisesInGoFieldOrderWithOmitEmpty) {
  ImageConfig c;
  c.created = "2024-05-01T10:00:00Z";
  c.architecture = "arm64";
  c.os = "linux";
  c.variant = "v8";
  c.config.user = "app";
  c.config.exposed_ports = {"443/tcp", "8080/tcp"};
  c.config.env = {"PATH=/usr/bin", "A=<b>"};
  c.config.entrypoint = {"/bin/sh", "-c"};
  c.config.cmd = {"run"};
  c.config.volumes = {"/data"};
  c.config.working_dir = "/srv";
  c.config.labels = {{"z", "1"}, {"a", "2"}};
  c.config.stop_signal = "SIGTERM";
  c.config.args_escaped = true;
  c.config.healthcheck = HealthCheck{{"CMD-SHELL", "curl -f http://localhost/"},
                                     std::chrono::seconds(30),
                                     std::chrono::seconds(5),
                                     std::chrono::nanoseconds(0),
                                     std::chrono::milliseconds(500),
                                     3};
  c.config.on_build = {"RUN true"};
  c.config.shell = {"/bin/bash", "-c"};
  c.diff_ids = {*strata::digest::Digest::parse(d('a'))};
  c.history = {{"2024-05-01T10:00:00Z", "/bin/sh -c #(nop) ADD file", "", "", false},
               {"2024-05-01T10:00:01Z", "ENV A=b", "me", "buildkit.dockerfile.v0", true}};
  const std::string expected =
      R"({"created":"2024-05-01T10:00:00Z","architecture":"arm64","os":"linux","variant":"v8","config":{)"
      R"("User":"app","ExposedPorts":{"443/tcp":{},"8080/tcp":{}},"Env":["PATH=/usr/bin","A=\u003cb\u003e"],)"
      R"("Entrypoint":["/bin/sh","-c"],"Cmd":["run"],"Volumes":{"/data":{}},"WorkingDir":"/srv",)"
      R"("Labels":{"a":"2","z":"1"},"StopSignal":"SIGTERM","ArgsEscaped":true,)"
      R"("Healthcheck":{"Test":["CMD-SHELL","curl -f http://localhost/"],"Interval":30000000000,)"
      R"("Timeout":5000000000,"StartInterval":500000000,"Retries":3},"OnBuild":["RUN true"],)"
      R"("Shell":["/bin/bash","-c"]},"rootfs":{"type":"layers","diff_ids":[")" +
      d('a') +
      R"("]},"history":[{"created":"2024-05-01T10:00:00Z","created_by":"/bin/sh -c #(nop) ADD file"},)"
      R"({"created":"2024-05-01T10:00:01Z","created_by":"ENV A=b","author":"me","comment":"buildkit.dockerfile.v0",)"
      R"("empty_layer":true}]})";
  EXPECT_EQ(c.serialize(), expected);

  auto parsed = ImageConfig::parse(expected);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->config, c.config);
  EXPECT_EQ(parsed->history, c.history);
  EXPECT_EQ(parsed->serialize(), expected);
}

TEST(ImageConfig, MinimalConfigKeepsRequiredFields) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  EXPECT_EQ(c.serialize(), R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}})");
}

TEST(ImageConfig, PreservesUnknownFields) {
  const std::string docker_written =
      R"({"architecture":"amd64","config":{"Hostname":"","Env":["PATH=/bin"],"Cmd":"sh","Image":"sha256:x",)"
      R"("Entrypoint":null,"Labels":null},"container":"abc","container_config":{"Cmd":["x"]},)"
      R"("created":"2023-01-01T00:00:00.123456789Z","docker_version":"20.10.7","os":"linux",)"
      R"("rootfs":{"type":"layers","diff_ids":[")" + d('b') + R"("]}})";
  auto c = ImageConfig::parse(docker_written);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->config.cmd, std::vector<std::string>{"sh"});  // strslice accepts a string
  EXPECT_EQ(c->created, "2023-01-01T00:00:00.123456789Z");
  c->set_env("PATH", "/usr/bin:/bin");
  c->set_env("NEW", "1");
  EXPECT_EQ(c->get_env("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(c->get_env("PAT"), std::nullopt);
  EXPECT_EQ(c->serialize(),
            R"({"created":"2023-01-01T00:00:00.123456789Z","architecture":"amd64","os":"linux","config":{)"
            R"("Env":["PATH=/usr/bin:/bin","NEW=1"],"Cmd":["sh"],"Hostname":"","Image":"sha256:x"},)"
            R"("rootfs":{"type":"layers","diff_ids":[")" + d('b') +
                R"("]},"container":"abc","container_config":{"Cmd":["x"]},"docker_version":"20.10.7"})");
  EXPECT_EQ(c->platform().str(), "linux/amd64");
}

TEST(ImageConfig, Errors) {
  struct Case {
    std::string body;
    ErrorKind kind;
    const char* mentions;
  };
  const Case cases[] = {
      {"{", ErrorKind::corrupt, "invalid JSON"},
      {"42", ErrorKind::corrupt, "JSON object"},
      {R"({"config":{"Env":"A=b"}})", ErrorKind::corrupt, "config.Env"},
      {R"({"config":{"Env":[1]}})", ErrorKind::corrupt, "config.Env"},
      {R"({"config":{"Labels":{"a":1}}})", ErrorKind::corrupt, "config.Labels"},
      {R"({"config":{"Healthcheck":{"Interval":"30s"}}})", ErrorKind::corrupt, "config.Healthcheck.Interval"},
      {R"({"config":{"ArgsEscaped":"yes"}})", ErrorKind::corrupt, "config.ArgsEscaped"},
      {R"({"config":[]})", ErrorKind::corrupt, "'config' must be an object"},
      {R"({"rootfs":{"type":"layers","diff_ids":["nope"]}})", ErrorKind::corrupt, "rootfs.diff_ids[0]"},
      {R"({"rootfs":{"type":"zfs"}})", ErrorKind::unsupported, "zfs"},
      {R"({"history":[{"empty_layer":"no"}]})", ErrorKind::corrupt, "history[0].empty_layer"},
      {R"({"os":7})", ErrorKind::corrupt, "'os'"},
      {std::string(70, '[') + std::string(70, ']'), ErrorKind::corrupt, "nested"},
  };
  for (const auto& c : cases) {
    auto r = ImageConfig::parse(c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().kind(), c.kind) << r.error().message();
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().rfind("image config: ", 0), 0u) << r.error().message();
  }
}

TEST(ImageConfig, InvalidUtf8IsReplacedNotThrown) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.config.labels = {{"bad", std::string("\xff\xfe")}};
  std::string out = c.serialize();
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
}

}  // namespace
