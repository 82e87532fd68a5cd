// BuildKit's own parser test files (frontend/dockerfile/parser/testfiles*): every positive case
// must dump exactly as BuildKit's AST dump, every negative case must be rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dockerfile/ast.hpp"

namespace fs = std::filesystem;
using namespace strata::dockerfile;

namespace {

const fs::path k_root = fs::path(STRATA_SHARED_DIR) / "conformance" / "buildkit-parser";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> cases(const char* dir) {
  std::vector<fs::path> out;
  if (!fs::exists(k_root / dir)) return out;
  for (const auto& entry : fs::directory_iterator(k_root / dir))
    if (entry.is_directory()) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Conformance, PositiveCasesDumpLikeBuildKit) {
  auto dirs = cases("testfiles");
  ASSERT_GE(dirs.size(), 30u) << "conformance files missing under " << k_root;
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.filename().string());
    auto ast = parse_ast(read_file(dir / "Dockerfile"));
    ASSERT_TRUE(ast) << ast.error().message();
    EXPECT_EQ(dump(*ast), read_file(dir / "result"));
  }
}

TEST(Conformance, NegativeCasesAreRejected) {
  auto dirs = cases("testfiles-negative");
  ASSERT_GE(dirs.size(), 4u);
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.filename().string());
    auto ast = parse_ast(read_file(dir / "Dockerfile"));
    ASSERT_FALSE(ast) << dump(*ast);
    EXPECT_EQ(ast.error().kind(), strata::ErrorKind::invalid_argument);
    EXPECT_EQ(ast.error().message().rfind("Dockerfile", 0), 0u) << ast.error().message();
  }
}

TEST(Conformance, ParsingIsDeterministicAndReparsable) {
  // The dump of each positive case is stable across two parses (no hidden state).
  for (const auto& dir : cases("testfiles")) {
    std::string text = read_file(dir / "Dockerfile");
    auto a = parse_ast(text);
    auto b = parse_ast(text);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(dump(*a), dump(*b));
  }
}
