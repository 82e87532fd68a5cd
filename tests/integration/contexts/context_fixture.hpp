// Shared by the context tests: a source tree to put somewhere, the real
// executor building it (FROM scratch, so no registry is needed) into an OCI
// layout, and umoci reading the result.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "integration/support/itest.hpp"

namespace strata::itest {

class ContextTest : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS("umoci", "python3", "tar", "gzip", "zstd", "openssl");
    SKIP_UNLESS_TOOL("executor");
    if (::geteuid() != 0)
      GTEST_SKIP() << "the executor needs root";
    m_dir = std::make_unique<TempDir>(ASSERT_OK(TempDir::create("contexts")));
  }

  std::string file(const std::string &rel) const { return m_dir->file(rel); }

  // A context: Dockerfile (COPY hello.txt and, when present, sub/extra.txt) and
  // hello.txt.
  std::string make_source(const std::string &name, const std::string &hello) {
    std::string dir = file(name);
    EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0);
    EXPECT_TRUE(write_file(dir + "/Dockerfile",
                           "FROM scratch\nCOPY hello.txt /hello.txt\n"));
    EXPECT_TRUE(write_file(dir + "/hello.txt", hello));
    return dir;
  }

  static std::string python_script() {
    return source_dir() + "/tests/integration/contexts/context_servers.py";
  }

  RunResult sh(const std::string &command, const Env &env = {}) {
    auto r = run({"sh", "-c", command}, env);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    EXPECT_EQ(r ? r->exit_code : -1, 0) << command << "\n"
                                        << (r ? r->describe() : "");
    return r ? *r : RunResult{};
  }

  // Runs the executor on `context`; the image goes to an OCI layout named after
  // the build.
  RunResult build(const std::string &context,
                  const std::vector<std::string> &extra = {},
                  const Env &env = {}, const std::string &stdin_file = "") {
    ++m_builds;
    m_layout = file("layout-" + std::to_string(m_builds));
    std::vector<std::string> argv{tool_path("executor"),
                                  "--context=" + context,
                                  "--no-push",
                                  "--oci-layout-path=" + m_layout,
                                  "--kaniko-dir=" + file("kaniko"),
                                  "--cache-dir=" + file("cache")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!stdin_file.empty()) {
      std::string cmd;
      for (const auto &a : argv)
        cmd += "'" + a + "' ";
      argv = {"sh", "-c", cmd + "< '" + stdin_file + "'"};
    }
    auto r = run(argv, env, std::chrono::minutes(3));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : RunResult{};
  }

  // /hello.txt of the last built image.
  std::string built_hello() {
    std::string bundle = file("bundle-" + std::to_string(m_builds));
    auto unpacked = umoci_unpack(m_layout, "latest", bundle);
    if (!unpacked)
      return "<umoci: " + unpacked.error().message() + ">";
    auto content = read_file(bundle + "/rootfs/hello.txt");
    return content ? *content : "<no /hello.txt in the image>";
  }

  void expect_built(const RunResult &r, const std::string &hello) {
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(built_hello(), hello);
    expect_no_leftovers();
  }

  // The fetched context is removed after the build, successful or not.
  void expect_no_leftovers() {
    DIR *d = ::opendir(file("kaniko").c_str());
    if (d == nullptr)
      return;
    while (auto *e = ::readdir(d)) {
      EXPECT_NE(std::string(e->d_name).rfind("context-", 0), 0u)
          << "left behind: kaniko/" << e->d_name;
    }
    ::closedir(d);
  }

  // A server from context_servers.py; returns its port.
  int start_py_server(const std::vector<std::string> &args,
                      std::unique_ptr<Process> &out) {
    std::vector<std::string> argv{"python3", python_script()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Process::start({.argv = argv});
    EXPECT_TRUE(p) << (p ? "" : p.error().message());
    if (!p)
      return 0;
    out = std::make_unique<Process>(std::move(*p));
    for (int i = 0; i < 200; ++i) {
      std::string o = out->out();
      if (auto pos = o.find("PORT ");
          pos != std::string::npos && o.find('\n', pos) != std::string::npos)
        return std::stoi(o.substr(pos + 5));
      ::usleep(50'000);
    }
    ADD_FAILURE() << "server did not report its port: " << out->err();
    return 0;
  }

  std::unique_ptr<TempDir> m_dir;
  std::string m_layout;
  int m_builds = 0;
};

} // namespace strata::itest
