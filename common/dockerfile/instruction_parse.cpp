// AST nodes to typed instructions: the checks of BuildKit's instructions/parse.go (argument
// counts, flags each instruction accepts, stage names, ONBUILD triggers, SHELL in JSON form) plus
// validation of flag values that need no expansion (mounts, --chmod, ports, durations).
#include "dockerfile/flags.hpp"
#include "dockerfile/go_text.hpp"
#include "dockerfile/instructions.hpp"

namespace strata::dockerfile {
namespace {

using detail::FlagSet;
using detail::go_quote;

const std::vector<std::string>& instruction_names() {
  static const std::vector<std::string> k_names = {
      "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
      "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
  return k_names;
}

// ^[a-z][a-z0-9-_\.]*$ on the lowercased name.
bool valid_stage_name(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool has_dollar(std::string_view s) { return s.find('$') != std::string_view::npos; }

class Converter {
 public:
  Converter(const Node& node, std::string_view file) : m_node(node), m_file(file), m_name(detail::to_upper(node.command)) {}

  Result<Instruction> run();

 private:
  tl::unexpected<Error> fail(std::string_view message) const {
    return tl::unexpected(located_error(m_file, m_node.start_line, message));
  }
  // Flag errors name the instruction: "COPY: unknown flag: --user".
  Result<void> parse_flags(FlagSet& flags) const {
    auto r = flags.parse();
    if (!r) return fail(m_name + ": " + r.error().message());
    return {};
  }
  Result<void> no_flags() const {
    FlagSet flags(m_node.flags);
    return parse_flags(flags);
  }
  Result<void> exactly_one() const {
    if (m_node.args.size() != 1) return fail(m_name + " requires exactly one argument");
    return no_flags();
  }
  Result<void> at_least_one() const {
    if (m_node.args.empty()) return fail(m_name + " requires at least one argument");
    return {};
  }
  // handleJSONArgs: the exec form's argv, or the shell form's text as one element.
  std::vector<std::string> command_args(std::size_t skip = 0) const {
    std::vector<std::string> args(m_node.args.begin() + static_cast<std::ptrdiff_t>(std::min(skip, m_node.args.size())), m_node.args.end());
    if (m_node.json || args.empty()) return args;
    std::string joined;
    for (std::size_t i = 0; i < args.size(); ++i) joined += (i ? " " : "") + args[i];
    return {joined};
  }
  Result<CommandLine> command_line(bool allow_empty_exec) const {
    CommandLine c;
    c.args = command_args();
    c.shell_form = !m_node.json;
    c.heredocs = m_node.heredocs;
    if (c.args.empty() && !(allow_empty_exec && m_node.json)) return fail(m_name + " requires at least one argument");
    return c;
  }
  Result<std::vector<KeyValue>> key_values() const {
    TRY(at_least_one());
    TRY(no_flags());
    if (m_node.args.size() % 3 != 0) return fail("Bad input to " + m_name + ", too many arguments");
    std::vector<KeyValue> out;
    for (std::size_t i = 0; i < m_node.args.size(); i += 3) {
      if (m_node.args[i].empty()) return fail(m_name + " names can not be blank");
      out.push_back(KeyValue{m_node.args[i], m_node.args[i + 1]});
    }
    return out;
  }

  Result<Instruction::Body> from();
  Result<Instruction::Body> run_instr();
  Result<Instruction::Body> copy(bool is_add);
  Result<Instruction::Body> healthcheck();
  Result<Instruction::Body> onbuild();
  Result<Instruction::Body> body();

  const Node& m_node;
  std::string_view m_file;
  std::string m_name;
};

Result<Instruction::Body> Converter::from() {
  const auto& a = m_node.args;
  FromInstr f;
  if (a.size() == 3 && detail::iequals(a[1], "as")) {
    f.stage_name = detail::to_lower(a[2]);
    if (!valid_stage_name(f.stage_name))
      return fail("invalid name for build stage: " + go_quote(a[2]) + ", name can't start with a number or contain symbols");
  } else if (a.size() != 1) {
    return fail("FROM requires either one or three arguments (FROM image [AS name])");
  }
  f.base = a[0];
  FlagSet flags(m_node.flags);
  flags.add_string("platform");
  TRY(parse_flags(flags));
  f.platform = flags.string("platform").value_or("");
  return f;
}

Result<Instruction::Body> Converter::run_instr() {
  RunInstr r;
  FlagSet flags(m_node.flags);
  flags.add_strings("mount");
  flags.add_string("network");
  flags.add_string("security");
  TRY(parse_flags(flags));
  for (const std::string& spec : flags.strings("mount")) {
    auto mount = parse_mount(spec);
    if (!mount) return fail("RUN --mount=" + spec + ": " + mount.error().message());
    r.mounts.push_back(std::move(*mount));
  }
  r.network = flags.string("network").value_or("");
  if (!r.network.empty() && r.network != "default" && r.network != "none" && r.network != "host")
    return fail("RUN: unsupported network mode " + go_quote(r.network) + " (default, none or host)");
  r.security = flags.string("security").value_or("");
  if (!r.security.empty() && r.security != "sandbox" && r.security != "insecure")
    return fail("RUN: unsupported security mode " + go_quote(r.security) + " (sandbox or insecure)");
  r.command = TRY(command_line(false));
  return r;
}

Result<Instruction::Body> Converter::copy(bool is_add) {
  if (m_node.args.size() < 2)
    return fail(m_name + " requires at least two arguments, but only " + std::to_string(m_node.args.size()) +
                " provided. Destination could not be determined");
  FlagSet flags(m_node.flags);
  flags.add_string("chown");
  flags.add_string("chmod");
  flags.add_bool("link");
  flags.add_strings("exclude");
  if (is_add) {
    flags.add_bool("keep-git-dir");
    flags.add_string("checksum");
  } else {
    flags.add_string("from");
    flags.add_bool("parents");
  }
  TRY(parse_flags(flags));
  CopyInstr c;
  c.is_add = is_add;
  c.chown = flags.string("chown").value_or("");
  if (auto chmod = flags.string("chmod")) {
    if (has_dollar(*chmod)) {
      c.chmod = Chmod{*chmod, std::nullopt};
    } else {
      auto parsed = parse_chmod(*chmod);
      if (!parsed) return fail(m_name + ": " + parsed.error().message());
      c.chmod = std::move(*parsed);
    }
  }
  c.link = flags.boolean("link");
  c.excludes = flags.strings("exclude");
  c.keep_git_dir = flags.boolean("keep-git-dir");
  c.checksum = flags.string("checksum").value_or("");
  c.from = flags.string("from").value_or("");
  c.parents = flags.boolean("parents");

  c.destination = m_node.args.back();
  Heredoc doc;
  if (!m_node.json && parse_heredoc_word(c.destination, doc)) return fail(m_name + " cannot accept a heredoc as a destination");
  for (std::size_t i = 0; i + 1 < m_node.args.size(); ++i) {
    const std::string& src = m_node.args[i];
    CopySource s;
    if (!m_node.json && parse_heredoc_word(src, doc)) {
      s.inline_content = true;
      s.path = doc.name;
      s.expand = doc.expand;
      for (const Heredoc& h : m_node.heredocs) {
        if (h.name == doc.name) {
          s.content = doc.chomp ? chomp_heredoc(h.content) : h.content;
          break;
        }
      }
    } else {
      s.path = src;
    }
    c.sources.push_back(std::move(s));
  }
  return c;
}

Result<Instruction::Body> Converter::healthcheck() {
  TRY(at_least_one());
  HealthcheckInstr h;
  std::string type = detail::to_upper(m_node.args[0]);
  if (type == "NONE") {
    if (m_node.args.size() != 1 || !m_node.flags.empty()) return fail("HEALTHCHECK NONE takes no arguments");
    h.none = true;
    return h;
  }
  FlagSet flags(m_node.flags);
  for (const char* name : {"interval", "timeout", "start-period", "start-interval", "retries"}) flags.add_string(name);
  TRY(parse_flags(flags));
  if (type != "CMD") return fail("Unknown type " + go_quote(m_node.args[0]) + " in HEALTHCHECK (try CMD)");
  h.command.args = command_args(1);
  h.command.shell_form = !m_node.json;
  if (h.command.args.empty()) return fail("Missing command after HEALTHCHECK CMD");
  for (auto [name, field] : {std::pair{"interval", &h.interval_ns}, std::pair{"timeout", &h.timeout_ns},
                             std::pair{"start-period", &h.start_period_ns}, std::pair{"start-interval", &h.start_interval_ns}}) {
    auto value = flags.string(name);
    if (!value || value->empty()) continue;
    auto ns = parse_go_duration(*value);
    if (!ns) return fail("HEALTHCHECK --" + std::string(name) + ": " + ns.error().message());
    if (*ns != 0 && *ns < 1000000)
      return fail("HEALTHCHECK: Interval \"" + std::string(name) + "\" cannot be less than 1ms");
    *field = *ns;
  }
  if (auto retries = flags.string("retries"); retries && !retries->empty()) {
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(*retries, &used, 10);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != retries->size() || n > 2147483647LL || n < -2147483648LL)
      return fail("HEALTHCHECK: invalid --retries value " + go_quote(*retries));
    if (n < 0) return fail("HEALTHCHECK: --retries cannot be negative (" + *retries + ")");
    h.retries = static_cast<int>(n);
  }
  return h;
}

Result<Instruction::Body> Converter::onbuild() {
  if (m_node.children.empty()) return fail("ONBUILD requires at least one argument");
  TRY(no_flags());
  const Node& child = m_node.children.front();
  std::string trigger = detail::to_upper(child.command);
  if (trigger == "ONBUILD") return fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger == "FROM" || trigger == "MAINTAINER") return fail(trigger + " isn't allowed as an ONBUILD trigger");
  OnbuildInstr o;
  // The original text minus the leading "ONBUILD" keyword and blanks.
  std::string_view text = detail::trim_left_space(m_node.original);
  text.remove_prefix(std::min<std::size_t>(7, text.size()));
  o.expression = std::string(detail::trim_left_space(text));
  for (const Heredoc& h : m_node.heredocs) o.expression += "\n" + h.content + h.name;
  Node child_copy = child;
  child_copy.start_line = m_node.start_line;
  child_copy.end_line = m_node.end_line;
  o.trigger = std::make_shared<const Instruction>(TRY(parse_instruction(child_copy, m_file)));
  return o;
}

Result<Instruction::Body> Converter::body() {
  const std::string& c = m_node.command;
  const auto& a = m_node.args;
  if (c == "from") return from();
  if (c == "run") return run_instr();
  if (c == "cmd" || c == "entrypoint") {
    TRY(no_flags());
    CommandLine line = TRY(command_line(true));
    if (c == "cmd") return CmdInstr{std::move(line)};
    return EntrypointInstr{std::move(line)};
  }
  if (c == "label") return LabelInstr{TRY(key_values())};
  if (c == "env") return EnvInstr{TRY(key_values())};
  if (c == "maintainer") {
    TRY(exactly_one());
    return MaintainerInstr{a[0]};
  }
  if (c == "expose") {
    TRY(at_least_one());
    TRY(no_flags());
    for (const std::string& port : a) {
      if (has_dollar(port)) continue;
      auto parsed = parse_port(port);
      if (!parsed) return fail("EXPOSE: " + parsed.error().message());
    }
    return ExposeInstr{a};
  }
  if (c == "copy" || c == "add") return copy(c == "add");
  if (c == "volume") {
    TRY(at_least_one());
    TRY(no_flags());
    VolumeInstr v;
    for (const std::string& path : a) {
      std::string_view p = detail::trim_space(path);
      if (p.empty()) return fail("VOLUME specified can not be an empty string");
      v.paths.emplace_back(p);
    }
    return v;
  }
  if (c == "user") {
    TRY(exactly_one());
    return UserInstr{a[0]};
  }
  if (c == "workdir") {
    TRY(exactly_one());
    return WorkdirInstr{a[0]};
  }
  if (c == "stopsignal") {
    TRY(exactly_one());
    return StopsignalInstr{a[0]};
  }
  if (c == "arg") {
    TRY(at_least_one());
    TRY(no_flags());
    ArgInstr arg;
    for (const std::string& word : a) {
      std::size_t eq = word.find('=');
      ArgDecl d;
      d.name = word.substr(0, eq);
      if (d.name.empty()) return fail("ARG names can not be blank");
      if (eq != std::string::npos) d.default_value = word.substr(eq + 1);
      arg.args.push_back(std::move(d));
    }
    return arg;
  }
  if (c == "onbuild") return onbuild();
  if (c == "healthcheck") return healthcheck();
  if (c == "shell") {
    TRY(no_flags());
    std::vector<std::string> shell = command_args();
    if (shell.empty()) return fail("SHELL requires at least one argument");
    if (!m_node.json) return fail("SHELL requires the arguments to be in JSON form: " + m_node.original);
    return ShellInstr{std::move(shell)};
  }
  std::string message = "unknown instruction: " + m_node.keyword;
  std::string hint = detail::suggest(m_node.keyword, instruction_names());
  if (!hint.empty()) message += " (did you mean " + hint + "?)";
  return fail(message);
}

Result<Instruction> Converter::run() {
  Instruction out;
  out.body = TRY(body());
  out.keyword = m_name;
  out.original = m_node.original;
  out.line = m_node.start_line;
  out.end_line = m_node.end_line;
  out.comments = m_node.comments;
  return out;
}

}  // namespace

Result<Instruction> parse_instruction(const Node& node, std::string_view file) { return Converter(node, file).run(); }

Result<Instruction> parse_instruction_line(std::string_view line, char escape, std::string_view origin) {
  Node node = TRY(parse_ast_instruction(line, escape, origin));
  std::string name = detail::to_upper(node.command);
  if (name == "FROM" || name == "ONBUILD" || name == "MAINTAINER")
    return tl::unexpected(located_error(origin, node.start_line, name + " isn't allowed as an ONBUILD trigger"));
  return parse_instruction(node, origin);
}

Result<Dockerfile> parse_dockerfile(std::string_view text, std::string_view filename) {
  Ast ast = TRY(parse_ast(text, filename));
  Dockerfile df;
  df.filename = std::string(filename);
  df.escape = ast.escape;
  df.directives = std::move(ast.directives);
  df.warnings = std::move(ast.warnings);
  for (const Node& node : ast.nodes) {
    Instruction instr = TRY(parse_instruction(node, filename));
    if (const auto* from = instr.as<FromInstr>()) {
      if (!from->stage_name.empty()) {
        for (const Stage& s : df.stages) {
          if (s.from.stage_name == from->stage_name)
            return tl::unexpected(located_error(filename, node.start_line,
                                                "duplicate stage name " + go_quote(from->stage_name) +
                                                    " (first defined on line " + std::to_string(s.line) + ")"));
        }
      }
      Stage stage;
      stage.index = df.stages.size();
      stage.from = *from;
      stage.line = instr.line;
      stage.original = instr.original;
      df.stages.push_back(std::move(stage));
      continue;
    }
    if (df.stages.empty()) {
      if (instr.is<ArgInstr>()) {
        df.meta_args.push_back(std::move(instr));
        continue;
      }
      return tl::unexpected(located_error(filename, node.start_line,
                                          instr.keyword + " before the first FROM: no build stage in current context "
                                                          "(only ARG may precede FROM)"));
    }
    df.stages.back().commands.push_back(std::move(instr));
  }
  if (df.stages.empty())
    return tl::unexpected(located_error(filename, 0, "no FROM instruction: the Dockerfile contains no stages to build"));
  return df;
}

}  // namespace strata::dockerfile
