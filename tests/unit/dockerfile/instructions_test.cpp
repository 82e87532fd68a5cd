// Typed instructions: every instruction, its flags and the error messages (with line numbers).
#include <gtest/gtest.h>

#include "dockerfile/instructions.hpp"

using namespace strata::dockerfile;

namespace {

Dockerfile parse_ok(std::string_view text) {
  auto df = parse_dockerfile(text);
  EXPECT_TRUE(df) << df.error().message();
  return df ? *df : Dockerfile{};
}

std::string parse_error(std::string_view text) {
  auto df = parse_dockerfile(text);
  EXPECT_FALSE(df);
  return df ? std::string() : df.error().message();
}

// The single instruction of stage 0 after "FROM a".
Instruction one(std::string_view line) {
  Dockerfile df = parse_ok("FROM a\n" + std::string(line) + "\n");
  EXPECT_EQ(df.stages.size(), 1u);
  EXPECT_EQ(df.stages.at(0).commands.size(), 1u);
  return df.stages.at(0).commands.at(0);
}

// The body of that instruction, copied out (so no pointer into a temporary survives).
template <class T>
T one_as(std::string_view line) {
  Instruction instr = one(line);
  const T* body = instr.as<T>();
  EXPECT_TRUE(body) << line;
  return body ? *body : T{};
}

}  // namespace

TEST(Instructions, FromAndStages) {
  Dockerfile df = parse_ok("ARG V=1\nFROM --platform=$BUILDPLATFORM golang:${V} AS Build\nRUN x\nfrom scratch\n");
  ASSERT_EQ(df.meta_args.size(), 1u);
  ASSERT_EQ(df.stages.size(), 2u);
  EXPECT_EQ(df.stages[0].from.base, "golang:${V}");
  EXPECT_EQ(df.stages[0].from.stage_name, "build");
  EXPECT_EQ(df.stages[0].from.platform, "$BUILDPLATFORM");
  EXPECT_EQ(df.stages[0].line, 2);
  EXPECT_EQ(df.stages[0].commands.size(), 1u);
  EXPECT_EQ(df.stages[1].index, 1u);
  EXPECT_EQ(parse_error("FROM a AS 1x\n"),
            "Dockerfile:1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols");
  EXPECT_EQ(parse_error("FROM a b\n"), "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])");
  EXPECT_EQ(parse_error("FROM a AS x\nFROM b as X\n"), "Dockerfile:2: duplicate stage name \"x\" (first defined on line 1)");
  EXPECT_EQ(parse_error("FROM --plat=x a\n"), "Dockerfile:1: FROM: unknown flag: --plat (did you mean --platform?)");
  EXPECT_EQ(parse_error("RUN x\nFROM a\n"),
            "Dockerfile:1: RUN before the first FROM: no build stage in current context (only ARG may precede FROM)");
  EXPECT_EQ(parse_error("ARG x\n"), "Dockerfile: no FROM instruction: the Dockerfile contains no stages to build");
}

TEST(Instructions, UnknownInstructionSuggests) {
  EXPECT_EQ(parse_error("FROM a\n\n\n\n\n\nRUNN make\n"), "Dockerfile:7: unknown instruction: RUNN (did you mean RUN?)");
  EXPECT_EQ(parse_error("FROM a\ncopyy a b\n"), "Dockerfile:2: unknown instruction: copyy (did you mean COPY?)");
  EXPECT_EQ(parse_error("FROM a\nFROBNICATE x\n"), "Dockerfile:2: unknown instruction: FROBNICATE");
}

TEST(Instructions, RunShellExecAndFlags) {
  Instruction shell = one("RUN --network=none --security=insecure echo $HOME");
  const auto& run = std::get<RunInstr>(shell.body);
  EXPECT_TRUE(run.command.shell_form);
  EXPECT_EQ(run.command.args, std::vector<std::string>{"echo $HOME"});
  EXPECT_EQ(run.network, "none");
  EXPECT_EQ(run.security, "insecure");
  EXPECT_EQ(shell.keyword, "RUN");
  EXPECT_EQ(shell.line, 2);

  const auto exec = one_as<RunInstr>("RUN [\"/bin/sh\", \"-c\", \"x\"]");
  EXPECT_FALSE(exec.command.shell_form);
  EXPECT_EQ(exec.command.args.size(), 3u);

  EXPECT_EQ(parse_error("FROM a\nRUN --network=bridge x\n"),
            "Dockerfile:2: RUN: unsupported network mode \"bridge\" (default, none or host)");
  EXPECT_EQ(parse_error("FROM a\nRUN\n"), "Dockerfile:2: RUN requires at least one argument");
  EXPECT_EQ(parse_error("FROM a\nRUN --network=host --network=none x\n"), "Dockerfile:2: RUN: duplicate flag specified: --network");
}

TEST(Instructions, RunMounts) {
  const auto run = one_as<RunInstr>("RUN --mount=type=cache,target=/root/.cache,id=go,sharing=locked,mode=0700,uid=1,gid=2 "
                        "--mount=type=bind,from=build,source=/out,dst=/in,rw "
                        "--mount=type=secret,id=tok,required,env=TOKEN "
                        "--mount=type=tmpfs,target=/tmp,size=64m "
                        "--mount=type=ssh "
                        "--mount=type=secret,target=/run/secrets/npmrc "
                        "--mount=target=/src make");
  ASSERT_EQ(run.mounts.size(), 7u);
  const Mount& cache = run.mounts[0];
  EXPECT_EQ(cache.type, MountType::cache);
  EXPECT_EQ(cache.target, "/root/.cache");
  EXPECT_EQ(cache.id, "go");
  EXPECT_EQ(cache.sharing, MountSharing::locked);
  EXPECT_EQ(cache.mode, 0700u);
  EXPECT_EQ(cache.uid, 1u);
  EXPECT_EQ(cache.gid, 2u);
  EXPECT_FALSE(cache.readonly);
  const Mount& bind = run.mounts[1];
  EXPECT_EQ(bind.type, MountType::bind);
  EXPECT_EQ(bind.from, "build");
  EXPECT_EQ(bind.source, "/out");
  EXPECT_EQ(bind.target, "/in");
  EXPECT_FALSE(bind.readonly);
  const Mount& secret = run.mounts[2];
  EXPECT_TRUE(secret.required);
  EXPECT_EQ(secret.env, "TOKEN");
  EXPECT_TRUE(secret.readonly);
  EXPECT_EQ(run.mounts[3].size, 64u << 20);
  EXPECT_EQ(run.mounts[4].id, "default");
  EXPECT_EQ(run.mounts[5].id, "npmrc");
  EXPECT_EQ(run.mounts[6].type, MountType::bind);
  EXPECT_TRUE(run.mounts[6].readonly);

  auto err = [](std::string_view spec) {
    auto m = parse_mount(spec);
    EXPECT_FALSE(m) << spec;
    return m ? std::string() : m.error().message();
  };
  EXPECT_EQ(err("type=volume,target=/x"), "unsupported mount type \"volume\" (bind, cache, tmpfs, secret or ssh)");
  EXPECT_EQ(err("type=bind,target=/x,mode=0700"), "unexpected key 'mode' for mount type 'bind'");
  EXPECT_EQ(err("type=bind,target=/x,sharing=locked"), "invalid cache sharing set for bind mount");
  EXPECT_EQ(err("type=cache,target=/x,sharing=maybe"), "unsupported sharing value \"maybe\" (shared, private or locked)");
  EXPECT_EQ(err("type=cache,target=/x,mode=999"), "invalid value for mode: \"999\"");
  EXPECT_EQ(err("type=bind,target=/x,required"), "unexpected key 'required' for mount type 'bind'");
  EXPECT_EQ(err("type=secret,id=x,from=y"), "secret mount should not have a from");
  EXPECT_EQ(err("type=cache"), "cache mount needs a target");
  EXPECT_EQ(err("type=cache,target=/x,colour=red"), "unexpected key 'colour' in 'colour=red'");
  EXPECT_EQ(err("type=cache,target=/x,bogus"), "invalid field 'bogus' must be a key=value pair");
  EXPECT_EQ(err("type=tmpfs,target=/x,size=lots"), "invalid value for size: \"lots\"");
  EXPECT_EQ(err("type=cache,target=/x,ro=perhaps"), "invalid value for ro: \"perhaps\"");

  // Quoted CSV fields; values with `$` wait for expansion.
  auto quoted = parse_mount("type=bind,\"target=/a,b\"");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->target, "/a,b");
  auto later = parse_mount("type=cache,target=/x,mode=$MODE");
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->needs_expansion);
  EXPECT_FALSE(later->mode);

  EXPECT_EQ(parse_error("FROM a\nRUN --mount=type=cache,target=/x,uid=me make\n"),
            "Dockerfile:2: RUN --mount=type=cache,target=/x,uid=me: invalid value for uid: \"me\"");
}

TEST(Instructions, CmdEntrypointShellStopsignal) {
  const auto cmd = one_as<CmdInstr>("CMD [\"a\", \"b\"]");
  EXPECT_FALSE(cmd.command.shell_form);
  EXPECT_TRUE(one_as<CmdInstr>("CMD []").command.args.empty());
  const auto ep = one_as<EntrypointInstr>("ENTRYPOINT exec top -b");
  EXPECT_EQ(ep.command.args, std::vector<std::string>{"exec top -b"});
  EXPECT_EQ(parse_error("FROM a\nCMD\n"), "Dockerfile:2: CMD requires at least one argument");
  EXPECT_EQ(parse_error("FROM a\nCMD --doit x\n"), "Dockerfile:2: CMD: unknown flag: --doit");

  EXPECT_EQ(one_as<ShellInstr>("SHELL [\"powershell\", \"-command\"]").shell.size(), 2u);
  EXPECT_EQ(parse_error("FROM a\nSHELL /bin/bash -c\n"),
            "Dockerfile:2: SHELL requires the arguments to be in JSON form: SHELL /bin/bash -c");
  EXPECT_EQ(parse_error("FROM a\nSHELL []\n"), "Dockerfile:2: SHELL requires at least one argument");
  EXPECT_EQ(one_as<StopsignalInstr>("STOPSIGNAL SIGKILL").signal, "SIGKILL");
  EXPECT_EQ(parse_error("FROM a\nSTOPSIGNAL\n"), "Dockerfile:2: STOPSIGNAL requires exactly one argument");
}

TEST(Instructions, LabelEnvMaintainer) {
  const auto label = one_as<LabelInstr>("LABEL a=b \"c d\"=\"e f\" g=");
  ASSERT_EQ(label.labels.size(), 3u);
  EXPECT_EQ(label.labels[1].key, "\"c d\"");
  EXPECT_EQ(label.labels[1].value, "\"e f\"");
  EXPECT_EQ(label.labels[2].value, "");
  const auto env = one_as<EnvInstr>("ENV PATH /usr/bin:$PATH");
  EXPECT_EQ(env.vars.at(0).key, "PATH");
  EXPECT_EQ(env.vars.at(0).value, "/usr/bin:$PATH");
  EXPECT_EQ(one_as<EnvInstr>("ENV A=1 B=2").vars.size(), 2u);
  EXPECT_EQ(parse_error("FROM a\nENV\n"), "Dockerfile:2: ENV requires at least one argument");
  EXPECT_EQ(parse_error("FROM a\nENV =x\n"), "Dockerfile:2: ENV names can not be blank");
  EXPECT_EQ(one_as<MaintainerInstr>("MAINTAINER Jane <j@x>").maintainer, "Jane <j@x>");
}

TEST(Instructions, Expose) {
  EXPECT_EQ(one_as<ExposeInstr>("EXPOSE 80 443/tcp 53/udp 8000-8010 $PORT").ports.size(), 5u);
  EXPECT_EQ(parse_error("FROM a\nEXPOSE 80/http\n"), "Dockerfile:2: EXPOSE: invalid protocol in port \"80/http\" (tcp, udp or sctp)");
  EXPECT_EQ(parse_error("FROM a\nEXPOSE 90-80\n"), "Dockerfile:2: EXPOSE: invalid port range \"90-80\"");
  EXPECT_EQ(parse_error("FROM a\nEXPOSE 70000\n"), "Dockerfile:2: EXPOSE: invalid port \"70000\"");
  EXPECT_EQ(parse_error("FROM a\nEXPOSE\n"), "Dockerfile:2: EXPOSE requires at least one argument");
  auto range = parse_port("8000-8010/SCTP");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, 8000);
  EXPECT_EQ(range->last, 8010);
  EXPECT_EQ(range->protocol, "sctp");
}

TEST(Instructions, CopyAndAdd) {
  const auto copy = one_as<CopyInstr>("COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=.git "
                         "a b/ /dst/");
  EXPECT_FALSE(copy.is_add);
  EXPECT_EQ(copy.from, "build");
  EXPECT_EQ(copy.chown, "app:app");
  ASSERT_TRUE(copy.chmod);
  EXPECT_EQ(copy.chmod->octal, 0755u);
  EXPECT_TRUE(copy.link);
  EXPECT_TRUE(copy.parents);
  EXPECT_EQ(copy.excludes, (std::vector<std::string>{"*.md", ".git"}));
  ASSERT_EQ(copy.sources.size(), 2u);
  EXPECT_EQ(copy.sources[1].path, "b/");
  EXPECT_EQ(copy.destination, "/dst/");

  const auto sym = one_as<CopyInstr>("COPY --chmod=u+x,g-w,o=r a /");
  ASSERT_TRUE(sym.chmod);
  EXPECT_FALSE(sym.chmod->octal);
  EXPECT_EQ(sym.chmod->text, "u+x,g-w,o=r");
  EXPECT_EQ(parse_error("FROM a\nCOPY --chmod=9 a /\n"),
            "Dockerfile:2: COPY: invalid chmod parameter \"9\" (octal like 0755 or symbolic like u+x,g-w)");
  EXPECT_EQ(parse_error("FROM a\nCOPY --chmod=17777 a /\n"), "Dockerfile:2: COPY: invalid chmod parameter \"17777\": above 07777");

  const auto add = one_as<CopyInstr>("ADD --keep-git-dir=true --checksum=sha256:abc https://x/y.tar /y");
  EXPECT_TRUE(add.is_add);
  EXPECT_TRUE(add.keep_git_dir);
  EXPECT_EQ(add.checksum, "sha256:abc");
  EXPECT_EQ(parse_error("FROM a\nADD --from=x a /\n"), "Dockerfile:2: ADD: unknown flag: --from");
  EXPECT_EQ(parse_error("FROM a\nCOPY a\n"),
            "Dockerfile:2: COPY requires at least two arguments, but only 1 provided. Destination could not be determined");
  EXPECT_EQ(parse_error("FROM a\nCOPY --link=maybe a /\n"), "Dockerfile:2: COPY: expecting boolean value for flag --link, not: maybe");
  EXPECT_EQ(parse_error("FROM a\nCOPY --from a /\n"), "Dockerfile:2: COPY: missing a value on flag: --from");

  const auto json = one_as<CopyInstr>("COPY [\"a b\", \"/c d/\"]");
  EXPECT_EQ(json.sources.at(0).path, "a b");
  EXPECT_EQ(json.destination, "/c d/");
}

TEST(Instructions, CopyHeredocs) {
  Dockerfile df = parse_ok("FROM a\nCOPY <<-EOF <<'RAW' /etc/\n\thello $X\nEOF\n$Y\nRAW\n");
  const auto& copy = std::get<CopyInstr>(df.stages[0].commands.at(0).body);
  ASSERT_EQ(copy.sources.size(), 2u);
  EXPECT_TRUE(copy.sources[0].inline_content);
  EXPECT_EQ(copy.sources[0].path, "EOF");
  EXPECT_EQ(copy.sources[0].content, "hello $X\n");
  EXPECT_TRUE(copy.sources[0].expand);
  EXPECT_EQ(copy.sources[1].content, "$Y\n");
  EXPECT_FALSE(copy.sources[1].expand);
  EXPECT_EQ(parse_error("FROM a\nCOPY a <<EOF\nx\nEOF\n"), "Dockerfile:2: COPY cannot accept a heredoc as a destination");
}

TEST(Instructions, RunHeredocKeepsBodies) {
  Dockerfile df = parse_ok("FROM a\nRUN <<EOF bash\nset -e\necho hi\nEOF\n");
  const auto& run = std::get<RunInstr>(df.stages[0].commands.at(0).body);
  EXPECT_EQ(run.command.args, std::vector<std::string>{"<<EOF bash"});
  ASSERT_EQ(run.command.heredocs.size(), 1u);
  EXPECT_EQ(run.command.heredocs[0].content, "set -e\necho hi\n");
}

TEST(Instructions, VolumeUserWorkdirArg) {
  EXPECT_EQ(one_as<VolumeInstr>("VOLUME [\"/a\", \"/b\"]").paths.size(), 2u);
  EXPECT_EQ(one_as<VolumeInstr>("VOLUME /a /b /c").paths.size(), 3u);
  EXPECT_EQ(parse_error("FROM a\nVOLUME [\"\"]\n"), "Dockerfile:2: VOLUME specified can not be an empty string");
  EXPECT_EQ(one_as<UserInstr>("USER app:app").user, "app:app");
  EXPECT_EQ(parse_error("FROM a\nUSER\n"), "Dockerfile:2: USER requires exactly one argument");
  EXPECT_EQ(one_as<WorkdirInstr>("WORKDIR /a b").path, "/a b");

  const auto arg = one_as<ArgInstr>("ARG A B=2 C=\"x y\" D=");
  ASSERT_EQ(arg.args.size(), 4u);
  EXPECT_FALSE(arg.args[0].default_value);
  EXPECT_EQ(arg.args[1].default_value, "2");
  EXPECT_EQ(arg.args[2].default_value, "\"x y\"");
  EXPECT_EQ(arg.args[3].default_value, "");
  EXPECT_EQ(parse_error("FROM a\nARG\n"), "Dockerfile:2: ARG requires at least one argument");
  EXPECT_EQ(parse_error("FROM a\nARG =x\n"), "Dockerfile:2: ARG names can not be blank");
}

TEST(Instructions, Healthcheck) {
  const auto none = one_as<HealthcheckInstr>("HEALTHCHECK NONE");
  EXPECT_TRUE(none.none);
  const auto h = one_as<HealthcheckInstr>("HEALTHCHECK --interval=1m30s --timeout=3s --start-period=0s --start-interval=500ms --retries=3 "
                      "CMD curl -f http://localhost/");
  EXPECT_FALSE(h.none);
  EXPECT_TRUE(h.command.shell_form);
  EXPECT_EQ(h.command.args, std::vector<std::string>{"curl -f http://localhost/"});
  EXPECT_EQ(h.interval_ns, 90'000'000'000LL);
  EXPECT_EQ(h.timeout_ns, 3'000'000'000LL);
  EXPECT_EQ(h.start_period_ns, 0);
  EXPECT_EQ(h.start_interval_ns, 500'000'000LL);
  EXPECT_EQ(h.retries, 3);
  const auto exec = one_as<HealthcheckInstr>("HEALTHCHECK CMD [\"/check\", \"-q\"]");
  EXPECT_FALSE(exec.command.shell_form);
  EXPECT_EQ(exec.command.args.size(), 2u);

  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK NONE x\n"), "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK CONNECT TCP 7000\n"), "Dockerfile:2: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK CMD\n"), "Dockerfile:2: Missing command after HEALTHCHECK CMD");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK --interval=10 CMD x\n"),
            "Dockerfile:2: HEALTHCHECK --interval: invalid duration \"10\": missing or unknown unit");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK --timeout=10us CMD x\n"),
            "Dockerfile:2: HEALTHCHECK: Interval \"timeout\" cannot be less than 1ms");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n"), "Dockerfile:2: HEALTHCHECK: --retries cannot be negative (-1)");
  EXPECT_EQ(parse_error("FROM a\nHEALTHCHECK --retries=x CMD x\n"), "Dockerfile:2: HEALTHCHECK: invalid --retries value \"x\"");
  EXPECT_EQ(parse_go_duration("1h2m3.5s").value(), 3723'500'000'000LL);
  EXPECT_EQ(parse_go_duration("-1.5ms").value(), -1'500'000LL);
  EXPECT_FALSE(parse_go_duration(".s"));
  EXPECT_FALSE(parse_go_duration("1d"));
}

TEST(Instructions, Onbuild) {
  Dockerfile df = parse_ok("FROM a\nONBUILD RUN make\nonbuild COPY <<EOF /x\nhi\nEOF\n");
  const auto& run = std::get<OnbuildInstr>(df.stages[0].commands.at(0).body);
  EXPECT_EQ(run.expression, "RUN make");
  ASSERT_TRUE(run.trigger != nullptr);
  EXPECT_TRUE(run.trigger->is<RunInstr>());
  const auto& copy = std::get<OnbuildInstr>(df.stages[0].commands.at(1).body);
  EXPECT_EQ(copy.expression, "COPY <<EOF /x\nhi\nEOF");
  EXPECT_EQ(copy.trigger->as<CopyInstr>()->sources.at(0).content, "hi\n");

  EXPECT_EQ(parse_error("FROM a\nONBUILD ONBUILD RUN x\n"), "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  EXPECT_EQ(parse_error("FROM a\nONBUILD FROM b\n"), "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(parse_error("FROM a\nONBUILD MAINTAINER me\n"), "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(parse_error("FROM a\nONBUILD\n"), "Dockerfile:2: ONBUILD requires at least one argument");
  EXPECT_EQ(parse_error("FROM a\nONBUILD RUNN x\n"), "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)");
}

TEST(Instructions, ParseInstructionLineForTriggers) {
  // The executor re-parses a base image's OnBuild strings, including their heredocs.
  auto copy = parse_instruction_line("COPY <<EOF /x\nhi\nEOF");
  ASSERT_TRUE(copy) << copy.error().message();
  EXPECT_EQ(copy->as<CopyInstr>()->sources.at(0).content, "hi\n");
  auto bt = parse_instruction_line("RUN a `\n b", '`');
  ASSERT_TRUE(bt);
  EXPECT_EQ(bt->as<RunInstr>()->command.args.at(0), "a  b");
  auto from = parse_instruction_line("FROM x");
  ASSERT_FALSE(from);
  EXPECT_EQ(from.error().message(), "ONBUILD trigger:1: FROM isn't allowed as an ONBUILD trigger");
  auto bad = parse_instruction_line("COPY a", '\\', "image foo:1 ONBUILD[0]");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "image foo:1 ONBUILD[0]:1: COPY requires at least two arguments, but only 1 provided. Destination could not be determined");
}
