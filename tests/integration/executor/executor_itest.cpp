// The executor end to end against a real registry: builds small Dockerfiles on the busybox base
// image, then looks at the result from outside (skopeo inspect for the config, umoci unpack for
// the files), and checks its failure modes (exit codes and messages).
#include <gtest/gtest.h>

#include <fstream>

#include "integration/support/executor_fixture.hpp"

namespace strata::itest {
namespace {

class Executor : public ExecutorTest {
 protected:
  Executor() : ExecutorTest("executor") {}

  void write(const std::string& rel, const std::string& content) {
    ASSERT_OK(write_file(context() + "/" + rel, content));
  }

  RunResult executor(const std::vector<std::string>& args) {
    std::vector<std::string> argv{tool_path("executor"),
                                  "--context=" + context(),
                                  "--kaniko-dir=" + m_dir->file("kaniko"),
                                  "--cache-dir=" + m_dir->file("no-cache"),
                                  "--insecure-registry=" + host()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, {}, std::chrono::minutes(5));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : RunResult{};
  }
};

TEST_F(Executor, BuildsRunCopyAndMetadataAndPushes) {
  write("hello.txt", "hello from the context\n");
  write("Dockerfile",
        "FROM " + base() + "\n"
        "ENV GREETING=hello\n"
        "ARG VERSION=1.2\n"
        "LABEL version=$VERSION\n"
        "WORKDIR /app\n"
        "COPY hello.txt .\n"
        "RUN echo \"$GREETING $VERSION\" > generated.txt && rm /etc/group\n"
        "EXPOSE 8080\n"
        "USER 1000\n"
        "ENTRYPOINT [\"/bin/sh\"]\n"
        "CMD [\"-c\", \"cat /app/generated.txt\"]\n");
  std::string digest_file = m_dir->file("digest");
  std::string names_file = m_dir->file("names");
  auto r = executor({"--destination=" + host() + "/app:v1", "--destination=" + host() + "/app:latest",
                     "--label=extra=yes", "--digest-file=" + digest_file,
                     "--image-name-tag-with-digest-file=" + names_file});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("built sha256:"), std::string::npos) << r.err;

  auto summary = ASSERT_OK(skopeo_inspect(*m_registry, "app:v1"));
  std::string digest = summary["Digest"];
  EXPECT_EQ(slurp(digest_file), digest);
  EXPECT_EQ(slurp(names_file), host() + "/app:v1@" + digest + "\n" + host() + "/app:latest@" + digest + "\n");
  auto latest = ASSERT_OK(skopeo_inspect(*m_registry, "app:latest"));
  EXPECT_EQ(latest["Digest"], digest);

  auto config = ASSERT_OK(skopeo_inspect(*m_registry, "app:v1", InspectWhat::config));
  const auto& c = config["config"];
  auto env = c["Env"].dump();
  EXPECT_NE(env.find("GREETING=hello"), std::string::npos) << env;
  EXPECT_EQ(env.find("VERSION="), std::string::npos) << "ARGs must not persist: " << env;
  EXPECT_EQ(c["Labels"]["version"], "1.2");
  EXPECT_EQ(c["Labels"]["extra"], "yes");
  EXPECT_TRUE(c["ExposedPorts"].contains("8080/tcp")) << c.dump();
  EXPECT_EQ(c["User"], "1000");
  EXPECT_EQ(c["WorkingDir"], "/app");
  EXPECT_EQ(c["Entrypoint"], nlohmann::json::array({"/bin/sh"}));
  EXPECT_EQ(c["Cmd"], nlohmann::json::array({"-c", "cat /app/generated.txt"}));
  EXPECT_FALSE(config["created"].get<std::string>().empty());

  // busybox has one layer; WORKDIR, COPY and RUN add one each.
  EXPECT_EQ(config["rootfs"]["diff_ids"].size(), 4u) << config.dump();
  bool saw_run = false, saw_copy = false, saw_env = false;
  for (const auto& h : config["history"]) {
    std::string by = h.value("created_by", "");
    bool empty = h.value("empty_layer", false);
    if (by.rfind("/bin/sh -c echo", 0) == 0) saw_run = !empty;
    if (by.rfind("/bin/sh -c #(nop) COPY file:", 0) == 0 && by.find(" in . ") != std::string::npos) saw_copy = !empty;
    if (by == "/bin/sh -c #(nop) ENV GREETING=hello") saw_env = empty;
  }
  EXPECT_TRUE(saw_run && saw_copy && saw_env) << config["history"].dump(1);

  std::string rootfs = unpack("app:v1", "v1");
  EXPECT_EQ(slurp(rootfs + "/app/hello.txt"), "hello from the context\n");
  EXPECT_EQ(slurp(rootfs + "/app/generated.txt"), "hello 1.2\n");
  EXPECT_NE(::access((rootfs + "/bin/busybox").c_str(), F_OK), -1);
  EXPECT_EQ(::access((rootfs + "/etc/group").c_str(), F_OK), -1) << "the RUN deleted /etc/group (whiteout)";
}

TEST_F(Executor, MultiStageToTarAndOciLayout) {
  write("Dockerfile",
        "FROM " + base() + " AS builder\n"
        "RUN mkdir /out && echo built > /out/artifact && echo unused > /out/other\n"
        "FROM " + base() + " AS unused\n"
        "RUN false\n"
        "FROM scratch\n"
        "COPY --from=builder /out/artifact /artifact\n"
        "CMD [\"/artifact\"]\n");
  std::string tar = m_dir->file("image.tar");
  std::string layout = m_dir->file("layout");
  auto r = executor({"--no-push", "--skip-unused-stages", "--destination=" + host() + "/multi:v2",
                     "--tar-path=" + tar, "--oci-layout-path=" + layout});
  ASSERT_EQ(r.exit_code, 0) << r.describe();

  auto inspect = ASSERT_OK(run_skopeo({"inspect", "docker-archive:" + tar}));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.describe();
  auto summary = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(summary["Layers"].size(), 1u) << inspect.out;
  auto tags = ASSERT_OK(run_skopeo({"inspect", "--config", "docker-archive:" + tar}));
  auto config = nlohmann::json::parse(tags.out);
  EXPECT_EQ(config["config"]["Cmd"], nlohmann::json::array({"/artifact"}));

  std::string bundle = m_dir->file("bundle");
  ASSERT_OK(umoci_unpack(layout, "v2", bundle));
  EXPECT_EQ(slurp(bundle + "/rootfs/artifact"), "built\n");
  EXPECT_EQ(::access((bundle + "/rootfs/out").c_str(), F_OK), -1);
  EXPECT_EQ(::access((bundle + "/rootfs/bin").c_str(), F_OK), -1) << "scratch has no busybox";
}

TEST_F(Executor, ReproducibleBuildsGiveTheSameDigest) {
  write("data.txt", "same bytes\n");
  write("Dockerfile", "FROM " + base() + "\nCOPY data.txt /data.txt\nRUN echo done > /done\n");
  std::string d1 = m_dir->file("d1"), d2 = m_dir->file("d2"), d3 = m_dir->file("d3");
  auto r1 = executor({"--no-push", "--reproducible", "--digest-file=" + d1});
  ASSERT_EQ(r1.exit_code, 0) << r1.describe();
  // Let wall-clock seconds pass between builds: file mtimes differ, the digest must not.
  ::sleep(1);
  auto r2 = executor({"--no-push", "--reproducible", "--digest-file=" + d2});
  ASSERT_EQ(r2.exit_code, 0) << r2.describe();
  EXPECT_EQ(slurp(d1), slurp(d2));
  EXPECT_EQ(slurp(d1).rfind("sha256:", 0), 0u);
  auto r3 = executor({"--no-push", "--digest-file=" + d3});
  ASSERT_EQ(r3.exit_code, 0) << r3.describe();
  EXPECT_NE(slurp(d1), slurp(d3)) << "without --reproducible the timestamps differ";
}

// kaniko propagates a failing RUN's exit status (its exit-code-propagation test, and
// ../shared/conformance's exit_code_propagation case): the executor exits with it too.
TEST_F(Executor, FailingRunPropagatesItsStatusNamingTheStep) {
  write("Dockerfile", "FROM " + base() + "\nRUN true\nRUN exit 3\n");
  auto r = executor({"--no-push"});
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_NE(r.err.find("Dockerfile:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("RUN exit 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit status 3"), std::string::npos) << r.err;
}

TEST_F(Executor, BadDockerfileExitsOneWithFileAndLine) {
  write("Dockerfile", "FROM " + base() + "\nRUNN echo\n");
  auto r = executor({"--no-push"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("Dockerfile:2"), std::string::npos) << r.err;
}

TEST_F(Executor, UsageErrorsExitTwo) {
  write("Dockerfile", "FROM " + base() + "\n");
  auto bad_flag = executor({"--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.describe();
  auto no_dest = executor({});
  EXPECT_EQ(no_dest.exit_code, 2) << no_dest.describe();
  EXPECT_NE(no_dest.err.find("--destination"), std::string::npos) << no_dest.err;
  auto bad_mode = executor({"--no-push", "--snapshot-mode=fast"});
  EXPECT_EQ(bad_mode.exit_code, 2) << bad_mode.describe();
}

TEST_F(Executor, PushIsCheckedBeforeBuilding) {
  // A destination on a port where nothing listens: fails before any step runs.
  write("Dockerfile", "FROM " + base() + "\nRUN touch /marker-step-ran\n");
  auto port = ASSERT_OK(free_port());
  auto r = executor({"--destination=127.0.0.1:" + std::to_string(port) + "/x:y",
                     "--insecure-registry=127.0.0.1:" + std::to_string(port), "--push-retry=0"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("push permission"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("RUN touch"), std::string::npos) << "no step may run before the push check: " << r.err;
}

}  // namespace
}  // namespace strata::itest
