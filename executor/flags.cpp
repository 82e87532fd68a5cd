#include "flags.hpp"

#include <cstdlib>

namespace strata::executor {

namespace {

CLI::Option* repeatable(CLI::Option* o) { return o->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll); }

}  // namespace

void add_flags(CLI::App& app, Flags& f) {
  if (const char* dir = std::getenv("KANIKO_DIR"); dir && *dir) f.kaniko_dir = dir;
  app.add_option("-c,--context", f.context,
                 "Build context: PATH, dir://, tar://PATH|stdin, git://, https://, s3://, gs:// (docs/contexts.md)")
      ->capture_default_str();
  app.add_option("--context-sub-path", f.context_sub_path, "Sub directory of the context to build from");
  repeatable(app.add_option("--git", f.git,
                            "Git context options: branch=,single-branch=,recurse-submodules=,insecure-skip-tls="));
  app.add_option("-f,--dockerfile", f.dockerfile, "Dockerfile to build (relative paths: in the context)")
      ->capture_default_str();
  repeatable(app.add_option("-d,--destination", f.destinations, "Image to push, REGISTRY/REPO:TAG (repeatable)"));
  app.add_flag("--no-push", f.no_push, "Build without pushing");
  app.add_option("--tar-path", f.tar_path, "Also write the image as a docker-archive tarball to this path");
  app.add_option("--oci-layout-path", f.oci_layout_path, "Also write the image into this OCI image layout dir");
  app.add_option("--digest-file", f.digest_file, "Write the image's manifest digest to this file");
  app.add_option("--image-name-with-digest-file", f.image_name_with_digest_file,
                 "Write REPO@DIGEST for each destination to this file");
  app.add_option("--image-name-tag-with-digest-file", f.image_name_tag_with_digest_file,
                 "Write REPO:TAG@DIGEST for each destination to this file");
  repeatable(app.add_option("--build-arg", f.build_args, "ARG value, NAME=VALUE or NAME (from the environment)"));
  app.add_option("--target", f.target, "Stage to build (default: the last one)");
  app.add_flag("--skip-unused-stages", f.skip_unused_stages, "Build only the stages the target needs");
  repeatable(app.add_option("--label", f.labels, "Label KEY=VALUE for the image (repeatable)"));
  repeatable(app.add_option("--secret", f.secrets,
                            "Secret for RUN --mount=type=secret: id=ID,src=FILE (BuildKit's syntax; repeatable)"));
  app.add_option("--custom-platform", f.custom_platform, "Platform of the image, os/arch[/variant] (default: this machine's)");
  app.add_option("--cache-dir", f.cache_dir, "Cache dir with base images (the warmer's)")->capture_default_str();
  app.add_option("--cache-ttl", f.cache_ttl, "How long a cached base image tag and a layer-cache entry are trusted")
      ->capture_default_str();
  app.add_flag("--cache", f.cache, "Cache RUN (and COPY/ADD) layers in the cache dir and the cache repo");
  app.add_option("--cache-repo", f.cache_repo, "Layer cache repo, REGISTRY/REPO or oci:PATH (default: <destination>/cache)");
  app.add_flag("--cache-run-layers", f.cache_run_layers, "Cache RUN layers (default true)");
  app.add_flag("--cache-copy-layers", f.cache_copy_layers, "Cache COPY and ADD layers");
  app.add_flag("--compressed-caching", f.compressed_caching, "Compress cached layers (default true; false saves CPU)");
  app.add_flag("--no-push-cache", f.no_push_cache, "Read the cache repo but never push to it");
  repeatable(app.add_option("--cache-key-exclude-arg", f.cache_key_exclude_args,
                            "Build ARG left out of cache keys, e.g. a commit SHA (repeatable)"));
  app.add_option("--cache-report", f.cache_report, "Write the layer cache report (JSON) to this file");
  app.add_option("--kaniko-dir", f.kaniko_dir, "Work dir of the executor (build roots, layers)")->capture_default_str();
  app.add_option("--isolation", f.isolation, "How RUN steps are isolated: chroot or in-place (default: chroot where possible)")
      ->check(CLI::IsMember({"chroot", "in-place"}));
  app.add_flag("--force", f.force, "Build in place even outside a container");
  app.add_option("--snapshot-mode", f.snapshot_mode, "How changes are detected: full, redo or time")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "redo", "time"}));
  app.add_flag("--single-snapshot", f.single_snapshot, "One layer per stage, snapshotted at its end");
  app.add_flag("--use-new-run", f.use_new_run,
               "kaniko compatibility, no effect: snapshots already cost what changed plus one metadata walk");
  repeatable(app.add_option("--ignore-path", f.ignore_paths, "Path never snapshotted (repeatable)"));
  app.add_flag("--ignore-var-run", f.ignore_var_run, "Leave /var/run out of snapshots (default true)");
  app.add_option("--compression", f.compression, "Layer compression: gzip or zstd")
      ->capture_default_str()
      ->check(CLI::IsMember({"gzip", "zstd"}));
  app.add_option("--compression-level", f.compression_level, "Compression level (gzip 1-9, zstd 1-19; 0 = default)")
      ->capture_default_str();
  app.add_flag("--reproducible", f.reproducible, "No timestamps in the image: same inputs give the same digest");
  app.add_flag("--cleanup", f.cleanup, "Remove the work dir's contents at the end");
  app.add_option("--push-parallelism", f.parallel_uploads, "Layers uploaded at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  cli::add_registry_flags(app, f.registry, cli::RetryFlag::push_retry);
  cli::add_log_flags(app, f.log);
}

}  // namespace strata::executor
