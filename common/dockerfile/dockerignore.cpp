#include "dockerfile/dockerignore.hpp"

#include <array>

namespace strata::dockerfile {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Cheap single-pass test so that clean paths, the common case, are not copied: true for empty,
// leading or trailing '/', "//", and "." or ".." components.
bool needs_clean(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return true;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= p.size(); ++i) {
    if (i < p.size() && p[i] != '/') continue;
    const std::size_t len = i - start;
    if (len == 0 || (len <= 2 && p[start] == '.' && (len == 1 || p[start + 1] == '.'))) return true;
    start = i + 1;
  }
  return false;
}

// Offsets of the '/' in a path; inline storage for ordinary depths.
class Slashes {
 public:
  explicit Slashes(std::string_view path) {
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (path[i] != '/') continue;
      if (m_count < m_inline.size()) {
        m_inline[m_count] = static_cast<std::uint32_t>(i);
      } else {
        if (m_heap.empty()) m_heap.assign(m_inline.begin(), m_inline.end());
        m_heap.push_back(static_cast<std::uint32_t>(i));
      }
      ++m_count;
    }
  }
  std::span<const std::uint32_t> span() const {
    return m_heap.empty() ? std::span<const std::uint32_t>(m_inline.data(), m_count)
                          : std::span<const std::uint32_t>(m_heap);
  }

 private:
  std::array<std::uint32_t, 32> m_inline{};
  std::vector<std::uint32_t> m_heap;
  std::size_t m_count = 0;
};

}  // namespace

std::vector<std::string> read_ignore_patterns(std::string_view content) {
  std::vector<std::string> out;
  bool first_line = true;
  while (!content.empty()) {
    const std::size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);  // bufio.ScanLines drops a CR before LF
    if (first_line && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    first_line = false;
    if (line.starts_with('#')) continue;
    line = trim(line);
    if (line.empty()) continue;
    const bool invert = line.front() == '!';
    if (invert) line = trim(line.substr(1));
    std::string pattern(line);
    if (!pattern.empty()) {
      pattern = clean_path(pattern);
      if (pattern.size() > 1 && pattern.front() == '/') pattern.erase(0, 1);
    }
    out.push_back(invert ? "!" + pattern : pattern);
  }
  return out;
}

Result<DockerIgnore> DockerIgnore::parse(std::string_view content) {
  return from_patterns(read_ignore_patterns(content));
}

Result<DockerIgnore> DockerIgnore::from_patterns(const std::vector<std::string>& patterns) {
  DockerIgnore out;
  for (const std::string& raw : patterns) {
    const std::string_view trimmed = trim(raw);
    if (trimmed.empty()) continue;
    std::string text = clean_path(trimmed);
    bool exception = false;
    if (text.front() == '!') {
      if (text.size() == 1) {
        return fail(ErrorKind::invalid_argument, "illegal exclusion pattern: \"!\"");
      }
      exception = true;
      text.erase(0, 1);
    }
    auto pattern = TRY_CTX(IgnorePattern::compile(text), ".dockerignore");
    out.m_has_exceptions = out.m_has_exceptions || exception;
    out.m_rules.push_back({std::move(pattern), exception});
  }
  return out;
}

bool DockerIgnore::excluded(std::string_view path) const {
  if (m_rules.empty()) return false;
  std::string cleaned;
  if (needs_clean(path)) {
    cleaned = clean_path(path);
    if (cleaned.starts_with('/')) cleaned.erase(0, 1);
    path = cleaned;
  }
  if (path.empty() || path == ".") return false;
  // The last rule that matches decides (patternmatcher's loop gives the same answer).
  const Slashes slashes(path);
  for (auto it = m_rules.rbegin(); it != m_rules.rend(); ++it) {
    if (it->pattern.matches_self_or_parent(path, slashes.span())) return !it->exception;
  }
  return false;
}

bool DockerIgnore::excluded(std::string_view path, const DirState& parent, DirState* self) const {
  const bool have_parent = parent.m_matched.size() == m_rules.size();
  if (self == nullptr) {
    for (std::size_t i = m_rules.size(); i-- > 0;) {
      const bool hit = have_parent ? (parent.m_matched[i] || m_rules[i].pattern.matches(path))
                                   : m_rules[i].pattern.matches_self_or_parent(path);
      if (hit) return !m_rules[i].exception;
    }
    return false;
  }
  self->m_matched.assign(m_rules.size(), 0);
  bool result = false;
  for (std::size_t i = 0; i < m_rules.size(); ++i) {
    const bool hit = have_parent ? (parent.m_matched[i] || m_rules[i].pattern.matches(path))
                                 : m_rules[i].pattern.matches_self_or_parent(path);
    self->m_matched[i] = hit;
    if (hit) result = !m_rules[i].exception;
  }
  return result;
}

bool DockerIgnore::can_skip_dir(std::string_view dir) const {
  std::string cleaned = clean_path(dir);
  if (cleaned.starts_with('/')) cleaned.erase(0, 1);
  if (cleaned.empty() || cleaned == ".") return false;
  std::size_t last = m_rules.size();
  for (std::size_t i = m_rules.size(); i-- > 0;) {
    if (m_rules[i].pattern.matches_self_or_parent(cleaned)) {
      last = i;
      break;
    }
  }
  if (last == m_rules.size() || m_rules[last].exception) return false;  // not excluded
  // Rules before `last` are overridden below the directory by `last` itself, which matches every
  // descendant through its parent; only later exceptions can bring something back.
  for (std::size_t i = last + 1; i < m_rules.size(); ++i) {
    if (m_rules[i].exception && m_rules[i].pattern.may_match_below(cleaned)) return false;
  }
  return true;
}

std::optional<std::string> pick_ignore_file(std::string_view dockerfile_path,
                                            std::string_view context_dir,
                                            const std::function<bool(const std::string&)>& exists) {
  if (!dockerfile_path.empty() && dockerfile_path != "-") {
    // Appending instead of operator+ sidesteps a GCC 12 -Wrestrict false positive.
    std::string specific(dockerfile_path);
    specific.append(".dockerignore");
    if (exists(specific)) return specific;
  }
  std::string general(context_dir.empty() ? std::string_view(".") : context_dir);
  if (general.back() != '/') general += '/';
  general += ".dockerignore";
  if (exists(general)) return general;
  return std::nullopt;
}

}  // namespace strata::dockerfile
