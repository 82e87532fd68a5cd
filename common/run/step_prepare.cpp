// The host side of a step: which mounts to make where, and the files they need.
//
// chroot mode mounts, in this order (later ones may sit on earlier ones): the root bound on
// itself (pivot_root needs a mount point), proc, a tmpfs /dev populated with bind mounts of the
// host's device nodes plus devpts/shm/symlinks, a read-only sysfs, copies of the host's
// /etc/resolv.conf, /etc/hosts and /etc/hostname (copies, so a step that edits them cannot
// touch the host's). RUN --mounts follow (run_mounts.cpp).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "run/step_plan.hpp"


namespace strata::run::detail {

using Kind = SetupOp::Kind;

SetupOp make_op(SetupOp::Kind kind, std::string what) {
  SetupOp o;
  o.kind = kind;
  o.what = std::move(what);
  return o;
}

SetupOp mount_op(std::string source, std::string target, std::string fstype, unsigned long flags,
                 std::string data, std::string what) {
  SetupOp o = make_op(Kind::mount, std::move(what));
  o.source = std::move(source);
  o.target = std::move(target);
  o.fstype = std::move(fstype);
  o.flags = flags;
  o.data = std::move(data);
  return o;
}

SetupOp path_op(SetupOp::Kind kind, std::string target, std::string source, bool optional) {
  SetupOp o = make_op(kind, std::string(kind == SetupOp::Kind::mkdir ? "mkdir " : kind == SetupOp::Kind::touch ? "create " : "symlink ") + target);
  o.target = std::move(target);
  o.source = std::move(source);
  o.optional = optional;
  return o;
}

Result<std::string> read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_errno("open " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> write_host_file(const std::string& path, std::string_view content, mode_t mode) {
  util::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return fail_errno("create " + path, errno);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("write " + path, errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0) return fail_errno("chmod " + path, errno);
  return {};
}


void add_bind(StepPlan& plan, const std::string& source, const std::string& target, bool readonly,
              const std::string& what) {
  plan.ops.push_back(mount_op(source, target, "", MS_BIND | MS_REC, "", what));
  if (readonly) {
    SetupOp ro = make_op(Kind::remount_ro, what + " (read-only)");
    ro.target = target;
    ro.flags = MS_NOSUID | MS_NODEV;
    plan.ops.push_back(std::move(ro));
  }
}

namespace {

Result<void> plan_system_mounts(const RunRequest& request, StepPlan& plan, StepResources& res,
                                const std::string& scratch) {
  Placeholders& ph = res.placeholders();
  plan.ops.push_back(mount_op(plan.root, plan.root, "", MS_BIND | MS_REC, "", "bind-mount the build root on itself"));

  RootPath proc = TRY(ph.ensure("/proc", NodeKind::directory));
  plan.ops.push_back(mount_op("proc", proc.host, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mount proc on /proc"));

  RootPath dev = TRY(ph.ensure("/dev", NodeKind::directory));
  plan.ops.push_back(mount_op("tmpfs", dev.host, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                              "mount a tmpfs on /dev"));
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string host_node = std::string("/dev/") + node;
    if (::access(host_node.c_str(), F_OK) != 0) continue;
    std::string target = dev.host + "/" + node;
    plan.ops.push_back(path_op(Kind::touch, target));
    plan.ops.push_back(mount_op(host_node, target, "", MS_BIND, "", "bind-mount " + host_node));
  }
  plan.ops.push_back(path_op(Kind::mkdir, dev.host + "/pts"));
  SetupOp pts = mount_op("devpts", dev.host + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                         "newinstance,ptmxmode=0666,mode=0620", "mount devpts on /dev/pts");
  pts.optional = true;
  plan.ops.push_back(std::move(pts));
  plan.ops.push_back(path_op(Kind::symlink, dev.host + "/ptmx", "pts/ptmx", true));
  plan.ops.push_back(path_op(Kind::mkdir, dev.host + "/shm"));
  plan.ops.push_back(mount_op("shm", dev.host + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k",
                              "mount a tmpfs on /dev/shm"));
  const std::pair<const char*, const char*> links[] = {
      {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
  for (const auto& [name, text] : links) plan.ops.push_back(path_op(Kind::symlink, dev.host + "/" + name, text));

  RootPath sys = TRY(ph.ensure("/sys", NodeKind::directory));
  SetupOp sysfs = make_op(Kind::sysfs, "mount a read-only sysfs on /sys");
  sysfs.target = sys.host;
  plan.ops.push_back(std::move(sysfs));

  char hostname[256] = {};
  if (::gethostname(hostname, sizeof hostname - 1) != 0) std::strcpy(hostname, "localhost");
  for (const char* name : {"resolv.conf", "hosts", "hostname"}) {
    std::string content;
    if (std::string_view(name) == "hostname") {
      content = std::string(hostname) + "\n";
    } else {
      auto host = read_host_file(std::string("/etc/") + name);
      if (!host) {
        if (host.error().kind() == ErrorKind::not_found) continue;
        return fail(host.error());
      }
      content = std::move(*host);
    }
    std::string copy = scratch + "/" + name;
    TRY(write_host_file(copy, content, 0644));
    RootPath target = TRY(ph.ensure(std::string("/etc/") + name, NodeKind::file));
    plan.ops.push_back(mount_op(copy, target.host, "", MS_BIND, "", std::string("bind-mount /etc/") + name));
    res.add_masked(target.rel);
  }
  (void)request;
  return {};
}

}  // namespace

Result<std::string> StepResources::scratch_dir(const std::string& temp_dir) {
  if (!m_scratch.empty()) return m_scratch;
  std::string base = temp_dir;
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env != nullptr && *env != '\0' ? env : "/tmp";
  }
  std::string tmpl = base + "/strata-run-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return fail_errno("mkdtemp " + tmpl, errno);
  m_scratch = tmpl;
  return m_scratch;
}

std::vector<std::string> StepResources::masked_paths() const {
  std::vector<std::string> out = m_masked;
  out.insert(out.end(), m_placeholders.created().begin(), m_placeholders.created().end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void StepResources::release() {
  m_placeholders.cleanup();
  std::error_code ec;
  for (const auto& path : m_remove) std::filesystem::remove_all(path, ec);
  m_remove.clear();
  if (!m_scratch.empty()) std::filesystem::remove_all(m_scratch, ec);
  m_scratch.clear();
  m_fds.clear();
}


Result<void> plan_mounts(Isolation isolation, const RunRequest& request, StepPlan& plan, StepResources& res) {
  const bool chroot_mode = isolation == Isolation::chroot;
  if (chroot_mode || !request.mounts.empty()) {
    plan.new_mount_ns = true;
    plan.ops.push_back(make_op(Kind::make_private, "make the mount namespace private"));
  }
  std::string scratch;
  if (chroot_mode || !request.mounts.empty()) scratch = TRY(res.scratch_dir(request.temp_dir));
  if (chroot_mode) {
    TRY_CTX(plan_system_mounts(request, plan, res, scratch), "isolation setup");
  } else {
    for (const char* name : {"etc/resolv.conf", "etc/hosts", "etc/hostname"}) {
      if (::access(join_root(plan.root, name).c_str(), F_OK) == 0) res.add_masked(name);
    }
  }
  return plan_run_mounts(request, plan, res, scratch);
}

}  // namespace strata::run::detail
