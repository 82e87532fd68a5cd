// The layer cache wired into the executor, end to end against a real registry: every change the
// issue's proof lists is made to a populated cache and the --cache-report is checked step by step
// (hit/miss in order); a fully cached build is compared with the uncached one; two executors share
// one cache dir and one cache repo at once; a fresh node hits the registry cache repo and an
// oci: cache repo.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <map>

#include "integration/support/executor_fixture.hpp"

namespace strata::itest {
namespace {

class ExecutorCache : public ExecutorTest {
 protected:
  ExecutorCache() : ExecutorTest("executor-cache") {}

  std::string cache_dir(const std::string& name = "cache") const { return m_dir->file(name); }

  void write(const std::string& rel, const std::string& content, unsigned mode = 0644) {
    std::string path = context() + "/" + rel;
    auto slash = path.find_last_of('/');
    ::mkdir(path.substr(0, slash).c_str(), 0755);
    ASSERT_OK(write_file(path, content, mode));
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  // Runs the executor with --cache and a report; returns the report (null on failure).
  nlohmann::json build(const std::vector<std::string>& args, const std::string& cache = "cache") {
    std::string n = std::to_string(++m_builds);
    std::string report = m_dir->file("report-" + n + ".json");
    std::vector<std::string> argv{tool_path("executor"),      "--context=" + context(),
                                  "--kaniko-dir=" + m_dir->file("kaniko-" + n), "--cache-dir=" + cache_dir(cache),
                                  "--insecure-registry=" + host(), "--cache", "--cache-report=" + report};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, {}, std::chrono::minutes(5));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    if (!r) return nullptr;
    m_last = *r;
    EXPECT_EQ(r->exit_code, 0) << r->describe();
    EXPECT_NE(r->err.find("cache: "), std::string::npos) << "summary line missing:\n" << r->err;
    auto text = read_file(report);
    EXPECT_TRUE(text) << "no report: " << r->describe();
    return text ? nlohmann::json::parse(*text) : nullptr;
  }

  // "hit"/"miss" per looked-up step, in order (skipped steps left out).
  static std::vector<std::string> results(const nlohmann::json& report) {
    std::vector<std::string> out;
    if (report.is_null()) return out;
    for (const auto& s : report["steps"]) {
      if (s["result"] != "skipped") out.push_back(s["result"]);
    }
    return out;
  }
  static std::string dump(const nlohmann::json& report) { return report.is_null() ? "null" : report.dump(1); }

  RunResult m_last;
  int m_builds = 0;
};

namespace stdfs = std::filesystem;

// path → type, mode, owner, content or link target (no times): what "the same file tree" means.
std::map<std::string, std::string> tree_listing(const std::string& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(root, ec); it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
    if (S_ISLNK(st.st_mode)) d += " -> " + stdfs::read_symlink(it->path(), ec).string();
    if (S_ISREG(st.st_mode)) {
      auto content = read_file(it->path().string());
      d += " " + (content ? *content : "?");
    }
    out[it->path().string().substr(root.size())] = d;
  }
  return out;
}

using Steps = std::vector<std::string>;
const std::string H = "hit", M = "miss";

// Every input change of the proof list, one at a time against a populated local cache
// (--no-push, no --cache-repo: the cache dir alone), each checked step by step.
TEST_F(ExecutorCache, EachInputChangeMissesExactlyWhereItShould) {
  write("a.txt", "a\n");
  write("dir/kept.txt", "kept\n");
  write("dir/ignored.log", "log 1\n");
  write("other.txt", "not copied\n");
  write(".dockerignore", "dir/*.log\n");
  auto dockerfile = [&](const std::string& env, const std::string& from) {
    write("Dockerfile", "FROM " + from + "\n"
                        "RUN echo base > /base.txt\n"           // 0
                        "COPY a.txt /a.txt\n"                   // 1
                        "COPY dir/ /dir/\n"                     // 2
                        "ARG V\n"
                        "RUN echo \"$V\" > /v.txt\n"            // 3
                        "ARG SHA\n"
                        "RUN echo fixed > /fixed.txt\n"         // 4
                        "ENV E=" + env + "\n"
                        "RUN echo \"$E\" > /e.txt\n");          // 5
  };
  dockerfile("one", base());
  const std::vector<std::string> common{"--no-push", "--cache-copy-layers", "--build-arg=V=1", "--build-arg=SHA=aaa"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto first = build(common);
  EXPECT_EQ(results(first), Steps(6, M)) << dump(first);
  EXPECT_EQ(first["summary"]["misses"], 6);
  EXPECT_EQ(first["local"], cache_dir());
  auto again = build(common);
  EXPECT_EQ(results(again), Steps(6, H)) << dump(again);
  for (const auto& s : again["steps"]) EXPECT_EQ(s["source"], "local") << s.dump();
  EXPECT_NE(m_last.err.find("6 hits (6 local, 0 remote)"), std::string::npos) << m_last.err;

  // A COPY source's content: that COPY and everything after it miss.
  write("a.txt", "a changed\n");
  auto content = build(common);
  EXPECT_EQ(results(content), (Steps{H, M, M, M, M, M})) << dump(content);
  EXPECT_EQ(content["steps"][1]["differs"], nlohmann::json::array({"files"})) << dump(content);
  write("a.txt", "a\n");
  EXPECT_EQ(results(build(common)), Steps(6, H)) << "entries after a miss are still used";

  // Its mode.
  ASSERT_EQ(::chmod((context() + "/a.txt").c_str(), 0755), 0);
  EXPECT_EQ(results(build(common)), (Steps{H, M, M, M, M, M}));
  ASSERT_EQ(::chmod((context() + "/a.txt").c_str(), 0644), 0);

  // A file excluded by .dockerignore, an unrelated context file, an mtime only: all hit.
  write("dir/ignored.log", "log 2\n");
  write("other.txt", "changed, still not copied\n");
  struct utimbuf old_times {1000000000, 1000000000};
  ASSERT_EQ(::utime((context() + "/a.txt").c_str(), &old_times), 0);
  ASSERT_EQ(::utime((context() + "/dir/kept.txt").c_str(), &old_times), 0);
  EXPECT_EQ(results(build(common)), Steps(6, H));

  // A build arg a step uses: from the first step that sees it.
  auto used = build({"--no-push", "--cache-copy-layers", "--build-arg=V=2", "--build-arg=SHA=aaa"});
  EXPECT_EQ(results(used), (Steps{H, H, H, M, M, M})) << dump(used);
  EXPECT_EQ(used["steps"][3]["differs"], nlohmann::json::array({"var:V"})) << dump(used);

  // A build arg no ARG declares: hit.
  EXPECT_EQ(results(build(with({"--build-arg=UNDECLARED=x"}))), Steps(6, H));

  // A per-build arg (commit SHA) changes every step that sees it, unless excluded from keys.
  EXPECT_EQ(results(build({"--no-push", "--cache-copy-layers", "--build-arg=V=1", "--build-arg=SHA=bbb"})),
            (Steps{H, H, H, H, M, M}));
  EXPECT_EQ(results(build(with({"--cache-key-exclude-arg=SHA"}))), (Steps{H, H, H, H, M, M}))
      << "excluding an arg changes the keys once";
  EXPECT_EQ(results(build({"--no-push", "--cache-copy-layers", "--build-arg=V=1", "--build-arg=SHA=ccc",
                           "--cache-key-exclude-arg", "SHA"})),
            Steps(6, H));

  // An ENV value a RUN sees.
  dockerfile("two", base());
  EXPECT_EQ(results(build(common)), (Steps{H, H, H, H, H, M}));
  dockerfile("one", base());
  EXPECT_EQ(results(build(common)), Steps(6, H));

  // The base image's digest (another image; the FROM text is not part of any key): all miss.
  BaseImageOptions other;
  other.extra_layers = 1;
  ASSERT_OK(seed_base_image(*m_registry, "library/busybox:other", other));
  dockerfile("one", host() + "/library/busybox:other");
  auto rebased = build(common);
  EXPECT_EQ(results(rebased), Steps(6, M)) << dump(rebased);
  dockerfile("one", base());

  // Kinds that are off are reported as skipped; kaniko's --flag=false form works.
  auto no_run = build(with({"--cache-run-layers=false"}));
  ASSERT_FALSE(no_run.is_null());
  EXPECT_EQ(no_run["steps"][0]["result"], "skipped") << dump(no_run);
  EXPECT_EQ(no_run["steps"][1]["result"], "hit") << dump(no_run);
}

// The platform is part of every key: a FROM scratch COPY built for two platforms.
TEST_F(ExecutorCache, PlatformIsPartOfTheKey) {
  write("a.txt", "a\n");
  write("Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\n");
  std::vector<std::string> amd{"--no-push", "--cache-copy-layers", "--custom-platform=linux/amd64"};
  std::vector<std::string> arm{"--no-push", "--cache-copy-layers", "--custom-platform=linux/arm64"};
  EXPECT_EQ(results(build(amd)), Steps{M});
  EXPECT_EQ(results(build(amd)), Steps{H});
  auto other = build(arm);
  EXPECT_EQ(results(other), Steps{M}) << dump(other);
  EXPECT_EQ(results(build(arm)), Steps{H});
}

// COPY --from=stage depends on the files copied, not on the whole stage.
TEST_F(ExecutorCache, CopyFromStageDependsOnlyOnTheCopiedFiles) {
  write("Dockerfile", "FROM " + base() + " AS builder\n"
                      "ARG NOISE\n"
                      "ARG KEEP=keep\n"
                      "RUN echo \"$KEEP\" > /keep.txt && echo \"$NOISE\" > /noise.txt\n"
                      "FROM " + base() + "\n"
                      "COPY --from=builder /keep.txt /keep.txt\n"
                      "RUN cat /keep.txt > /copied.txt\n");
  std::vector<std::string> common{"--no-push", "--cache-copy-layers"};
  auto with = [&](const std::string& arg) {
    auto a = common;
    a.push_back(arg);
    return a;
  };
  EXPECT_EQ(results(build(with("--build-arg=NOISE=1"))), (Steps{M, M, M}));
  EXPECT_EQ(results(build(with("--build-arg=NOISE=1"))), (Steps{H, H, H}));
  auto noise = build(with("--build-arg=NOISE=2"));
  EXPECT_EQ(results(noise), (Steps{M, H, H})) << dump(noise);
  auto keep = build({"--no-push", "--cache-copy-layers", "--build-arg=NOISE=2", "--build-arg=KEEP=other"});
  EXPECT_EQ(results(keep), (Steps{M, M, M})) << dump(keep);
}

// A build served from the cache equals the uncached one: with --reproducible the same digest,
// without it the same layers (diff_ids) and config.
TEST_F(ExecutorCache, FullyCachedBuildEqualsUncachedBuild) {
  write("a.txt", "a\n");
  write("Dockerfile", "FROM " + base() + "\n"
                      "ENV P=1\n"
                      "WORKDIR /app\n"
                      "COPY a.txt .\n"
                      "RUN echo generated > gen.txt && rm /etc/group\n"
                      "RUN mkdir -p /tree/x && echo y > /tree/x/y && ln -s /tree/x/y /tree/link\n"
                      "USER 1000\n"
                      "CMD [\"cat\", \"/app/gen.txt\"]\n");
  std::string digest_file = m_dir->file("digest");
  auto digest_of = [&](const std::string& tag, std::vector<std::string> extra, bool cache) {
    std::vector<std::string> argv{tool_path("executor"), "--context=" + context(),
                                  "--kaniko-dir=" + m_dir->file("k-" + tag), "--cache-dir=" + cache_dir(),
                                  "--insecure-registry=" + host(), "--destination=" + host() + "/same:" + tag,
                                  "--digest-file=" + digest_file, "--cache-copy-layers"};
    if (cache) argv.push_back("--cache");
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run(argv, {}, std::chrono::minutes(5));
    EXPECT_TRUE(r && r->exit_code == 0) << (r ? r->describe() : r.error().message());
    return slurp(digest_file);
  };
  std::string uncached = digest_of("uncached", {"--reproducible"}, false);
  std::string populate = digest_of("populate", {"--reproducible"}, true);
  std::string cached = digest_of("cached", {"--reproducible", "--cache-report=" + m_dir->file("r.json")}, true);
  EXPECT_EQ(populate, uncached);
  EXPECT_EQ(cached, uncached);
  auto report = nlohmann::json::parse(slurp(m_dir->file("r.json")));
  EXPECT_EQ(results(report), (Steps{H, H, H})) << dump(report);

  // Not reproducible: timestamps differ; the file tree and the config must not. The cached build
  // has exactly the populating build's layers.
  digest_of("plain-populate", {}, true);
  digest_of("plain-uncached", {}, false);
  digest_of("plain-cached", {}, true);
  auto a = ASSERT_OK(skopeo_inspect(*m_registry, "same:plain-uncached", InspectWhat::config));
  auto b = ASSERT_OK(skopeo_inspect(*m_registry, "same:plain-cached", InspectWhat::config));
  auto p = ASSERT_OK(skopeo_inspect(*m_registry, "same:plain-populate", InspectWhat::config));
  // Layers: base, WORKDIR (made again, it is not cached: its directory's mtime differs), then the
  // three cached steps, which are the populating build's blobs.
  ASSERT_EQ(b["rootfs"]["diff_ids"].size(), 5u);
  for (std::size_t i = 2; i < 5; ++i) EXPECT_EQ(p["rootfs"]["diff_ids"][i], b["rootfs"]["diff_ids"][i]) << i;
  EXPECT_EQ(a["rootfs"]["diff_ids"].size(), b["rootfs"]["diff_ids"].size());
  EXPECT_EQ(a["config"], b["config"]);
  ASSERT_EQ(a["history"].size(), b["history"].size());
  for (std::size_t i = 0; i < a["history"].size(); ++i) {
    EXPECT_EQ(a["history"][i].value("created_by", ""), b["history"][i].value("created_by", ""));
    EXPECT_EQ(a["history"][i].value("empty_layer", false), b["history"][i].value("empty_layer", false));
  }
  std::string rootfs = unpack("same:plain-cached", "cached");
  EXPECT_EQ(slurp(rootfs + "/app/gen.txt"), "generated\n");
  EXPECT_EQ(slurp(rootfs + "/app/a.txt"), "a\n");
  EXPECT_EQ(stdfs::read_symlink(rootfs + "/tree/link"), "/tree/x/y");
  EXPECT_NE(::access((rootfs + "/etc/group").c_str(), F_OK), 0);
  auto want = tree_listing(unpack("same:plain-uncached", "uncached"));
  auto got = tree_listing(rootfs);
  EXPECT_GT(want.size(), 200u);
  EXPECT_EQ(got, want);
}

// Cached layers are extracted before a step that runs, and the snapshot after it holds only that
// step's changes (the cached files are not written again).
TEST_F(ExecutorCache, StepAfterHitsSeesCachedFilesButDoesNotRepeatThem) {
  write("Dockerfile", "FROM " + base() + "\n"
                      "RUN echo one > /one.txt\n"
                      "ARG N\n"
                      "RUN cat /one.txt > /two.txt && echo \"$N\" >> /two.txt\n");
  build({"--no-push", "--build-arg=N=1"});
  auto r = build({"--destination=" + host() + "/after:v1", "--build-arg=N=2"});
  EXPECT_EQ(results(r), (Steps{H, M})) << dump(r);
  auto config = ASSERT_OK(skopeo_inspect(*m_registry, "after:v1", InspectWhat::config));
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 3u);
  std::string rootfs = unpack("after:v1", "after");
  EXPECT_EQ(slurp(rootfs + "/two.txt"), "one\n2\n");
  // The last layer holds /two.txt only: its size is far below the first layer's.
  auto manifest = ASSERT_OK(skopeo_inspect(*m_registry, "after:v1", InspectWhat::raw_manifest));
  auto layers = manifest["layers"];
  EXPECT_LT(layers[2]["size"].get<long>(), 400) << manifest.dump(1);
}

// Two executors at once on one cache dir and one cache repo: both succeed and both images are right.
TEST_F(ExecutorCache, TwoConcurrentBuildsShareCacheDirAndRepo) {
  write("a.txt", "a\n");
  write("Dockerfile", "FROM " + base() + "\n"
                      "COPY a.txt /a.txt\n"
                      "RUN cat /a.txt > /b.txt && echo built >> /b.txt\n"
                      "RUN mkdir /many && for i in 1 2 3 4 5 6 7 8; do echo $i > /many/$i; done\n");
  std::vector<std::unique_ptr<Process>> procs;
  for (int i = 0; i < 2; ++i) {
    ProcessOptions po;
    po.argv = {tool_path("executor"), "--context=" + context(), "--kaniko-dir=" + m_dir->file("kc-" + std::to_string(i)),
               "--cache-dir=" + cache_dir(), "--insecure-registry=" + host(), "--cache", "--cache-copy-layers",
               "--cache-repo=" + host() + "/shared/cache",
               "--destination=" + host() + "/concurrent:" + std::to_string(i)};
    procs.push_back(std::make_unique<Process>(ASSERT_OK(Process::start(po))));
  }
  for (auto& p : procs) {
    int code = ASSERT_OK(p->wait(std::chrono::minutes(5)));
    EXPECT_EQ(code, 0) << p->err();
  }
  for (int i = 0; i < 2; ++i) {
    std::string rootfs = unpack("concurrent:" + std::to_string(i), "c" + std::to_string(i));
    EXPECT_EQ(slurp(rootfs + "/b.txt"), "a\nbuilt\n");
    EXPECT_EQ(slurp(rootfs + "/many/8"), "8\n");
  }
  auto after = build({"--no-push", "--cache-copy-layers", "--cache-repo=" + host() + "/shared/cache"});
  EXPECT_EQ(results(after), (Steps{H, H, H})) << dump(after);
}

// A fresh node (empty cache dir) hits the registry cache repo, imports the entries, and hits
// locally next time. The repo defaults to <destination>/cache.
TEST_F(ExecutorCache, FreshCacheDirHitsRemoteRepo) {
  write("Dockerfile", "FROM " + base() + "\nRUN echo remote > /r.txt\nRUN echo two > /t.txt\n");
  auto first = build({"--destination=" + host() + "/app:v1"}, "node-a");
  EXPECT_EQ(results(first), (Steps{M, M})) << dump(first);
  EXPECT_EQ(first["repo"], host() + "/app/cache");
  EXPECT_EQ(first["summary"]["pushed"], 2) << dump(first);
  auto entry = ASSERT_OK(skopeo_inspect(*m_registry, "app/cache:" + first["steps"][0]["key"].get<std::string>(),
                                        InspectWhat::raw_manifest));
  EXPECT_EQ(entry["config"]["mediaType"], "application/vnd.strata.layer-cache.config.v1+json") << entry.dump();

  auto remote = build({"--destination=" + host() + "/app:v2"}, "node-b");
  EXPECT_EQ(results(remote), (Steps{H, H})) << dump(remote);
  for (const auto& s : remote["steps"]) EXPECT_EQ(s["source"], "remote");
  EXPECT_GT(remote["summary"]["bytesDownloaded"].get<long>(), 0);
  auto local = build({"--destination=" + host() + "/app:v3"}, "node-b");
  for (const auto& s : local["steps"]) EXPECT_EQ(s["source"], "local") << dump(local);
  std::string rootfs = unpack("app:v2", "v2");
  EXPECT_EQ(slurp(rootfs + "/r.txt"), "remote\n");

  // A failing cache repo (nothing listens) fails no build: the summary says what went wrong.
  auto failing = build({"--no-push", "--cache-repo=127.0.0.1:1/nothing/cache", "--push-retry=0"}, "node-c");
  EXPECT_EQ(results(failing), (Steps{M, M})) << dump(failing);
  EXPECT_EQ(failing["summary"]["pushFailures"], 2) << dump(failing);
  EXPECT_NE(m_last.err.find("2 pushes failed"), std::string::npos) << m_last.err;
}

// --cache-repo oci:PATH: an OCI layout shared between nodes.
TEST_F(ExecutorCache, OciLayoutRepoHits) {
  write("Dockerfile", "FROM " + base() + "\nRUN echo oci > /o.txt\n");
  std::string repo = "--cache-repo=oci:" + m_dir->file("oci-cache");
  auto first = build({"--no-push", repo}, "node-a");
  EXPECT_EQ(results(first), Steps{M}) << dump(first);
  auto second = build({"--no-push", repo}, "node-b");
  EXPECT_EQ(results(second), Steps{H}) << dump(second);
  EXPECT_EQ(second["steps"][0]["source"], "remote");
  auto third = build({"--no-push", repo, "--no-push-cache"}, "node-c");
  EXPECT_EQ(results(third), Steps{H});
  EXPECT_EQ(third["summary"]["pushed"], 0);
}

}  // namespace
}  // namespace strata::itest
