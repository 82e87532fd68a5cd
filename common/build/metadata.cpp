#include "build/metadata.hpp"

#include <filesystem>

#include "dockerfile/shell_lex.hpp"

namespace strata::build {

namespace df = dockerfile;

namespace {

Error at(const MetadataState& s, const df::Instruction& instr, const Error& e) {
  return df::located_error(s.file, instr.line, e.message());
}

Result<std::string> expand(const MetadataState& s, const df::Instruction& instr, std::string_view word) {
  auto r = df::expand_word(word, s.vars->lookup(), s.escape);
  if (!r) return fail(at(s, instr, r.error()));
  return std::move(r->value);
}

Result<std::vector<std::string>> expand_all(const MetadataState& s, const df::Instruction& instr,
                                            const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) {
    auto r = df::expand_words(w, s.vars->lookup(), s.escape);
    if (!r) return fail(at(s, instr, r.error()));
    out.insert(out.end(), r->begin(), r->end());
  }
  return out;
}

std::string clean_abs(const std::string& path) {
  auto p = std::filesystem::path(path).lexically_normal().string();
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.empty() ? "/" : p;
}

}  // namespace

std::vector<std::string> shell_of(const image::ImageConfig& config) {
  return config.config.shell.empty() ? k_default_shell : config.config.shell;
}

std::vector<std::string> command_argv(const df::CommandLine& command, const image::ImageConfig& config) {
  if (!command.shell_form) return command.args;
  if (command.args.empty()) return {};
  auto argv = shell_of(config);
  argv.push_back(command.args.front());
  return argv;
}

std::string nop_created_by(const df::Instruction& instr) { return "/bin/sh -c #(nop) " + instr.original; }

bool is_metadata(const df::Instruction& instr) {
  return !(instr.is<df::RunInstr>() || instr.is<df::CopyInstr>() || instr.is<df::FromInstr>());
}

Result<void> apply_metadata(const df::Instruction& instr, MetadataState& s) {
  auto& cfg = *s.config;
  auto& c = cfg.config;
  if (const auto* env = instr.as<df::EnvInstr>()) {
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& kv : env->vars) {
      values.emplace_back(TRY(expand(s, instr, kv.key)), TRY(expand(s, instr, kv.value)));
    }
    for (auto& [k, v] : values) {
      cfg.set_env(k, v);
      s.vars->set_env(k, std::move(v));
    }
  } else if (const auto* label = instr.as<df::LabelInstr>()) {
    for (const auto& kv : label->labels) c.labels[TRY(expand(s, instr, kv.key))] = TRY(expand(s, instr, kv.value));
  } else if (const auto* expose = instr.as<df::ExposeInstr>()) {
    for (const auto& word : TRY(expand_all(s, instr, expose->ports))) {
      auto port = df::parse_port(word);
      if (!port) return fail(at(s, instr, port.error()));
      for (unsigned p = port->first; p <= port->last; ++p) {
        c.exposed_ports.push_back(std::to_string(p) + "/" + port->protocol);
      }
    }
  } else if (const auto* volume = instr.as<df::VolumeInstr>()) {
    for (auto& path : TRY(expand_all(s, instr, volume->paths))) {
      if (path.empty()) return fail(df::located_error(s.file, instr.line, "VOLUME specified can not be an empty string"));
      c.volumes.push_back(std::move(path));
    }
  } else if (const auto* user = instr.as<df::UserInstr>()) {
    c.user = TRY(expand(s, instr, user->user));
  } else if (const auto* workdir = instr.as<df::WorkdirInstr>()) {
    auto path = TRY(expand(s, instr, workdir->path));
    if (path.empty()) return fail(df::located_error(s.file, instr.line, "WORKDIR can not be empty"));
    if (path.front() != '/') path = (c.working_dir.empty() ? std::string("/") : c.working_dir) + "/" + path;
    c.working_dir = clean_abs(path);
  } else if (const auto* ep = instr.as<df::EntrypointInstr>()) {
    c.entrypoint = command_argv(ep->command, cfg);
    if (!s.cmd_set) c.cmd.clear();
  } else if (const auto* cmd = instr.as<df::CmdInstr>()) {
    c.cmd = command_argv(cmd->command, cfg);
    s.cmd_set = true;
  } else if (const auto* sig = instr.as<df::StopsignalInstr>()) {
    c.stop_signal = TRY(expand(s, instr, sig->signal));
  } else if (const auto* hc = instr.as<df::HealthcheckInstr>()) {
    image::HealthCheck h;
    if (hc->none) {
      h.test = {"NONE"};
    } else {
      if (hc->command.shell_form) {
        h.test = {"CMD-SHELL", hc->command.args.empty() ? std::string() : hc->command.args.front()};
      } else {
        h.test = {"CMD"};
        h.test.insert(h.test.end(), hc->command.args.begin(), hc->command.args.end());
      }
      h.interval = std::chrono::nanoseconds(hc->interval_ns);
      h.timeout = std::chrono::nanoseconds(hc->timeout_ns);
      h.start_period = std::chrono::nanoseconds(hc->start_period_ns);
      h.start_interval = std::chrono::nanoseconds(hc->start_interval_ns);
      h.retries = hc->retries;
    }
    c.healthcheck = std::move(h);
  } else if (const auto* shell = instr.as<df::ShellInstr>()) {
    c.shell = shell->shell;
  } else if (const auto* onbuild = instr.as<df::OnbuildInstr>()) {
    c.on_build.push_back(onbuild->expression);
  } else if (const auto* maintainer = instr.as<df::MaintainerInstr>()) {
    cfg.author = maintainer->maintainer;
  } else if (const auto* arg = instr.as<df::ArgInstr>()) {
    for (const auto& decl : arg->args) {
      std::optional<std::string> value;
      if (decl.default_value) value = TRY(expand(s, instr, *decl.default_value));
      // BuildKit expands the name too: `ARG ${src}=x` declares the ARG named by $src.
      std::string name = decl.name.find('$') == std::string::npos ? decl.name : TRY(expand(s, instr, decl.name));
      s.vars->declare_arg(name, std::move(value));
    }
  } else {
    return fail(ErrorKind::internal, s.file + ":" + std::to_string(instr.line) + ": " + instr.keyword +
                                         " is not a metadata instruction");
  }
  return {};
}

}  // namespace strata::build
