// Planning a COPY/ADD: every source resolved, every object listed with its final metadata, and
// nothing written to the image. See copy.hpp for the contract and docs/copy.md for the rules.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "build/add_archive.hpp"
#include "build/add_remote.hpp"
#include "build/copy.hpp"
#include "build/copy_internal.hpp"
#include "build/copy_path.hpp"
#include "dockerfile/dockerignore_pattern.hpp"
#include "fs/walker.hpp"

namespace strata::build {

CopyRequest CopyRequest::from_instruction(const dockerfile::CopyInstr& instr, std::string workdir) {
  CopyRequest r;
  r.is_add = instr.is_add;
  for (const auto& s : instr.sources) {
    if (s.inline_content) r.inline_sources.push_back({s.path, s.content});
    else r.sources.push_back(s.path);
  }
  r.destination = instr.destination;
  r.workdir = std::move(workdir);
  r.chown = instr.chown;
  r.chmod = instr.chmod;
  r.excludes = instr.excludes;
  r.parents = instr.parents;
  r.link = instr.link;
  r.keep_git_dir = instr.keep_git_dir;
  r.checksum = instr.checksum;
  return r;
}

CopyPlan::Roots::~Roots() {
  for (const auto& t : temps) {
    std::error_code ec;
    std::filesystem::remove_all(t, ec);
  }
}

std::uint64_t CopyPlan::total_bytes() const {
  std::uint64_t n = 0;
  for (const auto& item : m_items)
    for (const auto& e : item.entries)
      if (e.type == fs::FileType::regular && e.hardlink_of < 0) n += e.size;
  return n;
}

std::size_t CopyPlan::total_entries() const {
  std::size_t n = 0;
  for (const auto& item : m_items) n += item.entries.size();
  return n;
}

namespace {

std::int64_t ns_of(const timespec& ts) { return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error not_found(const std::string& cmd, std::string_view source, std::string_view why = {}) {
  std::string msg = cmd + " failed: \"/" + std::string(source) + "\": not found";
  if (!why.empty()) msg += " (" + std::string(why) + ")";
  return Error(ErrorKind::not_found, msg);
}

}  // namespace

class CopyPlanner {
 public:
  CopyPlanner(const CopyRequest& req, const CopyEnvironment& env) : m_req(req), m_env(env) {}

  Result<CopyPlan> run() {
    m_cmd = m_req.is_add ? "ADD" : "COPY";
    m_plan.m_roots = std::make_shared<CopyPlan::Roots>();
    if (m_req.chmod) TRY(validate_chmod(*m_req.chmod));
    if (!m_req.excludes.empty())
      m_excludes = TRY_CTX(dockerfile::DockerIgnore::from_patterns(m_req.excludes), m_cmd + " --exclude");
    if (!m_req.checksum.empty() && !m_req.is_add)
      return fail(ErrorKind::invalid_argument, "COPY does not support --checksum");
    if (!m_req.chown.empty()) {
      auto image = TRY(archive::RootDir::open(m_env.image_root));
      m_plan.m_owner = TRY(resolve_owner(image, m_req.chown));
    }
    TRY(plan_destination());
    if (m_req.sources.empty() && m_req.inline_sources.empty())
      return fail(ErrorKind::invalid_argument, m_cmd + " failed: no source files were specified");
    for (const auto& src : m_req.sources) TRY(plan_source(src));
    for (const auto& in : m_req.inline_sources) plan_inline(in);
    // A wildcard matching nothing is fine as long as another source gave something (docker,
    // kaniko, buildah; BuildKit allows even that).
    if (m_plan.m_items.empty() && !m_unmatched.empty())
      return fail(not_found(m_cmd, m_unmatched.front(), "no source files were specified"));
    std::size_t top = 0;
    for (const auto& item : m_plan.m_items) top += item.kind == ItemKind::archive ? 0 : 1;
    // Several objects cannot all be named `dest`: it is a directory (kaniko's rule; the classic
    // builder refused, BuildKit silently overwrote).
    if (top > 1) m_plan.m_dest_is_dir = true;
    m_plan.m_header = header();
    return std::move(m_plan);
  }

 private:
  Result<void> plan_destination() {
    const std::string& d = m_req.destination;
    std::string abs = d;
    if (abs.empty() || abs[0] != '/') abs = m_req.workdir + (m_req.workdir.ends_with('/') ? "" : "/") + d;
    m_plan.m_dest = normalize_source(abs);
    m_plan.m_dest_is_dir = d.empty() || d == "." || d.ends_with('/') || d.ends_with("/.");
    return {};
  }

  std::string header() const {
    std::string h = "strata-copy-v1\n";
    h += m_cmd + "\n";
    h += "dest=/" + m_plan.m_dest + (m_plan.m_dest_is_dir ? "/" : "") + "\n";
    h += "chmod=" + (m_req.chmod ? m_req.chmod->text : std::string()) + "\n";
    h += "owner=" + std::to_string(m_plan.m_owner.uid) + ":" + std::to_string(m_plan.m_owner.gid) + "\n";
    h += std::string("parents=") + (m_req.parents ? "1" : "0") + "\n";
    for (const auto& e : m_req.excludes) h += "exclude=" + e + "\n";
    return h;
  }

  std::size_t add_root(SourceRoot root) {
    m_plan.m_roots->roots.push_back(std::move(root));
    return m_plan.m_roots->roots.size() - 1;
  }

  Result<std::string> make_temp() {
    std::string base = m_env.temp_dir;
    if (base.empty()) {
      const char* t = std::getenv("TMPDIR");
      base = t && *t ? t : "/tmp";
    }
    std::string tmpl = base + "/strata-add-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return fail_errno("create temp dir in " + base, errno);
    m_plan.m_roots->temps.push_back(tmpl);
    return tmpl;
  }

  std::uint32_t final_mode(std::uint32_t mode, bool is_dir) const {
    if (!m_req.chmod) return mode & 07777;
    auto m = apply_chmod(*m_req.chmod, mode & 07777, is_dir);
    return m ? *m : (mode & 07777);  // validated up front
  }

  CopyEntry entry_from_stat(std::string rel, const struct stat& st) const {
    CopyEntry e;
    e.rel = std::move(rel);
    e.type = fs::file_type_of(st.st_mode);
    bool dir = S_ISDIR(st.st_mode);
    e.mode = S_ISLNK(st.st_mode) ? 0777 : final_mode(st.st_mode, dir);
    e.owner = m_env.keep_source_owners && m_req.chown.empty() ? Owner{st.st_uid, st.st_gid} : m_plan.m_owner;
    e.size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
    e.mtime_ns = ns_of(st.st_mtim);
    e.atime_ns = ns_of(st.st_atim);
    e.rdev = st.st_rdev;
    return e;
  }

  Result<void> plan_source(const std::string& src) {
    if (is_git_url(src) || is_http_url(src)) {
      if (!m_req.is_add)
        return fail(ErrorKind::invalid_argument, "COPY failed: source can't be a URL for COPY: " + src);
      return is_git_url(src) ? plan_git(src) : plan_url(src);
    }
    if (!m_req.checksum.empty())
      return fail(ErrorKind::invalid_argument, "ADD --checksum is only supported for HTTP(S) sources, not \"" + src + "\"");
    if (m_env.source == nullptr) return fail(ErrorKind::internal, m_cmd + ": no source root given");
    if (m_root_index < 0) m_root_index = static_cast<long>(add_root(*m_env.source));
    const SourceRoot& root = m_plan.m_roots->roots[static_cast<std::size_t>(m_root_index)];

    std::string pivot;
    std::string pattern;
    if (m_req.parents) {
      // "a/./b/c": everything after the "/./" pivot is kept below the destination.
      std::size_t cut = src.find("/./");
      if (cut != std::string::npos) {
        pivot = normalize_source(src.substr(0, cut));
        pattern = normalize_source(src.substr(cut + 3));
      } else {
        pattern = normalize_source(src);
      }
    } else {
      pattern = normalize_source(src);
    }
    std::string full = join_rel(pivot, pattern);
    auto [head, tail] = split_wildcards(full);
    std::vector<std::string> matches;
    if (tail.empty()) {
      matches.push_back(head);
    } else {
      auto resolved = root.resolve(head);
      if (!resolved) {
        if (resolved.error().kind() != ErrorKind::not_found) return fail(resolved.error().with_context(m_cmd + " " + src));
        m_unmatched.push_back(src);
        return {};
      }
      TRY(expand_glob(root, *resolved, tail, matches));
      if (matches.empty()) {
        m_unmatched.push_back(src);
        return {};
      }
    }
    std::size_t before = m_plan.m_items.size();
    for (const auto& match : matches) {
      // --exclude also filters what a source itself names (docs: ADD --exclude=*.txt hom* /d/).
      if (!m_excludes.empty() && !match.empty() && m_excludes.excluded(relative_to(match, pivot))) continue;
      TRY(plan_match(root, src, match, pivot));
    }
    if (m_plan.m_items.size() == before && !tail.empty())
      return fail(not_found(m_cmd, src, "every match is excluded"));
    return {};
  }

  static std::string relative_to(const std::string& path, const std::string& base) {
    if (base.empty()) return path;
    if (path == base) return "";
    return path.substr(base.size() + 1);
  }

  Result<void> expand_glob(const SourceRoot& root, const std::string& base, const std::string& tail,
                           std::vector<std::string>& out) {
    int fd = root.dir().open_raw(base, O_RDONLY | O_DIRECTORY);
    if (fd == -ENOTDIR || fd == -ENOENT) return {};
    if (fd < 0) return fail_errno("open \"/" + base + "\"", -fd);
    util::Fd dir(fd);
    std::optional<Error> err;
    fs::WalkOptions opts;
    opts.one_filesystem = false;
    TRY(fs::walk_at(dir.get(), "/" + base, opts, [&](const fs::WalkEntry& e) {
      std::string ctx_path = join_rel(base, e.path);
      bool is_dir = S_ISDIR(e.st.st_mode);
      if (!root.visible(ctx_path, is_dir)) return fs::WalkAction::skip_subtree;
      auto m = go_path_match(tail, e.path);
      if (!m) {
        err = m.error();
        return fs::WalkAction::stop;
      }
      if (*m) {
        out.push_back(ctx_path);
        return fs::WalkAction::skip_subtree;
      }
      return fs::WalkAction::proceed;
    }));
    if (err) return fail(*err);
    return {};
  }

  Result<void> plan_match(const SourceRoot& root, const std::string& src, const std::string& match,
                          const std::string& pivot) {
    auto resolved = root.resolve(match);
    if (!resolved) {
      if (resolved.error().kind() == ErrorKind::not_found) return fail(not_found(m_cmd, match));
      return fail(resolved.error().with_context(m_cmd + " " + src));
    }
    int fd = root.dir().open_raw(*resolved, O_PATH | O_NOFOLLOW);
    if (fd < 0) return fail_errno(m_cmd + " \"/" + match + "\"", -fd);
    util::Fd obj(fd);
    struct stat st;
    if (::fstat(obj.get(), &st) != 0) return fail_errno("stat \"/" + match + "\"", errno);

    CopyItem item;
    item.display = src;
    item.source_rel = *resolved;
    item.name = std::string(base_name(match));
    item.root_index = static_cast<std::size_t>(m_root_index);
    item.is_dir = S_ISDIR(st.st_mode);
    if (m_req.parents) {
      item.parents_rel = relative_to(match, pivot);
      TRY(plan_parent_dirs(root, pivot, item));
    }
    if (m_req.is_add && S_ISREG(st.st_mode)) {
      int rfd = root.dir().open_raw(*resolved, O_RDONLY | O_NOFOLLOW);
      if (rfd < 0) return fail_errno("open \"/" + match + "\"", -rfd);
      util::Fd file(rfd);
      if (TRY(is_tar_archive(file.get()))) item.kind = ItemKind::archive;
    }
    item.entries.push_back(entry_from_stat("", st));
    if (item.is_dir) TRY(walk_dir(root, *resolved, item));
    m_plan.m_items.push_back(std::move(item));
    return {};
  }

  // --parents keeps the directories between the pivot and the match; they are created with the
  // metadata of their source directories, as fsutil's createParentDirs does.
  Result<void> plan_parent_dirs(const SourceRoot& root, const std::string& pivot, CopyItem& item) {
    std::string rel;
    std::string_view kept = item.parents_rel;
    std::size_t pos = 0;
    while (true) {
      std::size_t slash = kept.find('/', pos);
      if (slash == std::string_view::npos) break;
      rel = std::string(kept.substr(0, slash));
      pos = slash + 1;
      struct stat st;
      int fd = root.dir().open_raw(join_rel(pivot, rel), O_PATH);
      if (fd < 0) return fail_errno("stat \"/" + join_rel(pivot, rel) + "\"", -fd);
      util::Fd d(fd);
      if (::fstat(d.get(), &st) != 0) return fail_errno("stat \"/" + rel + "\"", errno);
      item.parent_dirs.push_back(entry_from_stat(rel, st));
    }
    return {};
  }

  Result<void> walk_dir(const SourceRoot& root, const std::string& base, CopyItem& item) {
    int fd = root.dir().open_raw(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) return fail_errno("open \"/" + base + "\"", -fd);
    util::Fd dir(fd);
    // Directories hidden by the ignore rules but holding re-included files wait here, and are
    // created only if something below them is.
    std::vector<CopyEntry> pending;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::size_t> inodes;
    fs::WalkOptions opts;
    opts.one_filesystem = false;
    TRY(fs::walk_at(dir.get(), "/" + base, opts, [&](const fs::WalkEntry& e) {
      std::string path(e.path);
      while (!pending.empty() && !fs::path_is_under(path, pending.back().rel)) pending.pop_back();
      bool is_dir = S_ISDIR(e.st.st_mode);
      std::string ctx_path = join_rel(base, path);
      bool hidden_ctx = !root.ignore().empty() && root.ignore().excluded(ctx_path);
      bool hidden_ex = !m_excludes.empty() && m_excludes.excluded(path);
      if (hidden_ctx || hidden_ex) {
        if (!is_dir) return fs::WalkAction::proceed;
        bool skip_ctx = !hidden_ctx || root.ignore().can_skip_dir(ctx_path);
        bool skip_ex = !hidden_ex || m_excludes.can_skip_dir(path);
        if ((hidden_ctx && skip_ctx) || (hidden_ex && skip_ex)) return fs::WalkAction::skip_subtree;
        pending.push_back(entry_from_stat(path, e.st));
        return fs::WalkAction::proceed;
      }
      for (auto& p : pending) item.entries.push_back(std::move(p));
      pending.clear();
      CopyEntry entry = entry_from_stat(path, e.st);
      if (S_ISLNK(e.st.st_mode)) {
        std::string target(4096, '\0');
        ssize_t n = ::readlinkat(e.parent_fd, std::string(e.name).c_str(), target.data(), target.size());
        if (n >= 0) target.resize(static_cast<std::size_t>(n));
        else target.clear();
        entry.link_target = std::move(target);
      }
      if (S_ISREG(e.st.st_mode) && e.st.st_nlink > 1) {
        auto key = std::make_pair(static_cast<std::uint64_t>(e.st.st_dev), static_cast<std::uint64_t>(e.st.st_ino));
        auto [it, fresh] = inodes.emplace(key, item.entries.size());
        if (!fresh) entry.hardlink_of = static_cast<std::int64_t>(it->second);
      }
      item.entries.push_back(std::move(entry));
      return fs::WalkAction::proceed;
    }));
    return {};
  }

  void plan_inline(const InlineSource& in) {
    CopyItem item;
    item.kind = ItemKind::inline_file;
    item.display = "<<" + in.name;
    item.name = std::string(base_name(normalize_source(in.name)));
    item.inline_content = in.content;
    CopyEntry e;
    e.type = fs::FileType::regular;
    e.mode = final_mode(0644, false);
    e.owner = m_plan.m_owner;
    e.size = in.content.size();
    e.mtime_ns = e.atime_ns = now_ns();
    e.content = digest::sha256(in.content);
    item.entries.push_back(std::move(e));
    m_plan.m_items.push_back(std::move(item));
  }

  Result<void> plan_url(const std::string& url) {
    if (m_env.transport == nullptr)
      return fail(ErrorKind::unsupported, "ADD " + url + ": no HTTP transport available");
    std::string dir = TRY(make_temp());
    Download dl = TRY(download_url(*m_env.transport, url, dir, m_req.checksum));
    std::string name = "file";
    if (::renameat(AT_FDCWD, dl.path.c_str(), AT_FDCWD, (dir + "/" + name).c_str()) != 0)
      return fail_errno("rename " + dl.path, errno);
    std::size_t idx = add_root(TRY(SourceRoot::open_tree(dir)));
    CopyItem item;
    item.display = url;
    item.source_rel = name;
    item.name = dl.filename;
    item.root_index = idx;
    CopyEntry e;
    e.type = fs::FileType::regular;
    e.mode = final_mode(0600, false);
    e.owner = m_plan.m_owner;
    e.size = dl.size;
    e.mtime_ns = e.atime_ns = dl.mtime_ns.value_or(now_ns());
    e.content = dl.digest;
    item.entries.push_back(std::move(e));
    m_plan.m_items.push_back(std::move(item));
    return {};
  }

  Result<void> plan_git(const std::string& url) {
    if (!m_req.checksum.empty())
      return fail(ErrorKind::unsupported, "ADD --checksum is not supported for git sources: " + url);
    GitSource git = TRY(parse_git_source(url));
    std::string dir = TRY(make_temp());
    TRY(git_clone(m_env.git_binary, git, dir, m_req.keep_git_dir));
    std::size_t idx = add_root(TRY(SourceRoot::open_tree(dir)));
    const SourceRoot& root = m_plan.m_roots->roots[idx];
    std::string sub = normalize_source(git.subdir);
    auto resolved = root.resolve(sub);
    if (!resolved) return fail(not_found("ADD", git.subdir, url));
    int fd = root.dir().open_raw(*resolved, O_PATH | O_NOFOLLOW);
    if (fd < 0) return fail_errno("ADD " + url, -fd);
    util::Fd obj(fd);
    struct stat st;
    if (::fstat(obj.get(), &st) != 0) return fail_errno("stat", errno);
    CopyItem item;
    item.display = url;
    item.source_rel = *resolved;
    item.name = std::string(base_name(*resolved));
    item.root_index = idx;
    item.is_dir = S_ISDIR(st.st_mode);
    item.entries.push_back(entry_from_stat("", st));
    if (item.is_dir) TRY(walk_dir(root, *resolved, item));
    m_plan.m_items.push_back(std::move(item));
    return {};
  }

  const CopyRequest& m_req;
  const CopyEnvironment& m_env;
  std::string m_cmd;
  CopyPlan m_plan;
  dockerfile::DockerIgnore m_excludes;
  long m_root_index = -1;
  std::vector<std::string> m_unmatched;  // wildcard sources that matched nothing
};

Result<CopyPlan> plan_copy(const CopyRequest& request, const CopyEnvironment& env) {
  CopyPlanner planner(request, env);
  return planner.run();
}

}  // namespace strata::build
