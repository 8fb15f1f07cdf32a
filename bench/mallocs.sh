#!/usr/bin/env bash
# Heap allocations per request on the proxy's hot path: runs the Release
# build with one worker under bench/malloc_count (an LD_PRELOAD counter of
# malloc calls by caller) while h2load sends a fixed number of requests on
# fresh connections, then prints mallocs per request and the top callers.
#
#   bench/mallocs.sh [http1|h2|h2up] [--requests N] [--top K]
#
# Mode picks bench/configs/{http1,h2,h2-h2up}.yaml; an NGINX upstream of its
# own answers on 127.0.0.1:18080 (HTTP/1.1) and 18082 (h2c). Everything stays
# on loopback and the load is bounded by --requests (default 50000). The
# count includes each connection's set-up, as compare.sh's runs do.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
die() { echo "bench/mallocs.sh: $*" >&2; exit 1; }
# shellcheck source=bench/standalone.sh
source "$here/standalone.sh"

mode=h2
if [[ $# -gt 0 && $1 != -* ]]; then mode=$1; shift; fi
requests=50000 top=12
while (($#)); do
  case $1 in
    --requests) requests=${2:?}; shift ;;
    --top) top=${2:?}; shift ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift
done
pick_mode "$mode" || die "mode is http1, h2 or h2up"
command -v nginx >/dev/null || die "nginx is needed as the upstream (scripts/install-deps installs it)"
command -v h2load >/dev/null || die "h2load is needed (nghttp2-client)"
bin=$repo/build/bin/sluice
[[ -x $bin ]] || die "build first: scripts/build"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -shared -fPIC -o "$work/malloc_count.so" "$here/malloc_count/malloc_count.c" -ldl -lpthread

start_local_upstream "$work"

MC_DIR=$work LD_PRELOAD=$work/malloc_count.so "$bin" -c "$cfg" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_started "$work/proxy.log" || die "the proxy did not start: $(tail -3 "$work/proxy.log")"
timeout 60 h2load "${load[@]}" -c64 -m10 -n 20000 http://127.0.0.1:10000/ >/dev/null || die "warm-up load failed"
# Counted: the measured load only, fresh connections included.
touch "$work/start"
sleep 0.1
out=$(timeout 120 h2load "${load[@]}" -c64 -m10 -n "$requests" http://127.0.0.1:10000/) || die "load failed"
touch "$work/stop"
grep -q "$requests succeeded" <<<"$out" || die "not every request succeeded: $(grep '^requests' <<<"$out")"
for _ in $(seq 100); do [[ -f $work/counts.txt ]] && break; sleep 0.05; done
[[ -f $work/counts.txt ]] || die "the counter wrote nothing"
total=$(awk '{s += $1} END {print s + 0}' "$work/counts.txt")
echo "mode $mode: $total mallocs in $requests requests"
sort -rn "$work/counts.txt" | head -n "$top" | awk -v n="$requests" '{printf "%8.3f/req ", $1 / n; $1 = ""; print}' |
  c++filt | cut -c1-220
awk -v t="$total" -v n="$requests" 'BEGIN {printf "mallocs per request: %.2f\n", t / n}'
