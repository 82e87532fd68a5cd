// Helpers for the COPY/ADD tests: temp trees that survive a failing test, one-line file makers,
// and a runner that plans and executes a request.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/file_helpers.hpp"
#include "unit/temp_dir.hpp"
#include "build/copy.hpp"

namespace strata::build::testing {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-copy") {}
};

inline void write_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    ASSERT_TRUE(out.good()) << path;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

using unit::exists;
using unit::lstat_of;
using unit::read_file;

inline void make_dirs(const std::string& path) { std::filesystem::create_directories(path); }

inline void run_shell(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// A context dir, an image root and a runner over them.
struct CopyFixture {
  TempDir context;
  TempDir root;
  std::string dockerfile;  // "" = no Dockerfile-specific ignore file

  Result<CopyPlan> plan(const CopyRequest& req, const SourceRoot* from = nullptr) {
    auto ctx = SourceRoot::open_context(context.path(), dockerfile);
    if (!ctx) return tl::unexpected(ctx.error());
    m_ctx = std::make_unique<SourceRoot>(std::move(*ctx));
    CopyEnvironment env;
    env.source = from ? from : m_ctx.get();
    env.image_root = root.path();
    env.transport = transport;
    env.keep_source_owners = from != nullptr;  // as the engine does for COPY --from
    return plan_copy(req, env);
  }

  Result<CopyStats> copy(const CopyRequest& req, const SourceRoot* from = nullptr) {
    auto p = plan(req, from);
    if (!p) return tl::unexpected(p.error());
    return execute_copy(*p, root.path());
  }

  std::string ctx(const std::string& rel) const { return context / rel; }
  std::string img(const std::string& rel) const { return root / rel; }

  transport::Transport* transport = nullptr;

 private:
  std::unique_ptr<SourceRoot> m_ctx;
};

inline CopyRequest req(std::vector<std::string> sources, std::string dest) {
  CopyRequest r;
  r.sources = std::move(sources);
  r.destination = std::move(dest);
  return r;
}

}  // namespace strata::build::testing
