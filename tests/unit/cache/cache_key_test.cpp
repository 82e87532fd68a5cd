#include "cache/cache_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <gtest/gtest.h>

#include "cache_test_support.hpp"
#include "fs/tree_hash.hpp"

namespace strata::cache {
namespace {

using dockerfile::VisibleVariable;
using Src = VisibleVariable::Source;

const std::string k_platform = "linux/amd64";
const std::string k_parent = "image:" + digest::sha256("base manifest").str();

StepInputs base_step() {
  StepInputs s;
  s.kind = StepKind::copy;
  s.instruction = "COPY --chown=1:1 src/ /app/";
  s.display = "COPY --chown=1:1 src/ /app/";
  s.variables = {{Src::arg, "VERSION", "1.0"}, {Src::env, "PATH", "/usr/bin"}};
  s.files = digest::sha256("files");
  s.remote_validators = {"https://example.test/a.tgz etag=\"x\""};
  s.mounts = {{"/src", digest::sha256("mount")}};
  return s;
}

std::string key_of(const StepInputs& s, const KeyOptions& o = {}, std::string parent = k_parent,
                   std::string platform = k_platform) {
  return compute_key(platform, parent, s, o).key;
}

TEST(CacheKey, IsHexSha256AndDeterministic) {
  auto k = key_of(base_step());
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(k, key_of(base_step()));
}

TEST(CacheKey, EveryInputChangesTheKey) {
  const auto base = key_of(base_step());
  std::vector<std::pair<std::string, std::string>> variants;
  auto with = [&](const std::string& what, auto change) {
    auto s = base_step();
    change(s);
    variants.emplace_back(what, key_of(s));
  };
  variants.emplace_back("platform", key_of(base_step(), {}, k_parent, "linux/arm64"));
  variants.emplace_back("parent", key_of(base_step(), {}, "image:" + digest::sha256("other").str()));
  with("kind", [](StepInputs& s) { s.kind = StepKind::add; });
  with("instruction", [](StepInputs& s) { s.instruction = "COPY --chown=1:2 src/ /app/"; });
  with("arg value", [](StepInputs& s) { s.variables[0].value = "1.1"; });
  with("arg added", [](StepInputs& s) { s.variables.push_back({Src::arg, "EXTRA", "x"}); });
  with("arg removed", [](StepInputs& s) { s.variables.erase(s.variables.begin()); });
  with("env value", [](StepInputs& s) { s.variables[1].value = "/bin"; });
  with("arg became env", [](StepInputs& s) { s.variables[0].source = Src::env; });
  with("files", [](StepInputs& s) { s.files = digest::sha256("files2"); });
  with("no files", [](StepInputs& s) { s.files.reset(); });
  with("remote validator", [](StepInputs& s) { s.remote_validators[0] = "https://example.test/a.tgz etag=\"y\""; });
  with("mount content", [](StepInputs& s) { s.mounts[0].content = digest::sha256("mount2"); });
  with("mount target", [](StepInputs& s) { s.mounts[0].target = "/src2"; });
  std::set<std::string> seen{base};
  for (const auto& [what, key] : variants) {
    EXPECT_NE(key, base) << what << " did not change the key";
    EXPECT_TRUE(seen.insert(key).second) << what << " collides with another variant";
  }
}

TEST(CacheKey, DisplayTextIsNotHashed) {
  auto s = base_step();
  s.display = "COPY --chown=$U src/ /app/";
  EXPECT_EQ(key_of(s), key_of(base_step()));
}

TEST(CacheKey, FieldBoundariesCannotBeShifted) {
  auto a = base_step();
  a.variables = {{Src::arg, "A", "B=C"}};
  auto b = base_step();
  b.variables = {{Src::arg, "A=B", "C"}};
  EXPECT_NE(key_of(a), key_of(b));
}

TEST(CacheKey, VariableOrderDoesNotMatter) {
  auto s = base_step();
  std::swap(s.variables[0], s.variables[1]);
  EXPECT_EQ(key_of(s), key_of(base_step()));
}

TEST(CacheKey, ExcludedArgsAreLeftOut) {
  KeyOptions exclude{{"VERSION"}};
  auto changed = base_step();
  changed.variables[0].value = "2.0";
  EXPECT_EQ(key_of(changed, exclude), key_of(base_step(), exclude));
  auto removed = base_step();
  removed.variables.erase(removed.variables.begin());
  EXPECT_EQ(key_of(removed, exclude), key_of(base_step(), exclude));
  EXPECT_NE(key_of(base_step(), exclude), key_of(base_step()));
  EXPECT_EQ(compute_key(k_platform, k_parent, changed, exclude).inputs.count("var:VERSION"), 0u);
}

TEST(CacheKey, ExcludingAnArgDoesNotExcludeEnvOfThatName) {
  KeyOptions exclude{{"PATH"}};
  auto changed = base_step();
  changed.variables[1].value = "/sbin";
  EXPECT_NE(key_of(changed, exclude), key_of(base_step(), exclude));
}

// The recipe version is the first field hashed: recompute the key of a minimal step by hand with
// the documented encoding and check the version string is part of it.
TEST(CacheKey, RecipeVersionIsHashedFirst) {
  StepInputs s;
  s.kind = StepKind::run;
  s.instruction = "RUN true";
  auto encode = [](std::string_view name, std::string_view value) {
    std::string out(name);
    out.push_back('\0');
    out += std::to_string(value.size());
    out.push_back('\0');
    out.append(value);
    return out;
  };
  auto manual = [&](int version) {
    return digest::sha256(encode("recipe", "strata-layer-cache/" + std::to_string(version)) +
                          encode("platform", k_platform) + encode("parent", "scratch") + encode("kind", "run") +
                          encode("instruction", "RUN true"))
        .hex();
  };
  auto key = compute_key(k_platform, "scratch", s);
  EXPECT_EQ(key.key, manual(k_recipe_version));
  EXPECT_NE(key.key, manual(k_recipe_version - 1));
  EXPECT_EQ(key.inputs.at("recipe"), std::to_string(k_recipe_version));
}

TEST(CacheKey, ChainLinksEveryEarlierStep) {
  StepInputs env;
  env.kind = StepKind::metadata;
  env.instruction = "ENV A=1";
  StepInputs run;
  run.kind = StepKind::run;
  run.instruction = "RUN make";
  auto base = digest::sha256("base");

  auto chain1 = KeyChain::from_image(k_platform, base);
  chain1.next(env);
  auto k1 = chain1.next(run);

  auto chain2 = KeyChain::from_image(k_platform, base);
  auto env2 = env;
  env2.instruction = "ENV A=2";
  chain2.next(env2);
  auto k2 = chain2.next(run);
  EXPECT_NE(k1.key, k2.key) << "a metadata step earlier in the chain must change later keys";
  EXPECT_EQ(chain1.current(), k1.key);

  auto chain3 = KeyChain::from_image(k_platform, digest::sha256("other base"));
  chain3.next(env);
  EXPECT_NE(chain3.next(run).key, k1.key);

  auto from_stage = KeyChain::from_stage(k_platform, k1.key);
  auto scratch = KeyChain::from_scratch(k_platform);
  EXPECT_NE(from_stage.next(run).key, scratch.next(run).key);
}

TEST(CacheKey, DifferingInputsNamesTheComponents) {
  auto a = compute_key(k_platform, k_parent, base_step());
  auto s = base_step();
  s.variables[0].value = "9";
  s.files = digest::sha256("changed");
  s.mounts.clear();
  auto b = compute_key(k_platform, k_parent, s);
  EXPECT_EQ(differing_inputs(a.inputs, b.inputs), (std::vector<std::string>{"files", "mount:/src", "var:VERSION"}));
  EXPECT_TRUE(differing_inputs(a.inputs, a.inputs).empty());
  // Values are digests, not the raw (possibly secret) values.
  for (const auto& [name, value] : a.inputs) EXPECT_EQ(value.find("1.0"), std::string::npos) << name;
}

// Copy inputs: content, mode and owner change the hash of the copied files; mtime does not.
TEST(CacheKey, TreeHashIgnoresMtimeButNotModeOrContent) {
  test::TempDir dir;
  test::write_file(dir / "ctx/a.txt", "hello");
  test::write_file(dir / "ctx/sub/b.txt", "world");
  auto hash = [&] { return fs::hash_tree_entries(dir / "ctx", {"a.txt", "sub"}); };
  auto h1 = hash();
  if (!h1 && h1.error().kind() == ErrorKind::unsupported) GTEST_SKIP() << h1.error().message();
  ASSERT_TRUE(h1) << h1.error().message();

  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "ctx/a.txt").c_str(), times, 0), 0);
  auto h2 = hash();
  ASSERT_TRUE(h2);
  EXPECT_EQ(*h1, *h2);

  auto step = base_step();
  step.files = *h1;
  auto k1 = key_of(step);
  step.files = *h2;
  EXPECT_EQ(key_of(step), k1);

  ASSERT_EQ(::chmod((dir / "ctx/a.txt").c_str(), 0600), 0);
  auto h3 = hash();
  ASSERT_TRUE(h3);
  EXPECT_NE(*h3, *h1);
  step.files = *h3;
  EXPECT_NE(key_of(step), k1);

  ASSERT_EQ(::chmod((dir / "ctx/a.txt").c_str(), 0644), 0);
  test::write_file(dir / "ctx/sub/b.txt", "World");
  auto h4 = hash();
  ASSERT_TRUE(h4);
  EXPECT_NE(*h4, *h1);
}

}  // namespace
}  // namespace strata::cache
