#include <gtest/gtest.h>

#include <thread>

#include "dockerfile/variables.hpp"

namespace strata::dockerfile {
namespace {

using Vars = std::vector<std::string>;
using Args = std::map<std::string, std::string>;

std::string expand(const Lookup& lookup, std::string_view word) {
  auto r = expand_word(word, lookup);
  EXPECT_TRUE(r.has_value()) << word;
  return r ? r->value : "<error>";
}

TEST(Variables, GlobalArgsOnlyInFromUnlessRedeclared) {
  BuildVariables vars(Args{});
  vars.declare_global_arg("VERSION", "1.2");
  vars.declare_global_arg("BASE", "alpine");
  EXPECT_EQ(expand(vars.global_lookup(), "${BASE}:${VERSION}"), "alpine:1.2");

  StageVariables stage = vars.begin_stage({"PATH=/bin"});
  EXPECT_EQ(stage.get("VERSION"), std::nullopt) << "a global ARG is not visible in a stage";
  EXPECT_EQ(expand(stage.lookup(), "v=${VERSION:-none}"), "v=none");
  stage.declare_arg("VERSION", std::nullopt);
  EXPECT_EQ(stage.get("VERSION"), "1.2") << "re-declaration takes the global value";
  EXPECT_EQ(stage.get("BASE"), std::nullopt);
}

TEST(Variables, BuildArgOverridesDefaultsEverywhere) {
  BuildVariables vars(Args{{"VERSION", "9"}, {"LOCAL", "cli"}});
  vars.declare_global_arg("VERSION", "1.2");
  EXPECT_EQ(vars.global_value("VERSION"), "9");
  StageVariables stage = vars.begin_stage({});
  stage.declare_arg("VERSION", std::nullopt);
  EXPECT_EQ(stage.get("VERSION"), "9");
  stage.declare_arg("LOCAL", "dflt");
  EXPECT_EQ(stage.get("LOCAL"), "cli");
  stage.declare_arg("OTHER", "dflt");
  EXPECT_EQ(stage.get("OTHER"), "dflt");
  stage.declare_arg("NOVALUE", std::nullopt);
  EXPECT_EQ(stage.get("NOVALUE"), std::nullopt) << "declared without any value: unset";
  EXPECT_EQ(expand(stage.lookup(), "${NOVALUE-unset}"), "unset");
}

TEST(Variables, StageDefaultOverridesGlobal) {
  BuildVariables vars(Args{});
  vars.declare_global_arg("X", "global");
  StageVariables stage = vars.begin_stage({});
  stage.declare_arg("X", "stage");
  EXPECT_EQ(stage.get("X"), "stage");
  stage.declare_arg("X", std::nullopt);
  EXPECT_EQ(stage.get("X"), "global") << "a bare re-declaration takes the global value again";

  StageVariables other = vars.begin_stage({});
  other.declare_arg("Y", "1");
  other.declare_arg("Y", std::nullopt);
  EXPECT_EQ(other.get("Y"), "1") << "nothing to take a value from: the earlier value stays";
}

TEST(Variables, StagesAreIndependent) {
  BuildVariables vars(Args{});
  StageVariables a = vars.begin_stage({});
  a.declare_arg("A", "1");
  a.set_env("E", "x");
  StageVariables b = vars.begin_stage({});
  EXPECT_EQ(b.get("A"), std::nullopt);
  EXPECT_EQ(b.get("E"), std::nullopt);
  // A stage FROM another stage is seeded with that stage's image env (not its ARGs).
  StageVariables c = vars.begin_stage(a.image_env());
  EXPECT_EQ(c.get("E"), "x");
  EXPECT_EQ(c.get("A"), std::nullopt);
}

TEST(Variables, EnvOverridesArgWhateverTheOrder) {
  BuildVariables vars(Args{{"V", "from-cli"}});
  StageVariables stage = vars.begin_stage({});
  stage.declare_arg("V", std::nullopt);
  EXPECT_EQ(stage.get("V"), "from-cli");
  stage.set_env("V", "v1.0.0");
  EXPECT_EQ(expand(stage.lookup(), "$V"), "v1.0.0");
  stage.declare_arg("V", "later");
  EXPECT_EQ(expand(stage.lookup(), "$V"), "v1.0.0");
  EXPECT_EQ(stage.run_env(), (Vars{"V=v1.0.0"}));
}

TEST(Variables, BaseEnvSeedsAndEnvUpdatesInPlace) {
  BuildVariables vars(Args{});
  StageVariables stage = vars.begin_stage({"PATH=/usr/bin:/bin", "HOME=/root", "EMPTY", "=bad", "HOME=/home"});
  EXPECT_EQ(stage.image_env(), (Vars{"PATH=/usr/bin:/bin", "HOME=/home", "EMPTY="}));
  stage.set_env("PATH", "/opt/bin:" + *stage.get("PATH"));
  stage.set_env("NEW", "1");
  EXPECT_EQ(stage.image_env(), (Vars{"PATH=/opt/bin:/usr/bin:/bin", "HOME=/home", "EMPTY=", "NEW=1"}));
}

TEST(Variables, RunEnvHasArgsButImageEnvDoesNot) {
  BuildVariables vars(Args{{"http_proxy", "http://proxy:3128"}, {"NO_PROXY", "localhost"}});
  StageVariables stage = vars.begin_stage({"PATH=/bin"});
  stage.declare_arg("A", "1");
  stage.declare_arg("UNSET", std::nullopt);
  stage.set_env("E", "2");
  EXPECT_EQ(stage.image_env(), (Vars{"PATH=/bin", "E=2"}));
  EXPECT_EQ(stage.run_env(),
            (Vars{"PATH=/bin", "E=2", "A=1", "NO_PROXY=localhost", "http_proxy=http://proxy:3128"}));
  // Undeclared proxies reach RUN but not expansion.
  EXPECT_EQ(stage.get("http_proxy"), std::nullopt);
}

TEST(Variables, VisibleIsWhatCacheKeysSee) {
  BuildVariables vars(Args{{"HTTPS_PROXY", "http://p"}, {"http_proxy", "http://q"}, {"UNUSED", "1"}});
  StageVariables stage = vars.begin_stage({"PATH=/bin"});
  stage.declare_arg("B", "2");
  stage.declare_arg("NOVAL", std::nullopt);
  stage.declare_arg("HTTPS_PROXY", std::nullopt);  // declared: now it counts
  stage.set_env("A", "1");
  stage.declare_arg("A", "shadowed");
  using S = VisibleVariable::Source;
  const std::vector<VisibleVariable> expected = {
      {S::env, "A", "1"}, {S::arg, "B", "2"}, {S::arg, "HTTPS_PROXY", "http://p"}, {S::env, "PATH", "/bin"}};
  EXPECT_EQ(stage.visible(), expected);
  EXPECT_EQ(stage.get("HTTPS_PROXY"), "http://p");
  EXPECT_EQ(stage.declared_args(), (Vars{"B", "NOVAL", "HTTPS_PROXY", "A"}));
}

TEST(Variables, PlatformArgsAreGlobalAndNeedDeclarationInStage) {
  auto platform = platform_args("linux/arm/v7", "linux/amd64");
  ASSERT_TRUE(platform.has_value());
  EXPECT_EQ(platform->at("TARGETPLATFORM"), "linux/arm/v7");
  EXPECT_EQ(platform->at("TARGETVARIANT"), "v7");
  EXPECT_EQ(platform->at("BUILDVARIANT"), "");
  BuildVariables vars(Args{}, *platform);
  EXPECT_EQ(expand(vars.global_lookup(), "--platform=$BUILDPLATFORM"), "--platform=linux/amd64");
  StageVariables stage = vars.begin_stage({});
  EXPECT_EQ(stage.get("TARGETARCH"), std::nullopt);
  stage.declare_arg("TARGETARCH", std::nullopt);
  stage.declare_arg("TARGETVARIANT", std::nullopt);
  EXPECT_EQ(expand(stage.lookup(), "${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}"), "arm-v7");
  EXPECT_TRUE(vars.unused_build_args().empty());

  EXPECT_FALSE(platform_args("linux", "linux/amd64").has_value());
  EXPECT_FALSE(platform_args("linux/amd64", "/amd64").has_value());
  EXPECT_FALSE(platform_args("linux/arm/v7/x", "linux/amd64").has_value());
  EXPECT_TRUE(is_platform_arg("BUILDOS"));
  EXPECT_FALSE(is_platform_arg("TARGETFOO"));
}

TEST(Variables, UnusedBuildArgsWarning) {
  BuildVariables vars(Args{{"USED_GLOBAL", "1"}, {"USED_STAGE", "2"}, {"FOO", "3"}, {"BAR", "4"},
                       {"HTTP_PROXY", "p"}, {"no_proxy", "q"}});
  EXPECT_EQ(vars.unused_build_args(), (Vars{"BAR", "FOO", "USED_GLOBAL", "USED_STAGE"}));
  vars.declare_global_arg("USED_GLOBAL", std::nullopt);
  StageVariables stage = vars.begin_stage({});
  stage.declare_arg("USED_STAGE", std::nullopt);
  EXPECT_EQ(vars.unused_build_args(), (Vars{"BAR", "FOO"}));
  EXPECT_EQ(vars.unused_build_args_warning(),
            "[Warning] One or more build-args [BAR FOO] were not consumed");
  stage.declare_arg("FOO", std::nullopt);
  stage.declare_arg("BAR", "x");
  EXPECT_EQ(vars.unused_build_args_warning(), std::nullopt);
}

TEST(Variables, ConcurrentStagesMarkConsumption) {
  std::map<std::string, std::string> args;
  for (int i = 0; i < 200; ++i) args["A" + std::to_string(i)] = "v";
  BuildVariables vars(args);
  auto worker = [&](int from) {
    StageVariables stage = vars.begin_stage({});
    for (int i = from; i < 200; i += 2) stage.declare_arg("A" + std::to_string(i), std::nullopt);
  };
  std::thread t1(worker, 0);
  std::thread t2(worker, 1);
  t1.join();
  t2.join();
  EXPECT_TRUE(vars.unused_build_args().empty());
}

TEST(Variables, ArgDefaultExpandedWithStageScope) {
  // The executor expands an ARG default with the scope at that line before declaring it.
  BuildVariables vars(Args{});
  StageVariables stage = vars.begin_stage({"HOME=/root"});
  stage.declare_arg("DIR", expand(stage.lookup(), "${HOME}/app"));
  stage.declare_arg("BIN", expand(stage.lookup(), "$DIR/bin"));
  EXPECT_EQ(stage.get("BIN"), "/root/app/bin");
  EXPECT_EQ(stage.run_env(), (Vars{"HOME=/root", "DIR=/root/app", "BIN=/root/app/bin"}));
}

}  // namespace
}  // namespace strata::dockerfile
