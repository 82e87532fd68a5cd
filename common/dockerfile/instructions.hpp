// Typed Dockerfile instructions: what each instruction means, checked as BuildKit's
// frontend/dockerfile/instructions package checks it, but with no variable expanded.
//
// Words stay raw (quotes kept, `$VAR` unexpanded) because expansion needs the build-time
// environment; the executor expands them with expand_word()/expand_words() (shell_lex.hpp), using
// `escape` from the Dockerfile. Flag values that hold a `$` are likewise validated only after
// expansion: call parse_mount(), parse_chmod(), parse_port() again on the expanded text.
// Values without `$` were already validated at parse time, so those calls cannot fail on them.
//
// Every error is invalid_argument, "FILE:LINE: message", naming the offending text.
// Thread safety: pure functions over plain data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dockerfile/ast.hpp"
#include "util/result.hpp"

namespace strata::dockerfile {

struct KeyValue {
  std::string key;
  std::string value;  // raw: quotes kept, to be expanded
};

struct ArgDecl {
  std::string name;
  std::optional<std::string> default_value;  // raw
};

// RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD.
struct CommandLine {
  // Exec form: the argv. Shell form: one element, the raw script text (heredoc markers included)
  // to be run as SHELL + [text]; empty for `CMD []`.
  std::vector<std::string> args;
  bool shell_form = true;
  std::vector<Heredoc> heredocs;  // bodies for the `<<EOF` words of a shell-form RUN
};

enum class MountType { bind, cache, tmpfs, secret, ssh };
enum class MountSharing { shared, private_, locked };

// One `RUN --mount=...`, BuildKit's runmount.go rules.
struct Mount {
  std::string spec;  // the flag value as written
  MountType type = MountType::bind;
  std::string target;  // target= dst= destination= dest=
  std::string source;  // source= src=
  std::string from;    // from= (stage name, index or image)
  std::string id;      // id= (cache/secret/ssh)
  MountSharing sharing = MountSharing::shared;  // cache only
  std::optional<std::uint32_t> mode, uid, gid;  // cache/secret/ssh only
  bool readonly = false;  // default: true for bind/secret/ssh, false for cache/tmpfs
  bool required = false;  // secret/ssh only
  std::optional<std::string> env;  // secret only: expose as this environment variable
  std::optional<std::uint64_t> size;  // tmpfs only, bytes
  // The spec holds `$`: fields hold the raw text and numeric fields were not checked;
  // re-parse with parse_mount(spec) after expanding it.
  bool needs_expansion = false;
};

// `--chmod=` value: octal ("0755", at most 07777) or symbolic ("u+x,g-w,o=r", "+x").
struct Chmod {
  std::string text;
  std::optional<std::uint32_t> octal;  // set for the numeric form
};

struct PortSpec {
  std::uint16_t first = 0;
  std::uint16_t last = 0;     // == first unless a range "8000-8010"
  std::string protocol = "tcp";  // tcp, udp or sctp
};

struct FromInstr {
  std::string base;        // image reference or stage name, raw
  std::string stage_name;  // lowercase `AS` name, "" when none
  std::string platform;    // --platform, raw
};
struct RunInstr {
  CommandLine command;
  std::vector<Mount> mounts;
  std::string network;   // "", "default", "none" or "host"
  std::string security;  // "", "sandbox" or "insecure"
};
struct CmdInstr { CommandLine command; };
struct EntrypointInstr { CommandLine command; };
struct LabelInstr { std::vector<KeyValue> labels; };
struct MaintainerInstr { std::string maintainer; };
struct ExposeInstr { std::vector<std::string> ports; };  // raw words, see parse_port
struct EnvInstr { std::vector<KeyValue> vars; };

struct CopySource {
  std::string path;     // a context/stage path (raw) ...
  bool inline_content = false;  // ... or a heredoc: `path` is its name, `content` its body
  std::string content;  // chomped already for `<<-`
  bool expand = true;   // heredoc body subject to variable expansion
};
struct CopyInstr {  // COPY and ADD
  bool is_add = false;
  std::vector<CopySource> sources;
  std::string destination;
  std::string from;     // COPY --from
  std::string chown;    // raw
  std::optional<Chmod> chmod;
  bool link = false;
  bool parents = false;       // COPY --parents
  std::vector<std::string> excludes;
  bool keep_git_dir = false;  // ADD --keep-git-dir
  std::string checksum;       // ADD --checksum
};
struct VolumeInstr { std::vector<std::string> paths; };
struct UserInstr { std::string user; };
struct WorkdirInstr { std::string path; };
struct ArgInstr { std::vector<ArgDecl> args; };
struct Instruction;
struct OnbuildInstr {
  std::string expression;  // the trigger text as stored in the image config's OnBuild
  std::shared_ptr<const Instruction> trigger;
};
struct StopsignalInstr { std::string signal; };
struct HealthcheckInstr {
  bool none = false;        // HEALTHCHECK NONE
  CommandLine command;      // CMD: exec form or shell form (CMD-SHELL)
  std::int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;          // 0: not set
};
struct ShellInstr { std::vector<std::string> shell; };

struct Instruction {
  using Body = std::variant<FromInstr, RunInstr, CmdInstr, EntrypointInstr, LabelInstr, MaintainerInstr,
                            ExposeInstr, EnvInstr, CopyInstr, VolumeInstr, UserInstr, WorkdirInstr, ArgInstr,
                            OnbuildInstr, StopsignalInstr, HealthcheckInstr, ShellInstr>;
  Body body;
  std::string keyword;   // uppercase: "RUN", "COPY", ...
  std::string original;  // the logical line, for messages and cache keys
  int line = 0;          // 1-based first line
  int end_line = 0;
  std::vector<std::string> comments;

  template <class T> const T* as() const { return std::get_if<T>(&body); }
  template <class T> bool is() const { return std::holds_alternative<T>(body); }
};

struct Stage {
  std::size_t index = 0;
  FromInstr from;
  int line = 0;
  std::string original;
  std::vector<Instruction> commands;
};

struct Dockerfile {
  std::string filename;
  char escape = '\\';
  std::vector<Directive> directives;
  std::vector<std::string> warnings;
  std::vector<Instruction> meta_args;  // ARG instructions before the first FROM
  std::vector<Stage> stages;
};

// Parses and type-checks a whole Dockerfile. Errors (besides parse_ast's): unknown instruction
// (with a suggestion), missing or extra arguments, unknown/duplicate/invalid flags, bad flag values,
// heredoc as a destination, SHELL not in JSON form, instructions before the first FROM, no FROM,
// invalid stage names.
Result<Dockerfile> parse_dockerfile(std::string_view text, std::string_view filename = "Dockerfile");

// Converts one AST node. `file` prefixes errors.
Result<Instruction> parse_instruction(const Node& node, std::string_view file = "Dockerfile");

// Parses one instruction line, e.g. a base image's ONBUILD trigger "RUN make" (it may continue with
// heredoc bodies). FROM, ONBUILD and MAINTAINER are not allowed as triggers.
Result<Instruction> parse_instruction_line(std::string_view line, char escape = '\\',
                                           std::string_view origin = "ONBUILD trigger");

// Flag value parsers, for values expanded at build time. Errors name the value.
Result<Mount> parse_mount(std::string_view spec);
Result<Chmod> parse_chmod(std::string_view text);
Result<PortSpec> parse_port(std::string_view text);
// Go's time.ParseDuration, in nanoseconds.
Result<std::int64_t> parse_go_duration(std::string_view text);

std::string_view to_string(MountType type);
std::string_view to_string(MountSharing sharing);

}  // namespace strata::dockerfile
