// The stage graph of a multi-stage Dockerfile: which stage builds on which, what each one copies
// from, which stages a `--target` needs (`--skip-unused-stages`).
//
// Rules (BuildKit's dockerfile2llb, made stricter where noted):
//   - FROM values and --platform are expanded with the global ARGs (those declared before the
//     first FROM: --build-arg value, else the default) plus the automatic platform args; a build
//     arg that was not declared globally is not visible there.
//   - `FROM x` names an earlier stage when x (case-insensitively) is the name of one; otherwise it
//     is an image ("scratch" is the empty image). As in BuildKit, a FROM never refers to its own or
//     a later stage: such a name is an image reference.
//   - `COPY --from=v` and `RUN --mount=...,from=v` are expanded with the stage's ARGs declared so
//     far (a stage's `ARG X` without default takes the global value). A number is a stage index, a
//     stage name is that stage, anything else is an image. Stricter than BuildKit: referring to the
//     current stage or a later one is an error (BuildKit only rejects actual cycles), as is an
//     index out of range or a value that expands to nothing.
//   - ONBUILD triggers are not followed: they run in the stages built on top of the image.
//   - The target defaults to the last stage; an unknown --target is an error.
// Errors are invalid_argument, "FILE:LINE: message" naming the offending value.
//
// Thread safety: pure function; the Lookups are called synchronously.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dockerfile/instructions.hpp"
#include "dockerfile/shell_lex.hpp"

namespace strata::dockerfile {

enum class DependencyKind { base, copy_from, mount_from };

struct StageDependency {
  std::size_t stage = 0;
  DependencyKind kind = DependencyKind::base;
  int line = 0;  // the instruction that makes it
};

struct StageNode {
  std::size_t index = 0;
  std::string name;                       // lowercase, "" when unnamed
  std::string base;                       // FROM value after expansion
  std::optional<std::size_t> base_stage;  // FROM names an earlier stage
  bool scratch = false;                   // FROM scratch
  std::string platform;                   // --platform after expansion, "" when none
  std::vector<StageDependency> deps;      // in order of appearance; a stage may appear twice
  std::vector<std::string> images;        // COPY --from / mount from= images (not stages)
  // Expanded --from value of each COPY/RUN instruction that has one, by command index.
  std::map<std::size_t, std::string> copy_from;
};

struct StageGraph {
  std::vector<StageNode> stages;
  std::size_t target = 0;
  std::vector<std::size_t> needed;                  // stages the target needs, itself included, ascending
  std::map<std::string, std::string> global_args;  // global ARGs that have a value
};

struct StageGraphOptions {
  std::string target;   // stage name; "" = last stage
  Lookup build_args;    // --build-arg values; may be empty
  Lookup automatic_args;  // TARGETPLATFORM, BUILDARCH, ...; usable in FROM undeclared; may be empty
};

Result<StageGraph> build_stage_graph(const Dockerfile& dockerfile, const StageGraphOptions& options = {});

// The stage a `--from` value designates: an index ("0") or a name (case-insensitive) among all
// stages; nullopt for anything else (an image).
std::optional<std::size_t> find_stage(const Dockerfile& dockerfile, std::string_view name_or_index);

}  // namespace strata::dockerfile
