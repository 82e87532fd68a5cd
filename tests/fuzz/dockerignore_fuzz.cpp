// libFuzzer target for the .dockerignore reader and matcher.
//
// Input: a .dockerignore file, then a NUL byte, then newline-separated context paths. Checks that
// nothing crashes or hangs, and the invariants that must hold for any input: the walker API agrees
// with excluded(), and a directory reported skippable has only excluded descendants among the
// given paths.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dockerfile/dockerignore.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using strata::dockerfile::DockerIgnore;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view content = input.substr(0, split);
  const std::string_view rest = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  auto ignore = DockerIgnore::parse(content);
  if (!ignore) return 0;

  std::vector<std::string> paths;
  for (std::size_t start = 0; start < rest.size();) {
    std::size_t nl = rest.find('\n', start);
    if (nl == std::string_view::npos) nl = rest.size();
    std::string path = strata::dockerfile::clean_path(rest.substr(start, nl - start));
    start = nl + 1;
    if (path == "." || path.starts_with('/') || path.starts_with("..")) continue;
    paths.push_back(std::move(path));
  }

  for (const std::string& path : paths) {
    const bool excluded = ignore->excluded(path);
    DockerIgnore::DirState parent;
    std::size_t from = 0;
    while (true) {
      const std::size_t slash = path.find('/', from);
      const std::string prefix = path.substr(0, slash);
      DockerIgnore::DirState self;
      const bool last = slash == std::string::npos;
      const bool walked = ignore->excluded(prefix, parent, last ? nullptr : &self);
      if (walked != ignore->excluded(prefix)) std::abort();
      if (last) {
        if (walked != excluded) std::abort();
        break;
      }
      if (ignore->can_skip_dir(prefix) && !excluded) std::abort();
      parent = std::move(self);
      from = slash + 1;
    }
  }
  return 0;
}
