#include "dockerfile/variables.hpp"

#include <algorithm>
#include <array>

namespace strata::dockerfile {
namespace {

constexpr std::array<std::string_view, 10> k_proxy_args = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};

constexpr std::array<std::string_view, 8> k_platform_args = {
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT"};

Result<void> add_platform(std::map<std::string, std::string>& out, std::string_view prefix,
                          std::string_view platform) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = platform.find('/', start);
    parts.emplace_back(platform.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      (parts.size() == 3 && parts[2].empty())) {
    return fail(ErrorKind::invalid_argument,
                "invalid platform \"" + std::string(platform) + "\": want os/arch[/variant]");
  }
  const std::string p(prefix);
  out[p + "PLATFORM"] = std::string(platform);
  out[p + "OS"] = parts[0];
  out[p + "ARCH"] = parts[1];
  out[p + "VARIANT"] = parts.size() == 3 ? parts[2] : "";
  return {};
}

}  // namespace

bool is_proxy_arg(std::string_view name) {
  return std::find(k_proxy_args.begin(), k_proxy_args.end(), name) != k_proxy_args.end();
}

bool is_platform_arg(std::string_view name) {
  return std::find(k_platform_args.begin(), k_platform_args.end(), name) != k_platform_args.end();
}

Result<std::map<std::string, std::string>> platform_args(std::string_view target_platform,
                                                         std::string_view build_platform) {
  std::map<std::string, std::string> out;
  TRY(add_platform(out, "TARGET", target_platform));
  TRY(add_platform(out, "BUILD", build_platform));
  return out;
}

// ---- BuildVariables --------------------------------------------------------------------------

BuildVariables::BuildVariables(std::map<std::string, std::string> build_args,
                               std::map<std::string, std::string> automatic)
    : m_build_args(std::move(build_args)), m_automatic(std::move(automatic)) {}

void BuildVariables::declare_global_arg(const std::string& name,
                                        std::optional<std::string> default_value) {
  mark_consumed(name);
  if (auto it = m_build_args.find(name); it != m_build_args.end()) {
    m_globals[name] = it->second;
  } else if (default_value) {
    m_globals[name] = std::move(default_value);
  } else if (auto a = m_automatic.find(name); a != m_automatic.end()) {
    m_globals[name] = a->second;
  } else {
    m_globals[name] = std::nullopt;
  }
}

std::optional<std::string> BuildVariables::global_value(std::string_view name) const {
  const std::string key(name);
  if (auto it = m_globals.find(key); it != m_globals.end() && it->second) return it->second;
  // A global ARG declared without any value does not hide the automatic value either.
  if (auto a = m_automatic.find(key); a != m_automatic.end()) return a->second;
  return std::nullopt;
}

Lookup BuildVariables::global_lookup() const {
  return [this](std::string_view name) { return global_value(name); };
}

StageVariables BuildVariables::begin_stage(const std::vector<std::string>& base_env) {
  StageVariables stage(this);
  for (const std::string& entry : base_env) {
    const std::size_t eq = entry.find('=');
    if (eq == 0) continue;  // "=x" has no name; Docker ignores it too
    if (eq == std::string::npos) {
      stage.set_env(entry, "");
    } else {
      stage.set_env(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  return stage;
}

void BuildVariables::mark_consumed(const std::string& name) {
  std::lock_guard lock(m_mutex);
  m_consumed.insert(name);
}

std::vector<std::string> BuildVariables::unused_build_args() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& [name, value] : m_build_args) {
    if (!is_proxy_arg(name) && !m_consumed.contains(name)) out.push_back(name);
  }
  return out;  // std::map iteration is already sorted
}

std::optional<std::string> BuildVariables::unused_build_args_warning() const {
  const std::vector<std::string> unused = unused_build_args();
  if (unused.empty()) return std::nullopt;
  std::string list;
  for (const std::string& name : unused) {
    if (!list.empty()) list += ' ';
    list += name;
  }
  return "[Warning] One or more build-args [" + list + "] were not consumed";
}

// ---- StageVariables --------------------------------------------------------------------------

void StageVariables::declare_arg(const std::string& name, std::optional<std::string> default_value) {
  m_build->mark_consumed(name);
  std::optional<std::string> value;
  if (auto it = m_build->m_build_args.find(name); it != m_build->m_build_args.end()) {
    value = it->second;
  } else if (default_value) {
    value = std::move(default_value);
  } else {
    value = m_build->global_value(name);
  }
  auto it = std::find_if(m_args.begin(), m_args.end(), [&](const auto& a) { return a.first == name; });
  if (it != m_args.end()) {
    // A bare re-declaration without anything to take a value from keeps the earlier value, as
    // BuildKit only adds an ARG to the state when it has one.
    if (value) it->second = std::move(value);
  } else {
    m_args.emplace_back(name, std::move(value));
  }
}

void StageVariables::set_env(const std::string& name, std::string value) {
  auto it = std::find_if(m_env.begin(), m_env.end(), [&](const auto& e) { return e.first == name; });
  if (it != m_env.end()) {
    it->second = std::move(value);
  } else {
    m_env.emplace_back(name, std::move(value));
  }
}

const std::string* StageVariables::env_value(std::string_view name) const {
  for (const auto& [key, value] : m_env) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::optional<std::string> StageVariables::get(std::string_view name) const {
  if (const std::string* v = env_value(name)) return *v;
  for (const auto& [key, value] : m_args) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Lookup StageVariables::lookup() const {
  return [this](std::string_view name) { return get(name); };
}

std::vector<std::string> StageVariables::image_env() const {
  std::vector<std::string> out;
  out.reserve(m_env.size());
  for (const auto& [key, value] : m_env) out.push_back(key + "=" + value);
  return out;
}

std::vector<std::string> StageVariables::run_env() const {
  std::vector<std::string> out = image_env();
  auto present = [&](const std::string& name) {
    return env_value(name) != nullptr ||
           std::any_of(m_args.begin(), m_args.end(),
                       [&](const auto& a) { return a.first == name && a.second; });
  };
  for (const auto& [key, value] : m_args) {
    if (value && env_value(key) == nullptr) out.push_back(key + "=" + *value);
  }
  for (const auto& [key, value] : m_build->m_build_args) {
    if (is_proxy_arg(key) && !present(key)) out.push_back(key + "=" + value);
  }
  return out;
}

std::vector<VisibleVariable> StageVariables::visible() const {
  std::vector<VisibleVariable> out;
  for (const auto& [key, value] : m_env) {
    out.push_back({VisibleVariable::Source::env, key, value});
  }
  for (const auto& [key, value] : m_args) {
    if (value && env_value(key) == nullptr) {
      out.push_back({VisibleVariable::Source::arg, key, *value});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<std::string> StageVariables::declared_args() const {
  std::vector<std::string> out;
  out.reserve(m_args.size());
  for (const auto& a : m_args) out.push_back(a.first);
  return out;
}

}  // namespace strata::dockerfile
