// ExecutorTest: a gtest fixture for driving the real executor binary against a real registry
// seeded with the busybox base image: a fresh temp dir with a build context in it, helpers to
// write context files and to unpack a pushed image (skopeo + umoci) for checking its files.
// Skips without root (chroot isolation), the registry tools or the executor binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "integration/support/itest.hpp"

namespace strata::itest {

class ExecutorTest : public ::testing::Test {
 protected:
  static constexpr const char* k_busybox = "library/busybox:latest";

  // temp_name: the temp dir's name prefix (shows which suite left it, with --keep).
  explicit ExecutorTest(std::string temp_name) : m_temp_name(std::move(temp_name)) {}

  void SetUp() override {
    SKIP_UNLESS("docker-registry", "skopeo", "umoci", "python3", "busybox");
    SKIP_UNLESS_TOOL("executor");
    if (::geteuid() != 0) GTEST_SKIP() << "the executor's chroot isolation needs root";
    m_registry = std::make_unique<RegistryServer>(ASSERT_OK(RegistryServer::start({})));
    ASSERT_OK(seed_base_image(*m_registry, k_busybox));
    m_dir = std::make_unique<TempDir>(ASSERT_OK(TempDir::create(m_temp_name)));
    ASSERT_EQ(::mkdir(context().c_str(), 0755), 0);
  }

  std::string host() const { return m_registry->host(); }
  std::string base() const { return host() + "/" + k_busybox; }
  std::string context() const { return m_dir->file("context"); }

  // The pushed image repo_ref's rootfs, copied with skopeo and unpacked with umoci under `name`.
  std::string unpack(const std::string& repo_ref, const std::string& name) {
    std::string layout = m_dir->file(name + "-layout");
    std::string bundle = m_dir->file(name + "-bundle");
    auto copied = skopeo_copy_to_layout(*m_registry, repo_ref, layout, "img");
    EXPECT_TRUE(copied) << (copied ? "" : copied.error().message());
    auto unpacked = umoci_unpack(layout, "img", bundle);
    EXPECT_TRUE(unpacked) << (unpacked ? "" : unpacked.error().message());
    return bundle + "/rootfs";
  }

  // A file's content, or a marker naming it when it cannot be read (for EXPECT messages).
  static std::string slurp(const std::string& path) {
    auto r = read_file(path);
    return r ? *r : "<missing " + path + ">";
  }

  std::string m_temp_name;
  std::unique_ptr<RegistryServer> m_registry;
  std::unique_ptr<TempDir> m_dir;
};

}  // namespace strata::itest
