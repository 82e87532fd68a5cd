// The stage graph: names, indexes, FROM <stage>, --from references, targets, needed stages, errors.
#include <gtest/gtest.h>

#include <map>

#include "dockerfile/stages.hpp"

using namespace strata::dockerfile;

namespace {

Dockerfile parse(std::string_view text) {
  auto df = parse_dockerfile(text);
  EXPECT_TRUE(df) << df.error().message();
  return df ? *df : Dockerfile{};
}

Lookup map_lookup(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string graph_error(std::string_view text, StageGraphOptions options = {}) {
  Dockerfile df = parse(text);
  auto g = build_stage_graph(df, options);
  EXPECT_FALSE(g);
  return g ? std::string() : g.error().message();
}

const char* k_multi =
    "ARG GO=1.22\n"
    "FROM golang:${GO} AS Build\n"
    "RUN make\n"
    "FROM alpine AS tools\n"
    "RUN apk add git\n"
    "FROM build AS test\n"
    "RUN --mount=type=bind,from=tools,source=/usr/bin/git,target=/git go test\n"
    "FROM scratch AS final\n"
    "COPY --from=BUILD /out /app\n"
    "COPY --from=0 /etc/passwd /etc/\n"
    "COPY --from=busybox:1.36 /bin/busybox /bin/\n";

}  // namespace

TEST(Stages, ResolvesBasesAndReferences) {
  Dockerfile df = parse(k_multi);
  auto g = build_stage_graph(df);
  ASSERT_TRUE(g) << g.error().message();
  ASSERT_EQ(g->stages.size(), 4u);
  EXPECT_EQ(g->stages[0].base, "golang:1.22");
  EXPECT_EQ(g->stages[0].name, "build");
  EXPECT_FALSE(g->stages[0].base_stage);
  EXPECT_EQ(g->stages[2].base_stage, 0u);
  ASSERT_EQ(g->stages[2].deps.size(), 2u);
  EXPECT_EQ(g->stages[2].deps[1].stage, 1u);
  EXPECT_EQ(g->stages[2].deps[1].kind, DependencyKind::mount_from);
  EXPECT_TRUE(g->stages[3].scratch);
  EXPECT_EQ(g->stages[3].images, std::vector<std::string>{"busybox:1.36"});
  EXPECT_EQ(g->stages[3].copy_from.at(0), "BUILD");
  EXPECT_EQ(g->target, 3u);
  EXPECT_EQ(g->needed, (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(g->global_args.at("GO"), "1.22");
}

TEST(Stages, TargetSelectsNeededStages) {
  Dockerfile df = parse(k_multi);
  StageGraphOptions options;
  options.target = "TEST";
  auto g = build_stage_graph(df, options);
  ASSERT_TRUE(g) << g.error().message();
  EXPECT_EQ(g->target, 2u);
  EXPECT_EQ(g->needed, (std::vector<std::size_t>{0, 1, 2}));
  options.target = "tools";
  EXPECT_EQ(build_stage_graph(df, options)->needed, std::vector<std::size_t>{1});
  options.target = "nope";
  auto missing = build_stage_graph(df, options);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "Dockerfile: target stage \"nope\" could not be found (stages: build tools test final)");
}

TEST(Stages, BuildArgsAndStageArgs) {
  const char* text =
      "ARG BASE=alpine\n"
      "ARG TAG\n"
      "FROM ${BASE}:${TAG:-latest} AS one\n"
      "FROM $BASE AS two\n"
      "ARG SRC=one\n"
      "COPY --from=$SRC /a /b\n"
      "ARG BASE\n"
      "ARG UNDECLARED_GLOBAL\n"
      "RUN --mount=from=${BASE},target=/m true\n";
  Dockerfile df = parse(text);
  auto g = build_stage_graph(df);
  ASSERT_TRUE(g) << g.error().message();
  EXPECT_EQ(g->stages[0].base, "alpine:latest");
  EXPECT_EQ(g->stages[1].deps.at(0).stage, 0u);
  EXPECT_EQ(g->stages[1].images, std::vector<std::string>{"alpine"});  // ARG BASE took the global value

  StageGraphOptions options;
  options.build_args = map_lookup({{"BASE", "debian"}, {"TAG", "12"}, {"SRC", "docker.io/x/y"}});
  auto with_args = build_stage_graph(df, options);
  ASSERT_TRUE(with_args) << with_args.error().message();
  EXPECT_EQ(with_args->stages[0].base, "debian:12");
  EXPECT_TRUE(with_args->stages[1].deps.empty());
  EXPECT_EQ(with_args->stages[1].images, (std::vector<std::string>{"docker.io/x/y", "debian"}));

  // Build args not declared globally are invisible in FROM; automatic platform args are visible.
  Dockerfile plat = parse("FROM --platform=$BUILDPLATFORM img:$NOT_DECLARED AS b\n");
  StageGraphOptions p;
  p.build_args = map_lookup({{"NOT_DECLARED", "x"}});
  p.automatic_args = map_lookup({{"BUILDPLATFORM", "linux/amd64"}});
  auto pg = build_stage_graph(plat, p);
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->stages[0].base, "img:");
  EXPECT_EQ(pg->stages[0].platform, "linux/amd64");
}

TEST(Stages, CaseInsensitiveNamesAndIndexes) {
  Dockerfile df = parse("FROM a AS Base\nFROM BASE\nCOPY --from=bAsE / /\nCOPY --from=0 / /\n");
  auto g = build_stage_graph(df);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->stages[1].base_stage, 0u);
  EXPECT_EQ(g->stages[1].deps.size(), 3u);
  EXPECT_EQ(find_stage(df, "BASE"), 0u);
  EXPECT_EQ(find_stage(df, "1"), 1u);
  EXPECT_FALSE(find_stage(df, "2"));
  EXPECT_FALSE(find_stage(df, "alpine"));
}

TEST(Stages, ForwardSelfAndUnknownReferencesAreErrors) {
  EXPECT_EQ(graph_error("FROM a AS one\nCOPY --from=two / /\nFROM b AS two\n"),
            "Dockerfile:2: COPY --from=two refers to stage \"two\", defined later (line 3); only earlier stages can be used");
  EXPECT_EQ(graph_error("FROM a AS one\nCOPY --from=one / /\n"),
            "Dockerfile:2: circular dependency: COPY --from=one refers to its own stage \"one\"");
  EXPECT_EQ(graph_error("FROM a\nCOPY --from=0 / /\n"), "Dockerfile:2: circular dependency: COPY --from=0 refers to its own stage 0");
  EXPECT_EQ(graph_error("FROM a\nFROM b\nCOPY --from=5 / /\n"),
            "Dockerfile:3: COPY --from=5: invalid stage index 5 (the Dockerfile has 2 stages)");
  EXPECT_EQ(graph_error("FROM a\nRUN --mount=from=1,target=/x true\nFROM b\n"),
            "Dockerfile:2: RUN --mount from=1 refers to stage 1, defined later (line 3); only earlier stages can be used");
  EXPECT_EQ(graph_error("FROM a\nARG EMPTY=\nCOPY --from=$EMPTY / /\n"), "Dockerfile:3: COPY --from is empty after expansion");
  EXPECT_NE(graph_error("ARG X\nFROM ${X:?unset}\n").find("Dockerfile:2: FROM ${X:?unset}: "), std::string::npos);
  EXPECT_EQ(graph_error("ARG X\nFROM $X\n"), "Dockerfile:2: FROM $X: base name is empty after expansion");
}

TEST(Stages, FromNeverReferencesItselfOrLaterStages) {
  // As in BuildKit, `FROM alpine AS alpine` and a name defined later are image references.
  Dockerfile df = parse("FROM debian AS a\nFROM alpine AS alpine\nFROM debian AS debian\n");
  auto g = build_stage_graph(df);
  ASSERT_TRUE(g) << g.error().message();
  for (const auto& s : g->stages) EXPECT_FALSE(s.base_stage) << s.index;
  EXPECT_EQ(g->needed, std::vector<std::size_t>{2});
}
