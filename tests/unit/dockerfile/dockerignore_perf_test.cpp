// Matching speed on a context of 100k files: prints the time, asserts only the results' sanity
// (the target is < 200 ms for 100k paths x 50 patterns; timing is not asserted on a shared box).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "dockerfile/dockerignore.hpp"

namespace strata::dockerfile {
namespace {

std::vector<std::string> fifty_patterns() {
  return {"**/*.go",         "!**/vendor/**/*.go", "node_modules",  "**/node_modules", ".git",
          "*.md",            "!README.md",         "docs/**",       "!docs/api/*.md",  "build/",
          "dist",            "**/*.pyc",           "**/__pycache__", "*.log",          "tmp/*",
          "**/.DS_Store",    "coverage",           "*.swp",         "**/*.o",          "**/*.a",
          "target/**",       ".idea",              ".vscode",       "*.tmp",           "**/*.bak",
          "src/**/test_*.py", "!src/keep/**",      "vendor/*/testdata", "**/testdata/**", "a?c/*.txt",
          "[a-c]*/cache",    "logs/*.[0-9]",       "**/*.class",    "out",             "*.iml",
          "secrets/*",       "!secrets/public.pem", "**/.env",      ".env.*",          "**/*.min.js",
          "web/**/*.map",    "**/*~",              "bazel-*",       "cmake-build-*",   "**/.terraform",
          "*.tar.gz",        "**/Thumbs.db",       "pkg/**/mocks",  "third_party/*/docs", "**/*.orig"};
}

std::vector<std::string> hundred_k_paths() {
  static const std::vector<std::string> k_dirs = {"src", "pkg", "cmd", "internal", "web", "docs", "vendor",
                                                  "node_modules", "lib", "test", "api", "util", "assets"};
  static const std::vector<std::string> k_exts = {".go", ".py", ".js", ".md", ".txt", ".json", ".c", ".h",
                                                  ".pyc", ".log", ".min.js", ".map", ""};
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> depth(0, 6);
  std::uniform_int_distribution<std::size_t> dir(0, k_dirs.size() - 1);
  std::uniform_int_distribution<std::size_t> ext(0, k_exts.size() - 1);
  std::uniform_int_distribution<int> num(0, 999);
  std::vector<std::string> paths;
  paths.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    std::string p;
    for (int d = depth(rng); d > 0; --d) p += k_dirs[dir(rng)] + "/";
    p += "file_" + std::to_string(num(rng)) + k_exts[ext(rng)];
    paths.push_back(std::move(p));
  }
  return paths;
}

TEST(DockerIgnorePerf, HundredThousandPathsFiftyPatterns) {
  auto ig = DockerIgnore::from_patterns(fifty_patterns());
  ASSERT_TRUE(ig.has_value()) << ig.error().message();
  ASSERT_EQ(ig->rules().size(), 50u);
  const std::vector<std::string> paths = hundred_k_paths();

  // CPU time of this thread as well as wall time: the build machine is shared.
  auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  const double c0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t excluded = 0;
  for (const std::string& p : paths) excluded += ig->excluded(p);
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu = cpu_ms() - c0;
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf("[ perf ] dockerignore: %zu paths x %zu patterns in %.1f ms wall, %.1f ms cpu (%zu excluded)\n",
              paths.size(), ig->rules().size(), ms, cpu, excluded);
  EXPECT_GT(excluded, 0u);
  EXPECT_LT(excluded, paths.size());
  EXPECT_TRUE(ig->excluded("node_modules/x/y.js"));
  EXPECT_FALSE(ig->excluded("README.md"));
  EXPECT_FALSE(ig->excluded("vendor/x/y/z.go"));
  EXPECT_TRUE(ig->excluded("src/x/y/z.go"));
}

}  // namespace
}  // namespace strata::dockerfile
