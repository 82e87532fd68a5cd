// Git contexts against `git daemon` (git://, GIT_PULL_METHOD=git) and smart
// HTTP through `git http-backend` behind busybox httpd with basic auth:
// branches, tags, refs/pull/N/head, commits, --context-sub-path, submodules,
// and credentials that never show.
#include "context_fixture.hpp"

namespace strata::itest {
namespace {

class GitContexts : public ContextTest {
protected:
  void SetUp() override {
    ContextTest::SetUp();
    if (IsSkipped())
      return;
    SKIP_UNLESS("git", "busybox");
    m_repos = file("repos");
    ASSERT_EQ(::mkdir(m_repos.c_str(), 0755), 0);
    m_git_port = ASSERT_OK(free_port());
    m_daemon = std::make_unique<Process>(ASSERT_OK(
        Process::start({.argv = {"git", "daemon", "--listen=127.0.0.1",
                                 "--port=" + std::to_string(m_git_port),
                                 "--base-path=" + m_repos, "--export-all",
                                 "--reuseaddr", m_repos}})));
    ASSERT_OK(
        wait_for_port(m_git_port, std::chrono::seconds(20), m_daemon.get()));
    make_repos();
  }

  std::string git_url(const std::string &repo) const {
    return "git://127.0.0.1:" + std::to_string(m_git_port) + "/" + repo;
  }

  // lib.git (a submodule) and app.git: main (v1 tagged v1.0, then v2), feature,
  // refs/pull/7/head, with-sub (lib as a submodule), and a sub directory "svc"
  // holding its own Dockerfile.
  void make_repos() {
    std::string w = file("work"), l = file("libwork");
    std::string g = "git -c user.name=t -c user.email=t@example.com -c "
                    "init.defaultBranch=main ";
    sh(g + "init -q --bare '" + m_repos + "/app.git' && " + g +
       "init -q --bare '" + m_repos + "/lib.git'");
    sh(g + "init -q '" + l + "' && cd '" + l +
       "' && echo lib > lib.txt && git add . && " + g +
       "commit -qm lib && git push -q '" + m_repos +
       "/lib.git' HEAD:refs/heads/main");
    std::string commit = "&& git add -A && " + g + "commit -qm ";
    sh(g + "init -q '" + w + "' && cd '" + w +
       "' && printf 'FROM scratch\\nCOPY hello.txt /hello.txt\\n' > Dockerfile "
       "&& echo v1 > hello.txt && mkdir svc && printf 'FROM scratch\\nCOPY "
       "hello.txt /hello.txt\\n' > svc/Dockerfile "
       "&& echo svc > svc/hello.txt " +
       commit +
       "v1 && git tag v1.0 && git rev-parse HEAD > ../v1.sha "
       "&& echo v2 > hello.txt " +
       commit +
       "v2 "
       "&& git checkout -qb feature && echo feature > hello.txt " +
       commit +
       "feature "
       "&& git checkout -q main && git checkout -qb pr && echo pr7 > "
       "hello.txt " +
       commit +
       "pr "
       "&& git checkout -q main && git checkout -qb with-sub && git submodule "
       "-q add '" +
       git_url("lib.git") +
       "' lib "
       "&& printf 'FROM scratch\\nCOPY lib/lib.txt /hello.txt\\n' > "
       "Dockerfile " +
       commit +
       "sub "
       "&& git push -q '" +
       m_repos + "/app.git' main feature with-sub v1.0 pr:refs/pull/7/head");
    m_v1 = value_or_empty(read_file(file("v1.sha")));
    while (!m_v1.empty() && m_v1.back() == '\n')
      m_v1.pop_back();
  }

  static std::string value_or_empty(Result<std::string> r) {
    return r ? *r : "";
  }

  std::string m_repos;
  int m_git_port = 0;
  std::unique_ptr<Process> m_daemon;
  std::string m_v1;
};

// /proc/<pid>/cmdline of every process, NULs as spaces.
std::vector<std::string> all_command_lines() {
  std::vector<std::string> out;
  DIR *d = ::opendir("/proc");
  if (d == nullptr)
    return out;
  while (auto *e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    auto text = read_file(std::string("/proc/") + e->d_name + "/cmdline");
    if (!text)
      continue;
    for (char &c : *text)
      c = c == '\0' ? ' ' : c;
    out.push_back(*text);
  }
  ::closedir(d);
  return out;
}

const Env k_git_protocol{{"GIT_PULL_METHOD", "git"}};

TEST_F(GitContexts, GitDaemonRefsTagsPullRequestsCommitsAndSubPaths) {
  std::string app = git_url("app.git");
  expect_built(build(app, {}, k_git_protocol), "v2\n");
  expect_built(build(app + "#refs/heads/feature", {}, k_git_protocol),
               "feature\n");
  expect_built(
      build(app, {"--git=branch=feature,single-branch=true"}, k_git_protocol),
      "feature\n");
  expect_built(build(app + "#refs/tags/v1.0", {}, k_git_protocol), "v1\n");
  expect_built(build(app, {"--git", "branch=v1.0"}, k_git_protocol), "v1\n");
  expect_built(build(app + "#refs/pull/7/head", {}, k_git_protocol), "pr7\n");
  ASSERT_EQ(m_v1.size(), 40u);
  expect_built(build(app + "#" + m_v1, {}, k_git_protocol), "v1\n");
  expect_built(build(app + "#refs/heads/main#" + m_v1, {}, k_git_protocol),
               "v1\n");
  expect_built(build(app, {"--context-sub-path=svc"}, k_git_protocol), "svc\n");
  expect_built(build(app + "#refs/heads/with-sub",
                     {"--git=recurse-submodules=true"}, k_git_protocol),
               "lib\n");

  auto no_sub = build(app + "#refs/heads/with-sub", {}, k_git_protocol);
  EXPECT_EQ(no_sub.exit_code, 1)
      << "without recurse-submodules lib/ is empty: " << no_sub.describe();

  auto missing = build(app + "#refs/heads/nope", {}, k_git_protocol);
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_NE(missing.err.find("context " + app + "#refs/heads/nope"),
            std::string::npos)
      << missing.err;
  expect_no_leftovers();

  // kaniko's default pull method for git:// is https: nothing listens there.
  auto https = build(app, {}, {});
  EXPECT_EQ(https.exit_code, 1) << https.describe();
  EXPECT_NE(https.err.find("https://127.0.0.1"), std::string::npos)
      << https.err;
}

TEST_F(GitContexts, SmartHttpWithBasicAuth) {
  std::string www = file("www");
  ASSERT_EQ(::mkdir(www.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((www + "/cgi-bin").c_str(), 0755), 0);
  std::string cgi = www + "/cgi-bin/git";
  ASSERT_TRUE(
      write_file(cgi, "#!/bin/sh\nexport GIT_PROJECT_ROOT='" + m_repos +
                          "' GIT_HTTP_EXPORT_ALL=1\nexec git http-backend\n"));
  ASSERT_EQ(::chmod(cgi.c_str(), 0755), 0);
  std::string password = "s3cret-" + std::to_string(::getpid());
  ASSERT_TRUE(
      write_file(file("httpd.conf"), "/cgi-bin:ci-user:" + password + "\n"));
  int port = ASSERT_OK(free_port());
  auto httpd = ASSERT_OK(
      Process::start({.argv = {"busybox", "httpd", "-f", "-p",
                               "127.0.0.1:" + std::to_string(port), "-h", www,
                               "-c", file("httpd.conf")}}));
  ASSERT_OK(wait_for_port(port, std::chrono::seconds(20), &httpd));
  std::string url =
      "http://127.0.0.1:" + std::to_string(port) + "/cgi-bin/git/app.git";

  Env creds{{"GIT_USERNAME", "ci-user"}, {"GIT_PASSWORD", password}};
  auto r = build(url + "#refs/heads/feature", {"--verbosity=debug"}, creds);
  expect_built(r, "feature\n");
  EXPECT_EQ(r.err.find(password), std::string::npos)
      << "the password was printed";
  expect_built(build(url + "#refs/pull/7/head", {}, creds), "pr7\n");

  // While a fetch runs, no process's command line (what `ps` shows) holds the
  // password.
  auto running = ASSERT_OK(Process::start(
      {.argv = {tool_path("executor"), "--context=" + url + "#" + m_v1,
                "--no-push", "--kaniko-dir=" + file("kaniko"),
                "--cache-dir=" + file("cache")},
       .env = creds}));
  int looks = 0;
  while (running.running()) {
    ++looks;
    for (const auto &cmdline : all_command_lines())
      ASSERT_EQ(cmdline.find(password), std::string::npos)
          << "visible in ps: " << cmdline;
  }
  EXPECT_EQ(ASSERT_OK(running.wait()), 0) << running.err();
  EXPECT_GT(looks, 0);
  expect_built(build(url, {"--context-sub-path=svc"}, creds), "svc\n");
  expect_built(build(url + "#" + m_v1, {}, creds), "v1\n");

  auto anonymous = build(url, {}, {});
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.describe();
  EXPECT_NE(anonymous.err.find("context " + url), std::string::npos)
      << anonymous.err;
  auto wrong =
      build(url, {},
            {{"GIT_USERNAME", "ci-user"}, {"GIT_PASSWORD", "wrong-password"}});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.describe();
  EXPECT_EQ(wrong.err.find("wrong-password"), std::string::npos) << wrong.err;
  expect_no_leftovers();
}

} // namespace
} // namespace strata::itest
