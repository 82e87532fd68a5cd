# bench/lib.sh: what the executor benchmarks (apt.sh, build.sh, cache.sh, rss.sh) share.
# Source it: . "$here/lib.sh"

# bench_executor [PATH]: prints PATH, or the newest build*/executor when PATH is empty. Fails (with
# a message) when there is no executor binary, or no /usr/bin/time (every script measures peak RSS
# with it). Use: executor=$(bench_executor "$executor") || exit 2
bench_executor() {
  local exe=$1 here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [[ -z $exe ]]; then
    exe=$(ls -t "$here"/../build*/executor 2>/dev/null | head -n1 || true)
  fi
  [[ -x $exe ]] || { echo "no executor binary: pass --executor PATH" >&2; return 1; }
  [[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; return 1; }
  echo "$exe"
}
