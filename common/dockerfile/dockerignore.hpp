// .dockerignore: which files of the build context are sent to the build.
//
// File format (moby/patternmatcher's ignorefile.ReadAll, which BuildKit uses): one pattern per
// line; a UTF-8 BOM at the start is dropped; a line whose first character is '#' is a comment
// (only at column 0: " #x" is a pattern); surrounding whitespace is trimmed and blank lines are
// skipped; a leading '!' makes an exception (re-inclusion), whitespace after it is trimmed too;
// each pattern is cleaned like Go's filepath.Clean ("./foo/" → "foo", "a/../b" → "b") and a
// leading '/' is dropped, so every pattern is relative to the context root.
//
// Matching (patternmatcher.MatchesOrParentMatches): a path is excluded when the LAST pattern that
// matches it, or matches one of its parent directories, is not an exception. So `vendor` excludes
// everything below vendor/, and `!vendor/keep.go` after it re-includes that file. A directory
// that is excluded may still have re-included descendants: a context walker must then descend
// into it (can_skip_dir() says when it need not) and create the directory for those descendants
// in the context it builds, as BuildKit does. The context root itself is never excluded.
// Pattern syntax: see dockerignore_pattern.hpp.
//
// Which file: `<Dockerfile>.dockerignore` beside the Dockerfile wins over `.dockerignore` at the
// context root (BuildKit 1.4+/buildx); see pick_ignore_file().
//
// Thread safety: a DockerIgnore is immutable once built; all const members may be called from
// any number of threads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockerfile/dockerignore_pattern.hpp"
#include "util/result.hpp"

namespace strata::dockerfile {

// ignorefile.ReadAll: the patterns of a .dockerignore file, as strings ("!" kept in front of
// exceptions), in order. Never fails: syntax is checked by DockerIgnore.
std::vector<std::string> read_ignore_patterns(std::string_view content);

class DockerIgnore {
 public:
  struct Rule {
    IgnorePattern pattern;
    bool exception;  // a "!pattern": re-includes
  };

  // Per-directory memo for walkers: whether each rule matched the directory or a parent.
  class DirState {
   private:
    friend class DockerIgnore;
    std::vector<char> m_matched;
  };

  DockerIgnore() = default;  // no patterns: nothing is excluded

  // Parses the content of a .dockerignore file. Errors: invalid_argument naming the bad pattern.
  static Result<DockerIgnore> parse(std::string_view content);
  // From pattern strings (patternmatcher.New: each is trimmed, cleaned, '!' means exception;
  // blank ones are skipped; "!" alone is an error).
  static Result<DockerIgnore> from_patterns(const std::vector<std::string>& patterns);

  bool empty() const { return m_rules.empty(); }
  bool has_exceptions() const { return m_has_exceptions; }
  const std::vector<Rule>& rules() const { return m_rules; }

  // Whether `path` (relative to the context root, '/'-separated; cleaned here if needed) is
  // excluded. "" and "." are never excluded.
  bool excluded(std::string_view path) const;

  // The same decision for a walker that visits parents before children, without re-testing the
  // parents: `parent` is the state of the containing directory (a default DirState for entries
  // of the context root), `path` must be clean. When `self` is given (for a directory), it is
  // filled for use with the directory's children.
  bool excluded(std::string_view path, const DirState& parent, DirState* self) const;

  // For an excluded directory: true if nothing below it can be re-included, so the walker may
  // skip the whole subtree. False when the directory is not excluded at all.
  bool can_skip_dir(std::string_view dir) const;

 private:
  std::vector<Rule> m_rules;
  bool m_has_exceptions = false;
};

// Picks the ignore file for a build: "<dockerfile_path>.dockerignore" if `exists` says so, else
// "<context_dir>/.dockerignore" if it exists, else nullopt. `dockerfile_path` may be empty (a
// Dockerfile from stdin). Pure: the only I/O is what `exists` does.
std::optional<std::string> pick_ignore_file(std::string_view dockerfile_path,
                                            std::string_view context_dir,
                                            const std::function<bool(const std::string&)>& exists);

}  // namespace strata::dockerfile
