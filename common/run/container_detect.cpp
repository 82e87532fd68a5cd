#include "run/container_detect.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "run/root_path.hpp"

namespace strata::run {
namespace {

bool read_small(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

constexpr std::array<const char*, 6> k_runtime_hints = {"kubepods", "docker", "containerd", "libpod", "/lxc/",
                                                        "crio-"};

}  // namespace

HostView current_host_view() {
  HostView view;
  if (const char* c = std::getenv("container")) view.container_env = c;
  return view;
}

std::vector<std::string> container_evidence(const HostView& view) {
  std::vector<std::string> found;
  for (const char* marker : {"/.dockerenv", "/run/.containerenv"}) {
    std::string path = join_root(view.root, marker + 1);
    if (::access(path.c_str(), F_OK) == 0) found.push_back(std::string("found ") + marker);
  }
  if (!view.container_env.empty()) found.push_back("$container is '" + view.container_env + "'");
  for (const char* file : {"/1/cgroup", "/self/mountinfo"}) {
    std::string text;
    if (!read_small(view.proc + file, text)) continue;
    for (const char* hint : k_runtime_hints) {
      if (text.find(hint) != std::string::npos) {
        found.push_back(std::string("/proc") + file + " mentions '" + hint + "'");
        break;
      }
    }
  }
  std::string comm;
  if (read_small(view.proc + "/1/comm", comm)) {
    while (!comm.empty() && (comm.back() == '\n' || comm.back() == ' ')) comm.pop_back();
    if (!comm.empty() && comm != "systemd" && comm != "init") {
      found.push_back("PID 1 is '" + comm + "', not an init system");
    }
  }
  return found;
}

}  // namespace strata::run
