#!/usr/bin/env bash
# Builds Strata's runtime image (the repository's Dockerfile) with Strata's own executor.
#
# usage: scripts/build-image.sh [--build-dir DIR] [--oci-layout-path DIR] [--tar-path FILE]
#                               [--destination REF]... [--context-dir DIR] [--keep-context]
#                               [-- EXTRA EXECUTOR FLAGS]
#
# 1. Stages a build context (default: a temp dir; --context-dir to choose and keep it):
#    kaniko/{executor,warmer,cachectl} from the build dir, debug info stripped, their ELF
#    interpreter set to /kaniko/lib/ld-linux-x86-64.so.2 and their RPATH to /kaniko/lib
#    (patchelf); kaniko/lib/ the shared libraries ldd lists for them (resolved to the real files,
#    saved under the names the binaries ask for); kaniko/ssl/certs/ca-certificates.crt (the
#    build machine's bundle); busybox/ (busybox-static and one link per applet); etc/ (passwd,
#    group, nsswitch.conf); dirs/ (empty /tmp 1777, /root, /workspace, /kaniko/bin, /kaniko/.docker).
# 2. Runs "<build-dir>/executor" on it, FROM scratch, --reproducible, writing the image into
#    the OCI layout (default: <build-dir>/strata-image-oci) and/or a tarball, and pushing to every
#    --destination (no push without one).
# Prints the image's manifest digest last. Needs: the three built tools, ldd, patchelf, strip,
# busybox (busybox-static), /etc/ssl/certs/ca-certificates.crt (ca-certificates).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$here/build
oci_dir=
tar_path=
context_dir=
keep_context=0
destinations=()
extra=()
while (( $# )); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --oci-layout-path) oci_dir=$2; shift 2 ;;
    --tar-path) tar_path=$2; shift 2 ;;
    --destination) destinations+=("$2"); shift 2 ;;
    --context-dir) context_dir=$2; keep_context=1; shift 2 ;;
    --keep-context) keep_context=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
build_dir=$(cd "$build_dir" && pwd)
[[ -n $oci_dir ]] || oci_dir=$build_dir/strata-image-oci

die() { echo "build-image: $*" >&2; exit 1; }
tools=(executor warmer cachectl)
for t in "${tools[@]}"; do
  [[ -x $build_dir/$t ]] || die "$build_dir/$t is missing: build it first (cmake --build $build_dir --target ${tools[*]})"
done
for prog in ldd patchelf strip busybox; do
  command -v "$prog" >/dev/null || die "$prog is not installed (bash scripts/install-deps.sh --tests)"
done
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s $ca_bundle ]] || die "$ca_bundle is missing (apt-get install ca-certificates)"
busybox_bin=$(command -v busybox)
file -b "$busybox_bin" 2>/dev/null | grep -q dynamically && die "$busybox_bin is not static (install busybox-static)"

if [[ -z $context_dir ]]; then
  context_dir=$(mktemp -d "${TMPDIR:-/tmp}/strata-image-ctx.XXXXXX")
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-image-work.XXXXXX")
cleanup() {
  rm -rf "$work"
  (( keep_context )) || rm -rf "$context_dir"
}
trap cleanup EXIT
# Reuse a context dir only if this script made it (never empty someone's directory).
if [[ -n $(ls -A "$context_dir" 2>/dev/null) ]]; then
  [[ -f $context_dir/.strata-image-context ]] || die "$context_dir is not empty and not a context this script made"
  rm -rf "${context_dir:?}"/* "$context_dir"/.dockerignore
fi
mkdir -p "$context_dir"/{kaniko/lib,kaniko/ssl/certs,busybox,etc,dirs}
printf '.strata-image-context\n' >"$context_dir/.dockerignore"
: >"$context_dir/.strata-image-context"
ctx=$context_dir

# The tools, without debug info (the build keeps it; the image does not need 3x the size).
for t in "${tools[@]}"; do
  strip --strip-debug -o "$ctx/kaniko/$t" "$build_dir/$t"
done

# Their shared libraries: the union of what ldd lists, saved under the requested name.
loader=
while read -r name arrow path _; do
  if [[ $arrow == "=>" && $path == /* ]]; then
    cp -L "$path" "$ctx/kaniko/lib/$name"
  elif [[ $name == /* && $name == */ld-linux* ]]; then
    loader=$(basename "$name")
    cp -L "$name" "$ctx/kaniko/lib/$loader"
  elif [[ $arrow == "=>" && $path == "not" ]]; then
    die "ldd: $name not found"
  fi
done < <(for t in "${tools[@]}"; do ldd "$build_dir/$t"; done | sort -u)
[[ -n $loader ]] || die "ldd named no dynamic loader (are the tools static?)"
chmod 0755 "$ctx"/kaniko/lib/*
for t in "${tools[@]}"; do
  patchelf --set-interpreter "/kaniko/lib/$loader" --force-rpath --set-rpath /kaniko/lib "$ctx/kaniko/$t"
done

cp -L "$ca_bundle" "$ctx/kaniko/ssl/certs/ca-certificates.crt"
chmod 0644 "$ctx/kaniko/ssl/certs/ca-certificates.crt"

cp "$busybox_bin" "$ctx/busybox/busybox"
for applet in $("$busybox_bin" --list); do
  [[ $applet == busybox ]] || ln -s busybox "$ctx/busybox/$applet"
done

printf 'root:x:0:0:root:/root:/busybox/sh\nnobody:x:65534:65534:nobody:/nonexistent:/busybox/false\n' >"$ctx/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ctx/etc/nsswitch.conf"
chmod 0644 "$ctx"/etc/*

mkdir -p "$ctx"/dirs/{tmp,root,workspace,kaniko/bin,kaniko/.docker}
chmod 1777 "$ctx/dirs/tmp"
chmod 0700 "$ctx/dirs/root"
cp "$here/Dockerfile" "$ctx/Dockerfile"

args=(--context "dir://$ctx" --dockerfile "$ctx/Dockerfile" --reproducible
      --kaniko-dir "$work/kaniko" --cache-dir "$work/cache" --digest-file "$work/digest")
[[ -n $oci_dir ]] && args+=(--oci-layout-path "$oci_dir")
[[ -n $tar_path ]] && args+=(--tar-path "$tar_path")
if (( ${#destinations[@]} )); then
  for d in "${destinations[@]}"; do args+=(--destination "$d"); done
else
  args+=(--no-push)
fi
echo "build-image: context $ctx ($(du -sh "$ctx" | cut -f1)), building with $build_dir/executor" >&2
"$build_dir/executor" "${args[@]}" "${extra[@]}"
echo "build-image: image in ${oci_dir}${tar_path:+ and $tar_path}" >&2
cat "$work/digest"
echo
