#include "build/add_remote.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "archive/root_dir.hpp"
#include "build/context.hpp"
#include "transport/transport.hpp"

extern char** environ;

namespace strata::build {
namespace {

std::string strip_query(std::string_view url) {
  std::size_t cut = url.find_first_of("?#");
  return std::string(url.substr(0, cut));
}

Result<void> write_all(int fd, const char* data, std::size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t put = ::write(fd, data, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + what, errno);
    }
    data += put;
    n -= static_cast<std::size_t>(put);
  }
  return {};
}

std::string resolve_location(const std::string& base, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return location;
  std::size_t scheme = base.find("://");
  std::size_t host_end = base.find('/', scheme + 3);
  std::string origin = host_end == std::string::npos ? base : base.substr(0, host_end);
  if (location.starts_with("/")) return origin + location;
  std::string path = strip_query(base);
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash < scheme + 3) return origin + "/" + location;
  return path.substr(0, slash + 1) + location;
}

// Runs argv, capturing stderr into a temp file. Returns the exit status.
Result<int> run_command(const std::vector<std::string>& argv, const std::string& cwd, std::string& err_out) {
  char tmpl[] = "/tmp/strata-git-err-XXXXXX";
  int err_fd = ::mkstemp(tmpl);
  if (err_fd < 0) return fail_errno("create temp file", errno);
  ::unlink(tmpl);
  util::Fd err_guard(err_fd);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail_errno("run " + argv[0], rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("wait for " + argv[0], errno);
  }
  ::lseek(err_fd, 0, SEEK_SET);
  err_out = TRY(read_small_file(err_fd, "git output"));
  if (err_out.size() > 2000) err_out = err_out.substr(err_out.size() - 2000);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

bool is_http_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

bool is_git_url(std::string_view s) {
  if (s.starts_with("git@") || s.starts_with("git://") || s.starts_with("ssh://")) return true;
  if (!is_http_url(s)) return false;
  std::string path = strip_query(s);
  return path.ends_with(".git") || path.ends_with(".git/");
}

Result<GitSource> parse_git_source(std::string_view source) {
  GitSource out;
  std::size_t hash = source.find('#');
  out.remote = std::string(source.substr(0, hash));
  if (hash != std::string_view::npos) {
    std::string_view frag = source.substr(hash + 1);
    std::size_t colon = frag.find(':');
    out.ref = std::string(frag.substr(0, colon));
    if (colon != std::string_view::npos) out.subdir = std::string(frag.substr(colon + 1));
  }
  if (out.remote.empty()) return fail(ErrorKind::invalid_argument, "invalid git source \"" + std::string(source) + "\"");
  if (out.ref.starts_with("-") || out.remote.starts_with("-"))
    return fail(ErrorKind::invalid_argument, "invalid git source \"" + std::string(source) + "\"");
  return out;
}

std::string url_file_name(std::string_view url) {
  std::string path = strip_query(url);
  std::size_t scheme = path.find("://");
  std::size_t slash = path.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "__unnamed__";
  std::string p = path.substr(slash);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  std::size_t last = p.rfind('/');
  std::string base = p.substr(last + 1);
  if (base.empty() || base == "." || base == "..") return "__unnamed__";
  return base;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::string s(text);
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm)) * 1000000000;
  }
  return std::nullopt;
}

Result<Download> download_url(transport::Transport& transport, const std::string& url, const std::string& dir,
                              const std::string& checksum) {
  std::optional<digest::Digest> expected;
  if (!checksum.empty()) {
    auto d = digest::Digest::parse(checksum);
    if (!d) return fail(ErrorKind::invalid_argument, "invalid --checksum=" + checksum + ": " + d.error().message());
    expected = *d;
  }
  Download out;
  out.filename = url_file_name(url);
  out.path = dir + "/download-XXXXXX";
  int fd = ::mkstemp(out.path.data());
  if (fd < 0) return fail_errno("create temp file in " + dir, errno);
  util::Fd file(fd);
  std::string current = url;
  for (int hop = 0;; ++hop) {
    if (::ftruncate(file.get(), 0) != 0 || ::lseek(file.get(), 0, SEEK_SET) != 0)
      return fail_errno("reset " + out.path, errno);
    digest::Hasher hasher(expected ? expected->algorithm() : digest::Algorithm::sha256);
    transport::Request req;
    req.url = current;
    req.body_sink = [&](const char* data, std::size_t n) -> Result<void> {
      hasher.update(data, n);
      return write_all(file.get(), data, n, out.path);
    };
    auto resp = TRY_CTX(transport.perform(req), "ADD " + url);
    if (resp.status >= 300 && resp.status < 400) {
      auto location = resp.headers.get("Location");
      if (!location || hop >= 10)
        return fail(ErrorKind::invalid_argument, "ADD " + url + ": redirect without Location or too many redirects");
      current = resolve_location(current, *location);
      if (!is_http_url(current)) return fail(ErrorKind::invalid_argument, "ADD " + url + ": redirect to " + current);
      continue;
    }
    if (resp.status < 200 || resp.status >= 300)
      return fail(transport::status_error(resp.status, "ADD: GET " + current, resp.body));
    out.size = hasher.bytes();
    out.digest = hasher.finish();
    if (auto lm = resp.headers.get("Last-Modified")) out.mtime_ns = parse_http_date(*lm);
    break;
  }
  if (expected && out.digest != *expected)
    return fail(ErrorKind::corrupt, "ADD " + url + ": checksum mismatch: expected " + expected->str() + ", got " +
                                        out.digest.str());
  if (::fchmod(file.get(), 0600) != 0) return fail_errno("chmod " + out.path, errno);
  if (::close(file.release()) != 0) return fail_errno("close " + out.path, errno);
  return out;
}

Result<void> git_clone(const std::string& git_binary, const GitSource& source, const std::string& dir,
                       bool keep_git_dir) {
  std::string err;
  auto run = [&](std::vector<std::string> argv) -> Result<void> {
    argv.insert(argv.begin(), git_binary);
    int status = 0;
    if (auto r = run_command(argv, dir, err); !r) {
      if (r.error().kind() == ErrorKind::not_found)
        return fail(ErrorKind::unsupported, "ADD of a git repository needs the git binary (" + git_binary + ")");
      return fail(r.error());
    } else {
      status = *r;
    }
    if (status == 127) return fail(ErrorKind::unsupported, "ADD of a git repository needs the git binary (" + git_binary + ")");
    if (status != 0)
      return fail(ErrorKind::not_found, "git " + argv[1] + " " + source.remote + (source.ref.empty() ? "" : "#" + source.ref) +
                                            " failed (exit " + std::to_string(status) + "): " + err);
    return {};
  };
  TRY(run({"init", "-q"}));
  TRY(run({"remote", "add", "origin", source.remote}));
  std::string ref = source.ref.empty() ? "HEAD" : source.ref;
  // A shallow fetch of a ref name or full commit id; servers refusing unadvertised commits get a
  // full fetch as second try.
  if (!run({"fetch", "-q", "--depth=1", "origin", ref})) TRY(run({"fetch", "-q", "origin", ref}));
  TRY(run({"checkout", "-q", "FETCH_HEAD"}));
  TRY(run({"submodule", "update", "-q", "--init", "--recursive", "--depth=1"}));
  if (!keep_git_dir) {
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail_errno("open " + dir, errno);
    util::Fd d(fd);
    TRY(archive::remove_all_at(d.get(), ".git"));
  }
  return {};
}

}  // namespace strata::build
