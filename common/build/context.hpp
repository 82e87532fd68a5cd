// Where COPY/ADD read from: the build context (a local directory filtered by .dockerignore) or,
// for `COPY --from`, another stage's root or an extracted image (no ignore rules).
//
// BuildKit first transfers the context through the .dockerignore filter and resolves sources
// inside what arrived, so an excluded file is simply absent: COPY cannot name it, a glob does not
// see it, a directory copy skips it, and a symlink pointing at it dangles. SourceRoot reproduces
// that by answering visible() for every path the copy code touches.
//
// Symlinks in source paths are resolved as if chroot()ed into the root (archive::RootDir), so
// neither an absolute link nor `..` reaches outside it.
//
// Ownership: a SourceRoot owns its root descriptor. Thread safety: immutable after open();
// const members may be called concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "archive/root_dir.hpp"
#include "dockerfile/dockerignore.hpp"
#include "util/result.hpp"

namespace strata::build {

class SourceRoot {
 public:
  // The build context `dir`, filtered by the ignore file pick_ignore_file() chooses
  // (`<dockerfile_path>.dockerignore` beside the Dockerfile, else `<dir>/.dockerignore`).
  // `dockerfile_path` may be empty (Dockerfile from stdin). Errors: not_found/io for `dir`,
  // invalid_argument naming a bad ignore pattern.
  static Result<SourceRoot> open_context(const std::string& dir, const std::string& dockerfile_path);
  // A context with explicit ignore rules (already parsed).
  static Result<SourceRoot> open_with_ignore(const std::string& dir, dockerfile::DockerIgnore ignore);
  // A stage root or extracted image for `COPY --from`: everything is visible.
  static Result<SourceRoot> open_tree(const std::string& dir);

  const std::string& path() const { return m_path; }        // as given
  const std::string& real_path() const { return m_real; }   // realpath(), for /proc fd lookups
  const archive::RootDir& dir() const { return *m_root; }
  const dockerfile::DockerIgnore& ignore() const { return m_ignore; }

  // Whether the clean relative path `rel` ("" = root) exists in the filtered context. A
  // directory that is excluded but may hold re-included descendants is visible.
  bool visible(std::string_view rel, bool is_dir) const;

  // Resolves `rel` (clean, relative) inside the root, following symlinks in every component,
  // and returns the resolved clean relative path. Errors: not_found when it does not exist,
  // dangles or is invisible; denied/io otherwise.
  Result<std::string> resolve(std::string_view rel) const;

 private:
  SourceRoot() = default;
  static Result<SourceRoot> open_impl(const std::string& dir, dockerfile::DockerIgnore ignore);

  std::string m_path;
  std::string m_real;
  std::shared_ptr<archive::RootDir> m_root;
  dockerfile::DockerIgnore m_ignore;
};

// Reads a whole small file (ignore files, /etc/passwd). Errors: not_found/io.
Result<std::string> read_small_file(int fd, const std::string& what);

}  // namespace strata::build
