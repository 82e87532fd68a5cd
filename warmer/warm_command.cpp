#include "warm_command.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "cli/credentials.hpp"
#include "cli/registry_flags.hpp"
#include "fetch/dockerfile_images.hpp"
#include "fetch/image_fetcher.hpp"
#include "image/platform.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "store/blob_store.hpp"
#include "store/index.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::warmer {
namespace {

struct Flags {
  std::vector<std::string> images;
  std::string cache_dir = "/cache";
  bool force = false;
  std::string cache_ttl = "336h";
  std::string dockerfile;
  std::vector<std::string> build_args;
  std::string custom_platform;
  int parallel = 4;
  cli::RegistryFlags registry;
  cli::LogFlags log;
};

Result<std::vector<image::Reference>> collect_images(const Flags& flags, const image::Platform& platform) {
  std::vector<std::string> names = flags.images;
  if (!flags.dockerfile.empty()) {
    std::map<std::string, std::string> args;
    for (const auto& a : flags.build_args) {
      auto eq = a.find('=');
      if (eq == std::string::npos) {
        // kaniko: "--build-arg NAME" takes the value from the environment.
        if (const char* v = std::getenv(a.c_str())) args[a] = v;
      } else {
        args[a.substr(0, eq)] = a.substr(eq + 1);
      }
    }
    auto from = TRY(fetch::dockerfile_base_images(flags.dockerfile, args, platform));
    names.insert(names.end(), from.begin(), from.end());
  }
  if (names.empty()) return fail(cli::usage_error("nothing to warm: give --image and/or --dockerfile"));
  std::vector<image::Reference> refs;
  std::set<std::string> seen;
  for (const auto& name : names) {
    auto ref = image::Reference::parse(name);
    if (!ref) return fail(cli::usage_error(ref.error().message()));
    if (seen.insert(ref->str()).second) refs.push_back(*ref);
  }
  return refs;
}

Result<void> warm(const Flags& flags) {
  auto ttl = util::parse_duration(flags.cache_ttl);
  if (!ttl) return fail(cli::usage_error("--cache-ttl: " + ttl.error().message()));
  image::Platform platform = image::Platform::host();
  if (!flags.custom_platform.empty()) {
    auto p = image::Platform::parse(flags.custom_platform);
    if (!p) return fail(cli::usage_error("--custom-platform: " + p.error().message()));
    platform = *p;
  }
  auto refs = TRY(collect_images(flags, platform));
  auto options = TRY(cli::registry_options(flags.registry));
  auto client = TRY(registry::Client::create(options, TRY(cli::login_lookup())));

  auto blobs = TRY_CTX(store::BlobStore::open(flags.cache_dir), "cache dir " + flags.cache_dir);
  auto index = TRY_CTX(store::Index::open(flags.cache_dir), "cache dir " + flags.cache_dir);

  fetch::FetchOptions fo;
  fo.platform = platform;
  fo.ttl = *ttl;
  fo.force = flags.force;
  fo.parallel_downloads = flags.parallel;
  fo.tool = "warmer";
  fetch::ImageFetcher fetcher(client.get(), blobs, index, fo);

  auto start = std::chrono::steady_clock::now();
  int failures = 0;
  std::uint64_t bytes = 0;
  std::optional<Error> first_error;
  for (const auto& ref : refs) {
    auto r = fetcher.fetch(ref);
    if (!r) {
      ++failures;
      log::error("failed to warm " + ref.str() + ": " + r.error().message());
      if (!first_error) first_error = r.error().with_context(ref.str());
      if (r.error().kind() == ErrorKind::no_space) break;  // every other image would fail too
      continue;
    }
    bytes += r->bytes_downloaded;
    log::info(ref.str() + ": " + std::string(fetch::to_string(r->outcome)) + " " + r->record.top_digest().str(),
              {{"platform", r->record.platform},
               {"size", util::human_size(r->record.total_size)},
               {"downloaded", util::human_size(r->bytes_downloaded)}});
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  log::info("warmed " + std::to_string(refs.size() - failures) + " of " + std::to_string(refs.size()) +
            " images into " + flags.cache_dir + " in " + util::human_duration(elapsed) + " (" +
            util::human_size(bytes) + " downloaded)");
  if (failures > 0) {
    // The first failure's kind is kept, so that e.g. bad credentials get their hint in main.
    if (failures > 1) first_error->context(std::to_string(failures) + " images failed; first");
    return fail(*first_error);
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "warmer pre-fetches base images into a cache directory (a volume shared with executors), so that\n"
      "builds start without pulling. Images are stored as verified, content-addressed blobs with a\n"
      "RocksDB index; the cache dir is also an OCI image layout (skopeo inspect oci:DIR:REF).",
      "warmer"};
  app.add_option("-i,--image", flags.images, "Image to cache, e.g. debian:bookworm (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("-c,--cache-dir", flags.cache_dir, "Directory of the cache")->capture_default_str();
  app.add_flag("-f,--force", flags.force, "Fetch the manifests again even if the images are cached and fresh");
  app.add_option("--cache-ttl", flags.cache_ttl, "How long a cached tag is trusted before it is refreshed")
      ->capture_default_str();
  app.add_option("-d,--dockerfile", flags.dockerfile, "Also cache the base images of this Dockerfile's stages");
  app.add_option("--build-arg", flags.build_args, "ARG value for --dockerfile: NAME=VALUE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--custom-platform", flags.custom_platform,
                 "Platform to cache, os/arch[/variant] (default: this machine's)");
  app.add_option("--parallel-downloads", flags.parallel, "Blobs downloaded at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cli::add_registry_flags(app, flags.registry);
  cli::add_log_flags(app, flags.log);
  return cli::run("warmer", app, argc, argv, flags.log, [&] { return warm(flags); });
}

}  // namespace strata::warmer
