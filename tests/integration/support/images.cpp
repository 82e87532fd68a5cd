#include "integration/support/images.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "integration/support/temp_dir.hpp"

namespace strata::itest {

namespace {

// Tests never read the host's container credentials: an empty auth file for every skopeo call.
Result<std::string> empty_auth_file() {
  static std::mutex mutex;
  static TempDir dir;
  std::lock_guard lock(mutex);
  if (dir.path().empty()) {
    dir = TRY(TempDir::create("skopeo-auth"));
    TRY(write_file(dir.file("auth.json"), "{\"auths\":{}}\n", 0600));
  }
  return dir.file("auth.json");
}

Result<nlohmann::json> parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, what + ": " + e.what() + "\n" + text.substr(0, 500));
  }
}

}  // namespace

Result<RunResult> run_skopeo(const std::vector<std::string>& args) {
  std::string auth = TRY(empty_auth_file());
  std::vector<std::string> argv{"skopeo", "--registries-conf", "/dev/null"};
  argv.insert(argv.end(), args.begin(), args.end());
  // REGISTRY_AUTH_FILE also covers the commands (copy) whose --authfile is per side.
  return run(argv, {{"REGISTRY_AUTH_FILE", auth}}, std::chrono::minutes(5));
}

Result<std::string> base_image_layout(const BaseImageOptions& options) {
  static std::mutex mutex;
  static TempDir cache;
  static std::map<std::tuple<int, int>, std::string> layouts;
  std::lock_guard lock(mutex);
  // The format only changes what skopeo pushes, not the layout.
  auto key = std::tuple{static_cast<int>(options.platforms), options.extra_layers};
  if (auto it = layouts.find(key); it != layouts.end()) return it->second;
  if (cache.path().empty()) cache = TRY(TempDir::create("base-images"));
  std::string dir = cache.file("layout-" + std::to_string(layouts.size()));
  std::vector<std::string> argv{"python3", source_dir() + "/tests/make-base-image.py",
                                "--extra-layers", std::to_string(options.extra_layers)};
  if (options.platforms == Platforms::multi_arch) argv.push_back("--multi-arch");
  argv.insert(argv.end(), {dir, "latest"});
  TRY_CTX(run_checked(argv), "making the base image");
  layouts[key] = dir;
  return dir;
}

std::vector<std::string> skopeo_flags(const RegistryServer& registry, const std::string& prefix) {
  std::vector<std::string> flags;
  if (!registry.tls()) {
    flags.push_back("--" + prefix + "tls-verify=false");
  } else {
    flags.push_back("--" + prefix + "tls-verify=true");
    flags.insert(flags.end(), {"--" + prefix + "cert-dir", registry.cert_dir()});
  }
  if (registry.has_credentials())
    flags.insert(flags.end(), {"--" + prefix + "creds", registry.user() + ":" + registry.password()});
  return flags;
}

Result<std::string> seed_base_image(const RegistryServer& registry, const std::string& repo_tag,
                                    const BaseImageOptions& options) {
  std::string layout = TRY(base_image_layout(options));
  TempDir tmp = TRY(TempDir::create("seed"));
  std::vector<std::string> args{"copy", "-q", "--all", "--digestfile", tmp.file("digest")};
  if (options.format == ManifestFormat::docker_v2s2) args.insert(args.end(), {"--format", "v2s2"});
  auto flags = skopeo_flags(registry, "dest-");
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("oci:" + layout + ":latest");
  args.push_back("docker://" + registry.host() + "/" + repo_tag);
  RunResult r = TRY(run_skopeo(args));
  if (r.exit_code != 0)
    return fail(ErrorKind::internal, "seeding " + repo_tag + ": " + r.describe());
  std::string digest = TRY(read_file(tmp.file("digest")));
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
  return digest;
}

Result<nlohmann::json> skopeo_inspect(const RegistryServer& registry, const std::string& repo_ref,
                                      InspectWhat what) {
  std::vector<std::string> args{"inspect"};
  if (what == InspectWhat::raw_manifest) args.push_back("--raw");
  if (what == InspectWhat::config) args.push_back("--config");
  auto flags = skopeo_flags(registry, "");
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("docker://" + registry.host() + "/" + repo_ref);
  RunResult r = TRY(run_skopeo(args));
  if (r.exit_code != 0) {
    bool unknown = r.err.find("manifest unknown") != std::string::npos ||
                   r.err.find("MANIFEST_UNKNOWN") != std::string::npos ||
                   r.err.find("NAME_UNKNOWN") != std::string::npos;
    return fail(unknown ? ErrorKind::not_found : ErrorKind::internal, r.describe());
  }
  return parse_json(r.out, "skopeo inspect " + repo_ref);
}

Result<void> skopeo_copy_to_layout(const RegistryServer& registry, const std::string& repo_ref,
                                   const std::string& layout, const std::string& tag) {
  std::vector<std::string> args{"copy", "-q", "--all"};
  auto flags = skopeo_flags(registry, "src-");
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("docker://" + registry.host() + "/" + repo_ref);
  args.push_back("oci:" + layout + ":" + tag);
  RunResult r = TRY(run_skopeo(args));
  if (r.exit_code != 0) return fail(ErrorKind::internal, r.describe());
  return {};
}

Result<void> umoci_unpack(const std::string& layout, const std::string& tag,
                          const std::string& bundle) {
  TRY(run_checked({"umoci", "unpack", "--image", layout + ":" + tag, bundle}));
  return {};
}

}  // namespace strata::itest
