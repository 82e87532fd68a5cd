// Is this process inside a container? In-place isolation runs RUN steps directly on "/" and
// snapshots it, which is what a kaniko-style build pod wants and what would wreck a developer's
// machine, so it refuses to run unless there is evidence of a container (or --force).
//
// Evidence, any one suffices (the same hints kaniko, podman and systemd-detect-virt use):
//   - the marker files /.dockerenv (docker) or /run/.containerenv (podman, buildah);
//   - a non-empty `container` environment variable (systemd's convention, set by podman/lxc);
//   - /proc/1/cgroup or /proc/self/mountinfo mentioning kubepods, docker, containerd, libpod or lxc;
//   - PID 1 not being an init system (its comm is not systemd/init): in a container PID 1 is
//     the entrypoint.
//
// Thread safety: reentrant.
#pragma once

#include <string>
#include <vector>

namespace strata::run {

// Where to look; tests point these at a fake tree.
struct HostView {
  std::string root = "/";      // for the marker files
  std::string proc = "/proc";  // for 1/cgroup, 1/comm, self/mountinfo
  std::string container_env;   // value of $container ("" when unset)
};

// The view of this process (reads $container).
HostView current_host_view();

// One line per piece of evidence found ("found /.dockerenv", "PID 1 is 'sh', not an init
// system"); empty when nothing suggests a container.
std::vector<std::string> container_evidence(const HostView& view);

}  // namespace strata::run
