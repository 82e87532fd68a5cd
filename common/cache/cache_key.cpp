// The cache-key recipe, version 1 (k_recipe_version). Also in docs/caching.md.
//
// A key is sha256 over a sequence of fields; each field is written as
//     name \0 decimal-length \0 bytes
// so no two different field sequences produce the same byte stream (a value can contain NULs or
// look like another field). In order:
//   recipe      "strata-layer-cache/1"   (always first: a new recipe never matches an old key)
//   platform    "os/arch[/variant]" of the target
//   parent      the previous step's key; for a stage's first step the origin:
//               "image:<manifest digest>", "stage:<final key of that stage>" or "scratch"
//   kind        run | copy | add | metadata
//   instruction the instruction after variable expansion, flags included
//   var         per visible variable, sorted by name: "env|arg" \0 NAME \0 VALUE
//               (ARGs named by --cache-key-exclude-arg are skipped; ENV is never skipped)
//   files       COPY/ADD: the copy plan's fingerprint (content, mode, owner, link targets; no
//               mtimes), so `COPY --from=stage` covers the copied files, not the whole stage
//   remote      ADD <url>: one per URL, "url checksum-or-validator"
//   mount       RUN --mount=type=bind: one per mount, sorted by target: target \0 digest
//
// The parent chains every key to all earlier steps (metadata steps included, since they change
// the environment and config later steps see), to the base image and to the platform. Keys
// depend on inputs only, never on what a step produced, so after a miss the next steps' keys
// are the same as in the build that populated the cache and may still hit.
#include "cache/cache_key.hpp"

#include <algorithm>

namespace strata::cache {

std::string_view to_string(StepKind kind) {
  switch (kind) {
    case StepKind::run: return "run";
    case StepKind::copy: return "copy";
    case StepKind::add: return "add";
    case StepKind::metadata: return "metadata";
  }
  return "run";
}

namespace {

class FieldHasher {
 public:
  void field(std::string_view name, std::string_view value) {
    m_hasher.update(name);
    m_hasher.update("\0", 1);
    m_hasher.update(std::to_string(value.size()));
    m_hasher.update("\0", 1);
    m_hasher.update(value);
  }
  std::string finish() { return m_hasher.finish().hex(); }

 private:
  digest::Hasher m_hasher;
};

std::string short_digest(std::string_view text) { return digest::sha256(text).hex().substr(0, 16); }

std::string join0(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out.push_back('\0');
    first = false;
    out.append(p);
  }
  return out;
}

}  // namespace

StepKey compute_key(std::string_view platform, std::string_view parent, const StepInputs& step,
                    const KeyOptions& options) {
  FieldHasher h;
  StepKey out;
  out.display = step.display;
  out.kind = step.kind;
  out.platform = std::string(platform);
  auto& sum = out.inputs;

  h.field("recipe", "strata-layer-cache/" + std::to_string(k_recipe_version));
  sum["recipe"] = std::to_string(k_recipe_version);
  h.field("platform", platform);
  sum["platform"] = std::string(platform);
  h.field("parent", parent);
  sum["parent"] = parent.size() > 24 ? std::string(parent.substr(0, 24)) : std::string(parent);
  h.field("kind", to_string(step.kind));
  sum["kind"] = std::string(to_string(step.kind));
  h.field("instruction", step.instruction);
  sum["instruction"] = short_digest(step.instruction);

  auto vars = step.variables;
  std::stable_sort(vars.begin(), vars.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& v : vars) {
    bool is_env = v.source == dockerfile::VisibleVariable::Source::env;
    if (!is_env && options.excluded_args.count(v.name)) continue;
    std::string_view source = is_env ? "env" : "arg";
    h.field("var", join0({source, v.name, v.value}));
    sum["var:" + v.name] = std::string(source) + ":" + short_digest(v.value);
  }
  if (step.files) {
    h.field("files", step.files->str());
    sum["files"] = step.files->hex().substr(0, 16);
  }
  for (std::size_t i = 0; i < step.remote_validators.size(); ++i) {
    h.field("remote", step.remote_validators[i]);
    sum["remote:" + std::to_string(i)] = short_digest(step.remote_validators[i]);
  }
  auto mounts = step.mounts;
  std::stable_sort(mounts.begin(), mounts.end(), [](const auto& a, const auto& b) { return a.target < b.target; });
  for (const auto& m : mounts) {
    h.field("mount", join0({m.target, m.content.str()}));
    sum["mount:" + m.target] = m.content.hex().substr(0, 16);
  }
  out.key = h.finish();
  return out;
}

std::vector<std::string> differing_inputs(const InputsSummary& a, const InputsSummary& b) {
  std::vector<std::string> out;
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != value) out.push_back(name);
  }
  for (const auto& [name, value] : b) {
    if (!a.count(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

KeyChain::KeyChain(std::string platform, std::string origin, KeyOptions options)
    : m_platform(std::move(platform)), m_current(std::move(origin)), m_options(std::move(options)) {}

KeyChain KeyChain::from_image(std::string platform, const digest::Digest& manifest, KeyOptions options) {
  return KeyChain(std::move(platform), "image:" + manifest.str(), std::move(options));
}
KeyChain KeyChain::from_stage(std::string platform, std::string_view stage_key, KeyOptions options) {
  return KeyChain(std::move(platform), "stage:" + std::string(stage_key), std::move(options));
}
KeyChain KeyChain::from_scratch(std::string platform, KeyOptions options) {
  return KeyChain(std::move(platform), "scratch", std::move(options));
}

StepKey KeyChain::next(const StepInputs& step) {
  StepKey key = compute_key(m_platform, m_current, step, m_options);
  m_current = key.key;
  return key;
}

}  // namespace strata::cache
