// Differential test: our NFA matcher against a reference that follows moby/patternmatcher
// literally (matcher-type detection, then a regexp built the same way, evaluated by std::regex),
// on random patterns and paths. Also checks the multi-pattern loop, the walker API and the
// soundness of can_skip_dir() against brute force.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "dockerfile/dockerignore.hpp"

namespace strata::dockerfile {
namespace {

// patternmatcher's Pattern.compile + match, for ASCII patterns on Unix.
class ReferencePattern {
 public:
  explicit ReferencePattern(const std::string& cleaned) : m_text(cleaned) {
    std::string re = "^";
    const std::size_t n = cleaned.size();
    for (std::size_t i = 0, iter = 0; i < n; ++iter) {
      const char c = cleaned[i++];
      if (c == '*') {
        if (i < n && cleaned[i] == '*') {
          ++i;
          if (i < n && cleaned[i] == '/') ++i;
          if (i >= n) {
            if (m_type == Type::exact) {
              m_type = Type::prefix;
            } else {
              re += ".*";
              m_type = Type::regexp;
            }
          } else {
            re += "(.*/)?";
            m_type = Type::regexp;
          }
          if (iter == 0) m_type = Type::suffix;
        } else {
          re += "[^/]*";
          m_type = Type::regexp;
        }
      } else if (c == '?') {
        re += "[^/]";
        m_type = Type::regexp;
      } else if (std::string_view(".+()|{}$").find(c) != std::string_view::npos) {
        re += '\\';
        re += c;
      } else if (c == '[' || c == ']') {
        re += c;
        m_type = Type::regexp;
      } else {
        re += c;
      }
    }
    if (m_type == Type::regexp) m_regex = std::regex(re + "$");
  }

  bool matches(const std::string& path) const {
    switch (m_type) {
      case Type::exact:
        return path == m_text;
      case Type::prefix:
        return path.starts_with(m_text.substr(0, m_text.size() - 2));
      case Type::suffix: {
        const std::string suffix = m_text.substr(2);
        if (path.ends_with(suffix)) return true;
        return suffix[0] == '/' && path == suffix.substr(1);
      }
      case Type::regexp:
        return std::regex_match(path, m_regex);
    }
    return false;
  }

  bool matches_or_parent(const std::string& path) const {
    if (matches(path)) return true;
    for (std::size_t i = path.find('/'); i != std::string::npos; i = path.find('/', i + 1)) {
      if (matches(path.substr(0, i))) return true;
    }
    return false;
  }

 private:
  enum class Type { exact, prefix, suffix, regexp };
  std::string m_text;
  Type m_type = Type::exact;
  std::regex m_regex;
};

std::string random_pattern(std::mt19937& rng) {
  static const std::vector<std::string> k_tokens = {"a", "b", "/", "*", "**", "?", "[ab]", "[^a]", ".", "ab", "a/"};
  std::uniform_int_distribution<int> len(1, 6);
  std::uniform_int_distribution<std::size_t> pick(0, k_tokens.size() - 1);
  std::string out;
  for (int i = len(rng); i > 0; --i) out += k_tokens[pick(rng)];
  return clean_path(out);
}

std::string random_path(std::mt19937& rng) {
  static const std::vector<std::string> k_names = {"a", "b", "ab", "ba", "a.b", ".a", "aa", "b.", "a-b"};
  std::uniform_int_distribution<int> depth(1, 4);
  std::uniform_int_distribution<std::size_t> pick(0, k_names.size() - 1);
  std::string out;
  for (int i = depth(rng); i > 0; --i) out += (out.empty() ? "" : "/") + k_names[pick(rng)];
  return out;
}

TEST(DockerIgnoreReference, SinglePatternsAgreeWithRegexTranslation) {
  std::mt19937 rng(1234);
  int compared = 0;
  for (int round = 0; round < 1500; ++round) {
    const std::string text = random_pattern(rng);
    auto ours = IgnorePattern::compile(text);
    ASSERT_TRUE(ours.has_value()) << text;
    const ReferencePattern ref(text);
    for (int k = 0; k < 40; ++k) {
      const std::string path = random_path(rng);
      ASSERT_EQ(ours->matches(path), ref.matches(path)) << "pattern " << text << " path " << path;
      ASSERT_EQ(ours->matches_self_or_parent(path), ref.matches_or_parent(path))
          << "pattern " << text << " path " << path;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 1500 * 40);
}

TEST(DockerIgnoreReference, RuleListsWalkerAndSkipping) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> count(1, 5);
  std::bernoulli_distribution exception(0.35);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> patterns;
    std::vector<std::pair<ReferencePattern, bool>> ref;
    for (int i = count(rng); i > 0; --i) {
      std::string p = random_pattern(rng);
      if (p == "." || p == "/") continue;
      const bool exc = exception(rng);
      patterns.push_back((exc ? "!" : "") + p);
      ref.emplace_back(ReferencePattern(p), exc);
    }
    auto ig = DockerIgnore::from_patterns(patterns);
    ASSERT_TRUE(ig.has_value());
    // patternmatcher.MatchesOrParentMatches, loop and all.
    auto reference_excluded = [&](const std::string& path) {
      bool matched = false;
      for (const auto& [pattern, exc] : ref) {
        if (exc != matched) continue;
        if (pattern.matches_or_parent(path)) matched = !exc;
      }
      return matched;
    };
    std::vector<std::string> paths;
    for (int k = 0; k < 30; ++k) paths.push_back(random_path(rng));
    for (const std::string& path : paths) {
      ASSERT_EQ(ig->excluded(path), reference_excluded(path)) << ::testing::PrintToString(patterns) << " " << path;
      // The walker API, walking down from the root.
      DockerIgnore::DirState parent;
      std::size_t start = 0;
      while (true) {
        const std::size_t slash = path.find('/', start);
        const std::string prefix = path.substr(0, slash);
        DockerIgnore::DirState self;
        const bool got = ig->excluded(prefix, parent, slash == std::string::npos ? nullptr : &self);
        ASSERT_EQ(got, reference_excluded(prefix)) << ::testing::PrintToString(patterns) << " " << prefix;
        if (slash == std::string::npos) break;
        // A skippable directory must have every descendant excluded.
        if (ig->can_skip_dir(prefix)) {
          ASSERT_TRUE(got) << prefix;
          for (const std::string& other : paths) {
            if (other.starts_with(prefix + "/")) {
              ASSERT_TRUE(reference_excluded(other)) << ::testing::PrintToString(patterns) << " dir "
                                                      << prefix << " child " << other;
            }
          }
        }
        parent = std::move(self);
        start = slash + 1;
      }
    }
  }
}

}  // namespace
}  // namespace strata::dockerfile
