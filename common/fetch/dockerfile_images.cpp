#include "fetch/dockerfile_images.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "dockerfile/instructions.hpp"
#include "dockerfile/stages.hpp"
#include "util/fd.hpp"

namespace strata::fetch {
namespace {

Result<std::string> read_text_file(const std::string& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path, errno);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16u << 20)) return fail(ErrorKind::invalid_argument, path + ": larger than 16 MiB");
  }
  return text;
}

dockerfile::Lookup map_lookup(const std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

std::map<std::string, std::string> automatic_platform_args(const image::Platform& target) {
  image::Platform build = image::Platform::host();
  std::map<std::string, std::string> args;
  auto put = [&](const std::string& prefix, const image::Platform& p) {
    args[prefix + "PLATFORM"] = p.str();
    args[prefix + "OS"] = p.os;
    args[prefix + "ARCH"] = p.architecture;
    args[prefix + "VARIANT"] = p.variant;
  };
  put("TARGET", target);
  put("BUILD", build);
  return args;
}

Result<std::vector<std::string>> dockerfile_base_images(const std::string& path,
                                                        const std::map<std::string, std::string>& build_args,
                                                        const image::Platform& target_platform) {
  std::string text = TRY(read_text_file(path));
  auto parsed = TRY(dockerfile::parse_dockerfile(text, path));
  auto automatic = automatic_platform_args(target_platform);
  dockerfile::StageGraphOptions options;
  options.build_args = map_lookup(build_args);
  options.automatic_args = map_lookup(automatic);
  auto graph = TRY(dockerfile::build_stage_graph(parsed, options));
  std::vector<std::string> images;
  std::set<std::string> seen;
  for (const auto& stage : graph.stages) {
    if (!stage.scratch && !stage.base_stage && seen.insert(stage.base).second) images.push_back(stage.base);
    for (const auto& image : stage.images) {
      if (seen.insert(image).second) images.push_back(image);
    }
  }
  return images;
}

}  // namespace strata::fetch
