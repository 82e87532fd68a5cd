// RUN --mount: what each type mounts where (the host side; step_exec.cpp makes the mounts).
//
// RUN --mount rules (BuildKit's): bind is read-only unless rw, and a rw bind writes into an
// overlay whose upper layer is a tmpfs private to the step, so writes vanish with it; cache
// dirs live under the caller's cache root, named by id, created with uid/gid/mode, with flock
// on a sibling lock file implementing sharing (shared: LOCK_SH, locked: LOCK_EX waiting,
// private: LOCK_EX or, when busy, a throwaway dir); secrets are copied into the scratch dir
// with their mode/owner and bound read-only, never into the root; ssh binds the agent socket.
//
// Targets are sorted by depth so that a parent mount never hides a child.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "digest/digest.hpp"
#include "run/step_plan.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"


namespace strata::run::detail {
namespace {

using Kind = SetupOp::Kind;

// overlayfs splits its options on ',' and lowerdir on ':'; a backslash escapes either.
std::string overlay_escape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == ':' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string cache_dir_name(std::string_view id) {
  std::string name;
  for (char c : id) {
    if (name.size() >= 40) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    name.push_back(ok ? c : '_');
  }
  while (!name.empty() && name.front() == '.') name.erase(name.begin());
  return name + "-" + digest::sha256(id).hex().substr(0, 16);
}

Result<void> make_owned_dir(const std::string& path, const MountSpec& m) {
  if (::mkdir(path.c_str(), 0700) != 0) return fail_errno("mkdir " + path, errno);
  if (::chown(path.c_str(), m.uid.value_or(0), m.gid.value_or(0)) != 0) return fail_errno("chown " + path, errno);
  if (::chmod(path.c_str(), m.mode.value_or(0755) & 07777) != 0) return fail_errno("chmod " + path, errno);
  return {};
}

Result<std::string> prepare_cache(const RunRequest& request, const MountSpec& m, const std::string& target,
                                  StepResources& res) {
  if (request.cache_root.empty()) {
    return fail(ErrorKind::invalid_argument, "no cache directory was configured for cache mounts");
  }
  std::error_code ec;
  std::filesystem::create_directories(request.cache_root, ec);
  if (ec) return fail(ErrorKind::io, "create " + request.cache_root + ": " + ec.message());
  const std::string name = cache_dir_name(m.id.empty() ? target : m.id);
  const std::string dir = request.cache_root + "/" + name;
  const std::string lock_path = dir + ".lock";
  util::Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) return fail_errno("open " + lock_path, errno);
  int how = m.sharing == CacheSharing::shared ? LOCK_SH : LOCK_EX;
  if (m.sharing == CacheSharing::private_) how |= LOCK_NB;
  while (::flock(lock.get(), how) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK && m.sharing == CacheSharing::private_) {
      // In use by another step: this one gets a fresh, empty instance of its own.
      std::string tmpl = dir + "-private-XXXXXX";
      if (::mkdtemp(tmpl.data()) == nullptr) return fail_errno("mkdtemp " + tmpl, errno);
      res.remove_later(tmpl);
      if (::rmdir(tmpl.c_str()) != 0) return fail_errno("rmdir " + tmpl, errno);
      TRY(make_owned_dir(tmpl, m));
      return tmpl;
    }
    return fail_errno("lock " + lock_path, errno);
  }
  res.keep_fd(std::move(lock));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    // Built beside and renamed, so a crash never leaves a cache dir with the wrong owner.
    std::string tmp = dir + ".new";
    std::filesystem::remove_all(tmp, ec);
    TRY(make_owned_dir(tmp, m));
    if (::rename(tmp.c_str(), dir.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
      return fail_errno("rename " + tmp, errno);
    }
  }
  return dir;
}

std::string describe(const MountSpec& m) {
  static const char* const k_kinds[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
  std::string out = std::string("--mount=type=") + k_kinds[static_cast<int>(m.kind)];
  if (!m.id.empty()) out += ",id=" + m.id;
  if (!m.target.empty()) out += ",target=" + m.target;
  return out;
}

// Where mount targets go. A target under an earlier RUN --mount (a bind at /a/b over a tmpfs at
// /a) cannot get its mount point from the host side — the earlier mount hides it — so that one
// is made by the child, after the earlier mount, with the path taken literally below it.
struct MountPoints {
  Placeholders& placeholders;
  StepPlan& plan;
  std::vector<std::string> mounted;  // rel paths of targets planned so far

  Result<RootPath> get(const std::string& target, NodeKind kind) {
    std::string rel = TRY(lexical_rel(target));
    for (const std::string& outer : mounted) {
      if (rel.size() > outer.size() && rel.compare(0, outer.size(), outer) == 0 && rel[outer.size()] == '/') {
        std::size_t pos = outer.size() + 1;
        while (true) {
          std::size_t slash = rel.find('/', pos);
          bool last = slash == std::string::npos;
          std::string host = join_root(plan.root, rel.substr(0, last ? rel.size() : slash));
          SetupOp o;
          o.kind = last && kind == NodeKind::file ? SetupOp::Kind::touch : SetupOp::Kind::mkdir;
          o.target = host;
          o.what = "create mount point " + target;
          plan.ops.push_back(std::move(o));
          if (last) break;
          pos = slash + 1;
        }
        mounted.push_back(rel);
        return RootPath{rel, join_root(plan.root, rel), true};
      }
    }
    RootPath resolved = TRY(placeholders.ensure(target, kind));
    mounted.push_back(resolved.rel);
    return resolved;
  }

  static Result<std::string> lexical_rel(std::string_view path) {
    std::vector<std::string_view> parts;
    for (auto part : util::path_components(path)) {
      if (part != "..") parts.push_back(part);
      else if (!parts.empty()) parts.pop_back();  // ".." above the root stays at the root
    }
    if (parts.empty()) return fail(ErrorKind::invalid_argument, "cannot mount over the root itself");
    return util::join_components(parts);
  }
};

std::size_t depth(std::string_view path) { return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')); }

Result<void> plan_one_mount(const RunRequest& request, const MountSpec& m, std::string target, int index,
                            StepPlan& plan, StepResources& res, const std::string& scratch, MountPoints& points) {
  const std::string what = describe(m);
  const std::string tag = std::to_string(index);
  switch (m.kind) {
    case MountKind::bind: {
      struct stat st;
      if (::stat(m.source.c_str(), &st) != 0) return fail_errno("source " + m.source, errno);
      bool is_dir = S_ISDIR(st.st_mode);
      RootPath t = TRY(points.get(target, is_dir ? NodeKind::directory : NodeKind::file));
      res.add_masked(t.rel);
      if (m.readonly.value_or(true)) {
        add_bind(plan, m.source, t.host, true, what);
      } else if (is_dir) {
        std::string layer = scratch + "/overlay-" + tag;
        if (::mkdir(layer.c_str(), 0700) != 0) return fail_errno("mkdir " + layer, errno);
        plan.ops.push_back(mount_op("tmpfs", layer, "tmpfs", 0, "mode=700", what + ": tmpfs for the writable layer"));
        plan.ops.push_back(path_op(Kind::mkdir, layer + "/upper"));
        plan.ops.push_back(path_op(Kind::mkdir, layer + "/work"));
        plan.ops.push_back(mount_op("overlay", t.host, "overlay", 0,
                                    "lowerdir=" + overlay_escape(m.source) + ",upperdir=" + layer +
                                        "/upper,workdir=" + layer + "/work",
                                    what + ": overlay"));
      } else {
        std::string copy = scratch + "/bind-" + tag;
        std::error_code ec;
        std::filesystem::copy_file(m.source, copy, ec);
        if (ec) return fail(ErrorKind::io, "copy " + m.source + ": " + ec.message());
        add_bind(plan, copy, t.host, false, what);
      }
      return {};
    }
    case MountKind::cache: {
      std::string dir = TRY(prepare_cache(request, m, target, res));
      RootPath t = TRY(points.get(target, NodeKind::directory));
      res.add_masked(t.rel);
      add_bind(plan, dir, t.host, m.readonly.value_or(false), what);
      return {};
    }
    case MountKind::tmpfs: {
      RootPath t = TRY(points.get(target, NodeKind::directory));
      res.add_masked(t.rel);
      std::string data = "mode=1777";
      if (m.size) data += ",size=" + std::to_string(*m.size);
      plan.ops.push_back(mount_op("tmpfs", t.host, "tmpfs", MS_NOSUID | MS_NODEV, data, what));
      return {};
    }
    case MountKind::secret: {
      if (m.source.empty() || ::access(m.source.c_str(), R_OK) != 0) {
        if (m.required) return fail(ErrorKind::not_found, "secret " + m.id + " not found (pass it with --secret id=" + m.id + ",src=FILE)");
        return {};
      }
      std::string value = TRY(read_host_file(m.source));
      log::add_secret(value);
      if (m.env) plan.env.push_back(*m.env + "=" + value);
      if (m.env && m.target.empty()) return {};
      std::string copy = scratch + "/secret-" + tag;
      TRY(write_host_file(copy, value, 0600));
      if (::chown(copy.c_str(), m.uid.value_or(0), m.gid.value_or(0)) != 0) return fail_errno("chown " + copy, errno);
      if (::chmod(copy.c_str(), m.mode.value_or(0400) & 07777) != 0) return fail_errno("chmod " + copy, errno);
      RootPath t = TRY(points.get(target, NodeKind::file));
      res.add_masked(t.rel);
      plan.ops.push_back(mount_op(copy, t.host, "", MS_BIND, "", what));
      SetupOp ro = make_op(Kind::remount_ro, what + " (read-only)");
      ro.target = t.host;
      ro.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
      plan.ops.push_back(std::move(ro));
      return {};
    }
    case MountKind::ssh: {
      if (m.source.empty()) {
        return fail(ErrorKind::unsupported,
                    "no SSH agent socket was given for this build (pass --ssh " + (m.id.empty() ? std::string("default") : m.id) +
                        "=PATH_TO_AGENT_SOCKET); forwarding SSH keys is not supported otherwise");
      }
      RootPath t = TRY(points.get(target, NodeKind::file));
      res.add_masked(t.rel);
      add_bind(plan, m.source, t.host, false, what);
      bool has_sock = std::any_of(plan.env.begin(), plan.env.end(),
                                  [](const std::string& e) { return e.rfind("SSH_AUTH_SOCK=", 0) == 0; });
      if (!has_sock) plan.env.push_back("SSH_AUTH_SOCK=" + target);
      return {};
    }
  }
  return fail(ErrorKind::internal, "unknown mount kind");
}


}  // namespace

Result<void> plan_run_mounts(const RunRequest& request, StepPlan& plan, StepResources& res,
                             const std::string& scratch) {
  std::vector<std::pair<std::string, const MountSpec*>> mounts;
  int ssh_count = 0;
  for (const MountSpec& m : request.mounts) {
    std::string target = m.target;
    if (target.empty() && m.kind == MountKind::secret) {
      if (m.id.empty()) return fail(ErrorKind::invalid_argument, describe(m) + ": a secret mount needs an id");
      if (!m.env) target = "/run/secrets/" + m.id;
    } else if (target.empty() && m.kind == MountKind::ssh) {
      target = "/run/buildkit/ssh_agent." + std::to_string(ssh_count);
    }
    if (m.kind == MountKind::ssh) ++ssh_count;
    if (!(m.kind == MountKind::secret && m.env && m.target.empty()) && (target.empty() || target[0] != '/')) {
      return fail(ErrorKind::invalid_argument, describe(m) + ": the target must be an absolute path");
    }
    mounts.emplace_back(std::move(target), &m);
  }
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const auto& a, const auto& b) { return depth(a.first) < depth(b.first); });
  int index = 0;
  MountPoints points{res.placeholders(), plan, {}};
  for (const auto& [target, m] : mounts) {
    TRY_CTX(plan_one_mount(request, *m, target, index++, plan, res, scratch, points), describe(*m));
  }
  return {};
}


}  // namespace strata::run::detail
