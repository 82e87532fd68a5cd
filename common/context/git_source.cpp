// Git contexts through the git CLI (fork/exec), not libgit2: the CLI is what CI
// images already carry and what developers debug with; it speaks every
// transport (git://, smart and dumb HTTP, protocol v2), does shallow fetches of
// any ref or commit and submodules, and honours the user's git configuration
// (proxies, insteadOf). libgit2 would add a library, still need OpenSSL/ssh
// wiring, and has no shallow clone in Debian 12's version (1.5).
//
// Steps, in an empty directory:
//   git init; git remote add origin URL
//   git fetch --depth=1 origin REF|COMMIT            (REF defaults to HEAD;
//   --git branch=B → B)
//     (a commit a server will not serve by id: fetch REF in full, then check
//     the commit out)
//   git checkout --detach FETCH_HEAD|COMMIT
//   [single-branch=false] git fetch --depth=1 origin
//   +refs/heads/*:refs/remotes/origin/* [recurse-submodules]  git submodule
//   update --init --recursive --depth=1
// The .git directory is kept, as kaniko's clone keeps it (.dockerignore may
// exclude it).
//
// git:// contexts are fetched over GIT_PULL_METHOD (kaniko: https unless
// "http"); "git" (a Strata extension) keeps the git protocol itself. https://
// and http:// URLs are used as given.
//
// Credentials (GIT_USERNAME/GIT_PASSWORD, or GIT_TOKEN as the user name with an
// empty password, as kaniko; or user:password@ in the URL, which is stripped
// from it) never reach argv or the URL: they sit in the child's environment and
// a credential helper given through GIT_CONFIG_COUNT prints them to git.
// GIT_TERMINAL_PROMPT=0: git never waits for a terminal.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "build/context.hpp"
#include "context/fetch.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

extern char **environ;

namespace strata::context {
namespace {

struct GitRun {
  int status = 0;
  std::string output; // stderr + stdout, tail
};

class GitRunner {
public:
  GitRunner(const FetchEnv &env, std::string dir,
            std::vector<std::string> extra_env)
      : m_env(env), m_dir(std::move(dir)), m_extra(std::move(extra_env)) {}

  Result<GitRun> run(const std::vector<std::string> &args) const {
    char tmpl[] = "/tmp/strata-git-XXXXXX";
    int out_fd = ::mkstemp(tmpl);
    if (out_fd < 0)
      return fail_errno("create temp file", errno);
    ::unlink(tmpl);
    util::Fd out(out_fd);
    std::vector<std::string> argv{m_env.git_binary};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char *> cargv;
    for (auto &a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    // The child's environment: ours, minus what we set, plus ours.
    std::vector<std::string> envs;
    for (char **e = environ; *e != nullptr; ++e) {
      std::string_view kv(*e);
      std::string_view name = kv.substr(0, kv.find('='));
      bool overridden = false;
      for (const auto &x : m_extra)
        overridden |= x.substr(0, x.find('=')) == name;
      if (!overridden && !name.starts_with("GIT_CONFIG_KEY_") &&
          !name.starts_with("GIT_CONFIG_VALUE_"))
        envs.emplace_back(kv);
    }
    envs.insert(envs.end(), m_extra.begin(), m_extra.end());
    std::vector<char *> cenv;
    for (auto &e : envs)
      cenv.push_back(e.data());
    cenv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, out.get(), 2);
    posix_spawn_file_actions_addchdir_np(&actions, m_dir.c_str());
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(),
                            cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      if (rc == ENOENT)
        return fail(ErrorKind::unsupported,
                    "git contexts need the git binary (" + m_env.git_binary +
                        ") in PATH");
      return fail_errno("run " + m_env.git_binary, rc);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR)
        return fail_errno("wait for git", errno);
    }
    GitRun r;
    ::lseek(out.get(), 0, SEEK_SET);
    r.output = TRY(build::read_small_file(out.get(), "git output"));
    if (r.output.size() > 2000)
      r.output = r.output.substr(r.output.size() - 2000);
    while (!r.output.empty() &&
           (r.output.back() == '\n' || r.output.back() == ' '))
      r.output.pop_back();
    r.output = log::redact(r.output);
    r.status = WIFEXITED(status)
                   ? WEXITSTATUS(status)
                   : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (r.status == 127)
      return fail(ErrorKind::unsupported, "git contexts need the git binary (" +
                                              m_env.git_binary + ")");
    return r;
  }

  Result<void> must(const std::vector<std::string> &args,
                    std::string_view doing) const {
    GitRun r = TRY(run(args));
    if (r.status == 0)
      return {};
    return fail(classify(r.output),
                m_env.what + ": " + std::string(doing) + " failed (git exit " +
                    std::to_string(r.status) + "): " + r.output);
  }

  static ErrorKind classify(const std::string &out) {
    if (out.find("Authentication failed") != std::string::npos ||
        out.find("could not read Username") != std::string::npos ||
        out.find("401") != std::string::npos ||
        out.find("403") != std::string::npos)
      return ErrorKind::unauthorized;
    if (out.find("couldn't find remote ref") != std::string::npos ||
        out.find("not found") != std::string::npos ||
        out.find("does not appear to be a git repository") !=
            std::string::npos ||
        out.find("not our ref") != std::string::npos ||
        out.find("reference is not a tree") != std::string::npos ||
        out.find("did not match any") != std::string::npos)
      return ErrorKind::not_found;
    if (out.find("Could not resolve host") != std::string::npos ||
        out.find("Connection refused") != std::string::npos ||
        out.find("unable to connect") != std::string::npos ||
        out.find("Failed to connect") != std::string::npos)
      return ErrorKind::network;
    return ErrorKind::invalid_argument;
  }

private:
  const FetchEnv &m_env;
  std::string m_dir;
  std::vector<std::string> m_extra;
};

// Splits "scheme://user:pass@host/path" → url without userinfo; user/pass out.
std::string strip_userinfo(const std::string &url, std::string &user,
                           std::string &password) {
  std::size_t start = url.find("://") + 3;
  std::size_t end = url.find('/', start);
  std::size_t at =
      url.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start)
    return url;
  std::string info = url.substr(start, at - start);
  std::size_t colon = info.find(':');
  user = info.substr(0, colon);
  if (colon != std::string::npos)
    password = info.substr(colon + 1);
  return url.substr(0, start) + url.substr(at + 1);
}

} // namespace

Result<void> fetch_git(const FetchEnv &env, const ContextSpec &spec,
                       const GitOptions &options, const std::string &dest) {
  GitLocation loc = TRY(split_git_location(spec.location));
  std::string url = loc.url;
  if (url.starts_with("git://")) {
    std::string method = env_or(env.env, "GIT_PULL_METHOD", "https");
    if (method != "http" && method != "git")
      method = "https";
    if (method != "git")
      url = method + "://" + url.substr(6);
  }
  std::string user, password;
  url = strip_userinfo(url, user, password);
  if (auto token = env_or(env.env, "GIT_TOKEN"); !token.empty()) {
    user = token;
    password.clear();
  } else if (user.empty() && password.empty()) {
    user = env_or(env.env, "GIT_USERNAME");
    password = env_or(env.env, "GIT_PASSWORD");
  }
  log::add_secret(password);
  if (password.empty())
    log::add_secret(user); // a token

  std::vector<std::string> extra{
      "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false",
      "SSH_ASKPASS=/bin/false", "STRATA_GIT_USERNAME=" + user,
      "STRATA_GIT_PASSWORD=" + password};
  std::vector<std::pair<std::string, std::string>> config{
      {"credential.helper", ""}, {"protocol.version", "2"}};
  if (!user.empty() || !password.empty()) {
    config.emplace_back(
        "credential.helper",
        "!f() { test \"$1\" = get || exit 0; printf "
        "'username=%s\\npassword=%s\\n' "
        "\"$STRATA_GIT_USERNAME\" \"$STRATA_GIT_PASSWORD\"; }; f");
  }
  if (options.insecure_skip_tls)
    config.emplace_back("http.sslVerify", "false");
  if (auto ca = env_or(env.env, "SSL_CERT_FILE");
      !ca.empty() && !env.env("GIT_SSL_CAINFO"))
    extra.push_back("GIT_SSL_CAINFO=" + ca);
  extra.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
  for (std::size_t i = 0; i < config.size(); ++i) {
    extra.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" +
                    config[i].first);
    extra.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" +
                    config[i].second);
  }
  GitRunner git(env, dest, std::move(extra));

  std::string ref = loc.ref;
  if (!options.branch.empty())
    ref = options.branch;
  std::string shown = url + (ref.empty() ? "" : "#" + ref) +
                      (loc.commit.empty() ? "" : "#" + loc.commit);
  log::info("fetching git context " + shown);

  TRY(git.must({"init", "-q"}, "git init"));
  TRY(git.must({"remote", "add", "origin", url}, "git remote add"));
  std::string fetch_ref = ref.empty() ? "HEAD" : ref;
  std::string checkout = "FETCH_HEAD";
  if (!loc.commit.empty()) {
    checkout = loc.commit;
    // Servers speaking protocol v2 (or allowing reachable SHA-1s) serve a
    // commit by id.
    GitRun shallow = TRY(git.run(
        {"fetch", "-q", "--no-tags", "--depth=1", "origin", loc.commit}));
    if (shallow.status != 0) {
      log::debug("git: fetching commit " + loc.commit +
                 " by id failed, fetching " + fetch_ref +
                 " in full: " + shallow.output);
      TRY(git.must({"fetch", "-q", "--no-tags", "origin", fetch_ref},
                   "git fetch " + fetch_ref));
    }
  } else {
    TRY(git.must({"fetch", "-q", "--no-tags", "--depth=1", "origin", fetch_ref},
                 "git fetch " + fetch_ref));
  }
  TRY(git.must({"-c", "advice.detachedHead=false", "checkout", "-q", "--detach",
                checkout},
               "git checkout " + checkout));
  if (!options.single_branch)
    TRY(git.must({"fetch", "-q", "--no-tags", "--depth=1", "origin",
                  "+refs/heads/*:refs/remotes/origin/*"},
                 "git fetch of all branches"));
  if (options.recurse_submodules) {
    GitRun sub = TRY(git.run(
        {"submodule", "update", "-q", "--init", "--recursive", "--depth=1"}));
    if (sub.status != 0)
      TRY(git.must({"submodule", "update", "-q", "--init", "--recursive"},
                   "git submodule update"));
  }
  return {};
}

} // namespace strata::context
