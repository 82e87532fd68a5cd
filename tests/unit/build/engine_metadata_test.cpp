// Metadata instructions applied to an image config: expansion, Docker's CMD/ENTRYPOINT rules,
// WORKDIR joining, EXPOSE ranges, HEALTHCHECK, ONBUILD, SHELL.
#include <gtest/gtest.h>

#include "build/metadata.hpp"
#include "dockerfile/instructions.hpp"
#include "dockerfile/variables.hpp"

namespace strata::build {
namespace {

namespace df = dockerfile;

struct Applied {
  image::ImageConfig config;
  std::vector<std::string> run_env;
};

Result<Applied> apply(const std::string& body, image::ImageConfig base = {},
                      std::map<std::string, std::string> build_args = {}) {
  auto parsed = TRY(df::parse_dockerfile("FROM scratch\n" + body));
  df::BuildVariables vars(std::move(build_args));
  auto stage = vars.begin_stage(base.config.env);
  MetadataState state;
  state.config = &base;
  state.vars = &stage;
  for (const auto& instr : parsed.stages.front().commands) TRY(apply_metadata(instr, state));
  base.config.env = stage.image_env();
  return Applied{base, stage.run_env()};
}

TEST(EngineMetadata, EnvAndLabelsExpandWithTheStageVariables) {
  image::ImageConfig base;
  base.config.env = {"PATH=/usr/bin:/bin", "HOME=/root"};
  auto r = apply("ARG V=1.0\nENV APP=/opt/app PATH=/opt/app/bin:$PATH\nENV X=$APP/x\nLABEL \"v\"=$V app=${APP}\n",
                 base, {{"V", "2.0"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->config.config.env,
            (std::vector<std::string>{"PATH=/opt/app/bin:/usr/bin:/bin", "HOME=/root", "APP=/opt/app", "X=/opt/app/x"}));
  EXPECT_EQ(r->config.config.labels.at("v"), "2.0");
  EXPECT_EQ(r->config.config.labels.at("app"), "/opt/app");
  // The ARG reaches RUN steps but not the image.
  EXPECT_NE(std::find(r->run_env.begin(), r->run_env.end(), "V=2.0"), r->run_env.end());
}

TEST(EngineMetadata, ValuesOnOneEnvLineSeeThePreviousEnvironment) {
  auto r = apply("ENV A=1\nENV A=2 B=$A\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->config.get_env("B"), "1");
  EXPECT_EQ(r->config.get_env("A"), "2");
}

TEST(EngineMetadata, ArgNameIsExpandedToo) {
  // kaniko's test_scratch: `ARG ${src}=context/bar/${baz}` declares file3 (BuildKit expands the name).
  auto r = apply("ENV baz=baz src=file3\nARG ${src}=context/bar/${baz}\nLABEL l=$file3\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->config.config.labels.at("l"), "context/bar/baz");
  EXPECT_NE(std::find(r->run_env.begin(), r->run_env.end(), "file3=context/bar/baz"), r->run_env.end());
}

TEST(EngineMetadata, EntrypointResetsAnInheritedCmd) {
  image::ImageConfig base;
  base.config.cmd = {"sh"};
  auto r = apply("ENTRYPOINT [\"/app\"]\n", base);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->config.config.entrypoint, (std::vector<std::string>{"/app"}));
  EXPECT_TRUE(r->config.config.cmd.empty());

  auto kept = apply("CMD [\"--help\"]\nENTRYPOINT /app run\n", base);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->config.config.cmd, (std::vector<std::string>{"--help"}));
  EXPECT_EQ(kept->config.config.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/app run"}));
}

TEST(EngineMetadata, ShellFormUsesShell) {
  auto r = apply("SHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nCMD echo hi\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->config.config.cmd, (std::vector<std::string>{"/bin/bash", "-eu", "-c", "echo hi"}));
  EXPECT_EQ(r->config.config.shell, (std::vector<std::string>{"/bin/bash", "-eu", "-c"}));
}

TEST(EngineMetadata, WorkdirJoinsRelativePaths) {
  auto r = apply("ENV BASE=/srv\nWORKDIR $BASE\nWORKDIR app/../web\nWORKDIR sub/\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->config.config.working_dir, "/srv/web/sub");
}

TEST(EngineMetadata, ExposeVolumeUserStopsignal) {
  auto r = apply("ARG P=53\nEXPOSE 80 $P/udp 8000-8002\nVOLUME /data /logs\nUSER app:staff\nSTOPSIGNAL SIGTERM\n");
  ASSERT_TRUE(r) << r.error().message();
  const auto& c = r->config.config;
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"}));
  EXPECT_EQ(c.user, "app:staff");
  EXPECT_EQ(c.stop_signal, "SIGTERM");
  EXPECT_EQ(c.volumes.size(), 2u);
}

TEST(EngineMetadata, HealthcheckOnbuildMaintainer) {
  auto r = apply("HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://localhost/\nONBUILD RUN make\nMAINTAINER me@example.com\n");
  ASSERT_TRUE(r) << r.error().message();
  const auto& c = r->config.config;
  ASSERT_TRUE(c.healthcheck);
  EXPECT_EQ(c.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"}));
  EXPECT_EQ(c.healthcheck->interval, std::chrono::seconds(5));
  EXPECT_EQ(c.healthcheck->retries, 2);
  EXPECT_EQ(c.on_build, (std::vector<std::string>{"RUN make"}));
  EXPECT_EQ(r->config.author, "me@example.com");

  auto none = apply("HEALTHCHECK NONE\n");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->config.config.healthcheck->test, (std::vector<std::string>{"NONE"}));
}

TEST(EngineMetadata, ExpansionErrorsNameTheLine) {
  auto r = apply("ENV A=1\nLABEL x=${UNSET:?must be set}\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("Dockerfile:3"), std::string::npos) << r.error().message();
}

TEST(EngineMetadata, CreatedByForMetadataIsTheNopForm) {
  auto parsed = df::parse_dockerfile("FROM scratch\nENV A=1\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(nop_created_by(parsed->stages[0].commands[0]), "/bin/sh -c #(nop) ENV A=1");
}

}  // namespace
}  // namespace strata::build
