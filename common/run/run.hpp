// Running one RUN instruction inside the build root. See docs/isolation.md.
//
// Two isolation modes (--isolation):
//   chroot    the step runs in private mount, PID, UTS and IPC namespaces (and a network
//             namespace with only lo for --network=none), with the build root as its "/"
//             (pivot_root, or chroot where pivot_root is impossible), fresh /proc, a tmpfs /dev
//             with the usual nodes, read-only /sys, and copies of the host's /etc/resolv.conf,
//             /etc/hosts and /etc/hostname mounted over the image's. PID 1 of the namespace is a
//             small supervisor; when the step ends it exits and the kernel kills whatever the step
//             left behind. Needs CAP_SYS_ADMIN. Root steps keep only docker's default capability set.
//   in_place  kaniko's model for unprivileged pods: the container's own "/" is the build root and
//             the step is a plain fork/exec; a child subreaper kills whatever the step left
//             behind. Refused outside a container unless `force` (see container_detect.hpp).
//             RUN --mount and --network=none need CAP_SYS_ADMIN here too (a private mount /
//             network namespace); without it they fail with a clear error.
//
// Contract of run_step:
//   - blocks until the step and every process it started are gone; no timeout;
//   - the step's stdin is /dev/null, stdout/stderr go to the given fds (not closed);
//   - success only for exit status 0; otherwise ErrorKind::invalid_argument, message
//     "<description>: exit status N" or "<description>: killed by signal SIGKILL";
//   - setup failures (a missing secret, an unknown user, a mount that fails) name the step too;
//   - everything mounted is gone afterwards, placeholders created for mount points are removed,
//     and RunResult::masked_paths lists what the snapshot must ignore for this step.
// Thread safety: run_step may be called from several threads at once for different roots; it
// forks, and the child does only async-signal-safe work until exec.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::run {

enum class Isolation { chroot, in_place };
Result<Isolation> parse_isolation(std::string_view text);  // "chroot", "in-place"
std::string_view to_string(Isolation isolation);

enum class MountKind { bind, cache, tmpfs, secret, ssh };
enum class CacheSharing { shared, private_, locked };

// One RUN --mount, with every source already resolved to a host path by the caller.
struct MountSpec {
  MountKind kind = MountKind::bind;
  // Absolute path inside the root. Empty means the default: secret → /run/secrets/<id>,
  // ssh → /run/buildkit/ssh_agent.<n>; required for the other kinds.
  std::string target;
  // bind: host file or directory (context dir + source, or another stage's root + source);
  // secret: host file given with --secret id=..,src=.. ("" when none was given);
  // ssh: host path of the agent socket given with --ssh ("" when none).
  std::string source;
  // cache: key (default: target); secret: required id; ssh: id (default "default").
  std::string id;
  // `ro`/`rw`; unset means BuildKit's default: read-only for bind (a rw bind's writes are
  // visible to the step and discarded afterwards), writable for cache. Ignored for the others.
  std::optional<bool> readonly;
  CacheSharing sharing = CacheSharing::shared;
  // cache: owner and mode of a new cache dir (0:0 0755); secret/ssh: of the mounted file
  // (0:0, 0400 for a secret, 0600 for the socket).
  std::optional<std::uint32_t> uid, gid, mode;
  bool required = false;             // secret/ssh: error when no source was given
  std::optional<std::string> env;    // secret: also export the value as this variable
  std::optional<std::uint64_t> size;  // tmpfs: bytes (default: half of RAM, the kernel's)
};

struct RunRequest {
  std::string root = "/";          // build root (host path); must be "/" for in_place
  std::vector<std::string> argv;   // already shell-wrapped; argv[0] is looked up in the step's PATH
  std::vector<std::string> env;    // "K=V": ENV + ARGs in scope; PATH and HOME get docker's defaults
  std::string user;                // "", "1000", "app", "app:staff", "1000:1000"
  std::string workdir = "/";       // absolute inside root; created (root, 0755) if missing
  std::vector<MountSpec> mounts;
  bool network_none = false;       // --network=none: a network namespace with only lo
  int stdout_fd = 1, stderr_fd = 2;
  std::string description;         // "RUN make", used in every error message
  std::string cache_root;          // host dir of type=cache mounts (required if there are any)
  std::string temp_dir;            // host dir for per-step scratch (copies of /etc files,
                                   // secrets, rw bind overlays); "" → $TMPDIR or /tmp
  bool force = false;              // in_place: run even where no container is detected
  int* exit_status = nullptr;      // out, optional: N when the step ran and exited with status N != 0
};

struct RunResult {
  // Paths relative to the root (no leading '/') whose changes the snapshot must ignore: the
  // bind-mounted /etc files, every mount target and every placeholder created for one.
  std::vector<std::string> masked_paths;
};

Result<RunResult> run_step(Isolation isolation, const RunRequest& request);

// Whether chroot isolation can work here: a forked child tries unshare(CLONE_NEWNS|CLONE_NEWPID).
// Errors: denied with the reason ("... needs CAP_SYS_ADMIN ...").
Result<void> probe_chroot_isolation();

// chroot where probe_chroot_isolation() succeeds, else in_place.
Isolation default_isolation();

// The default PATH docker gives a step whose image has none.
inline constexpr std::string_view k_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The message in_place gives outside a container without --force.
inline constexpr std::string_view k_in_place_refusal =
    "in-place isolation rewrites / of this machine; it is meant for containers: use "
    "--isolation=chroot, or --force if you know what you are doing";

}  // namespace strata::run
