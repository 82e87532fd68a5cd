// Instructions that only change the image config (ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR,
// ENTRYPOINT, CMD, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, MAINTAINER, ARG), applied with
// Docker's semantics:
//   - words of ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL and ARG defaults are
//     expanded with the stage's variables at that point; all values of one ENV line see the
//     environment before the line (BuildKit);
//   - shell forms of CMD/ENTRYPOINT/HEALTHCHECK become SHELL + [text] (default /bin/sh -c);
//   - ENTRYPOINT resets a CMD inherited from the base image unless this stage set CMD itself;
//   - WORKDIR is joined onto the current working directory when relative (the engine creates
//     the directory in the root, which is a filesystem change);
//   - MAINTAINER sets the config's author; ONBUILD records its trigger text in config.OnBuild.
// Errors: invalid_argument naming the instruction ("Dockerfile:12: ...").
// Thread safety: pure apart from the StageVariables it updates.
#pragma once

#include <string>
#include <vector>

#include "dockerfile/instructions.hpp"
#include "dockerfile/variables.hpp"
#include "image/config.hpp"
#include "util/result.hpp"

namespace strata::build {

inline const std::vector<std::string> k_default_shell = {"/bin/sh", "-c"};

struct MetadataState {
  image::ImageConfig* config = nullptr;
  dockerfile::StageVariables* vars = nullptr;
  char escape = '\\';
  std::string file = "Dockerfile";  // for error messages
  bool cmd_set = false;             // CMD given in this stage (kept when ENTRYPOINT follows)
};

// True for the instructions apply_metadata handles.
bool is_metadata(const dockerfile::Instruction& instr);

// Applies one metadata instruction. Errors: invalid_argument with file:line.
Result<void> apply_metadata(const dockerfile::Instruction& instr, MetadataState& state);

// The shell the stage uses for shell forms: config.Shell, else /bin/sh -c.
std::vector<std::string> shell_of(const image::ImageConfig& config);

// A command line as argv: exec form as is, shell form as shell + [text].
std::vector<std::string> command_argv(const dockerfile::CommandLine& command, const image::ImageConfig& config);

// History "created_by" as buildah and classic docker write it for a metadata instruction:
// "/bin/sh -c #(nop) " + the instruction as written.
std::string nop_created_by(const dockerfile::Instruction& instr);

}  // namespace strata::build
