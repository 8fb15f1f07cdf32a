#!/usr/bin/env bash
# Instructions per request on the proxy's path, counted rather than timed:
# runs the Release build with one worker under valgrind's callgrind while
# h2load sends a fixed number of requests, then prints instructions (Ir)
# per request and the functions that execute the most of them (self cost).
#
#   bench/instructions.sh [http1|h2|h2up] [--requests N] [--top K] [--bin PATH] [--out FILE]
#                         [--peer nghttpx|haproxy]
#
# Timed benchmarks on a shared 2-core machine spread by +-10% or more from
# one round to the next, so a change worth a few percent of user time does
# not show in them; the count does, to a fraction of a percent. It says
# nothing of cache misses or the kernel's share (most of the CPU on
# loopback), so a change is judged by both: this for the work it removes,
# bench/run.sh for what the workload sees. Only the measured load is
# counted (start-up, the warm-up and shutdown are not). Mode picks
# bench/configs/{http1,h2,h2-h2up}.yaml with an NGINX upstream of its own
# (bench/standalone.sh); --bin compares another build; --peer counts
# nghttpx or HAProxy instead, configured as compare.sh configures them (one
# thread; h2up is HAProxy only); --out keeps the callgrind profile for
# callgrind_annotate. Everything stays on loopback and the load is bounded
# by --requests (default 20000; about 20 s).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
die() { echo "bench/instructions.sh: $*" >&2; exit 1; }
# shellcheck source=bench/standalone.sh
source "$here/standalone.sh"

mode=h2
if [[ $# -gt 0 && $1 != -* ]]; then mode=$1; shift; fi
requests=20000 top=15 bin=$repo/build/bin/sluice out="" peer=""
while (($#)); do
  case $1 in
    --requests) requests=${2:?}; shift ;;
    --top) top=${2:?}; shift ;;
    --bin) bin=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    --peer) peer=${2:?}; shift ;;
    -h|--help) sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift
done
pick_mode "$mode" || die "mode is http1, h2 or h2up"
for tool in nginx h2load valgrind callgrind_control callgrind_annotate; do
  command -v "$tool" >/dev/null || die "$tool is needed (scripts/install-deps --bench installs it)"
done
case $peer in
  "") [[ -x $bin ]] || die "build first: scripts/build" ;;
  nghttpx) [[ $mode != h2up ]] || die "compare.sh runs nghttpx with an HTTP/1.1 upstream only" ;;
  haproxy) ;;
  *) die "--peer is nghttpx or haproxy" ;;
esac
[[ -z $peer ]] || command -v "$peer" >/dev/null || die "$peer is needed (scripts/install-deps --bench installs it)"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_local_upstream "$work"

# The peers' settings are compare.sh's (gen_nghttpx, gen_haproxy) for the
# same mode, so their counts compare with the harness's CPU figures;
# nghttpx runs its worker in its main process, where callgrind_control
# reaches it (the worker code is the same).
peer_command() {
  case $peer in
    nghttpx)
      printf '%s\n' "frontend=127.0.0.1,10000;no-tls" "backend=127.0.0.1,18080;;proto=http/1.1" workers=1 \
        single-thread=yes single-process=yes no-ocsp=yes "errorlog-file=$work/nghttpx.err" backend-keep-alive-timeout=60s \
        frontend-keep-alive-timeout=60s >"$work/nghttpx.conf"
      cmd=(nghttpx --conf="$work/nghttpx.conf") ;;
    haproxy)
      local bind="" server="127.0.0.1:18080"
      case $mode in h2) bind=" proto h2" ;; h2up) bind=" proto h2" server="127.0.0.1:18082 proto h2" ;; esac
      printf '%s\n' global "  nbthread 1" "  maxconn 8192" defaults "  mode http" "  timeout connect 5s" \
        "  timeout client 60s" "  timeout server 60s" "  http-reuse always" "frontend fe" \
        "  bind 127.0.0.1:10000$bind" "  default_backend be" "backend be" "  server s1 $server" >"$work/haproxy.cfg"
      cmd=(haproxy -db -f "$work/haproxy.cfg") ;;
  esac
}
cmd=("$bin" -c "$cfg")
[[ -z $peer ]] || peer_command
profile=${out:-$work/callgrind.out}
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$profile" "${cmd[@]}" >"$work/proxy.log" 2>&1 &
proxy=$!
pids+=("$proxy")
# Under valgrind start-up takes seconds, not milliseconds.
for _ in $(seq 300); do
  timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10000' 2>/dev/null && break
  kill -0 "$proxy" 2>/dev/null || break
  sleep 0.1
done
timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10000' 2>/dev/null || die "the proxy did not start: $(tail -3 "$work/proxy.log")"
timeout 120 h2load "${load[@]}" -c64 -m10 -n 5000 http://127.0.0.1:10000/ >/dev/null || die "warm-up load failed"
callgrind_control -i on "$proxy" >"$work/control.log" 2>&1 || die "callgrind_control: $(tail -2 "$work/control.log")"
result=$(timeout 600 h2load "${load[@]}" -c64 -m10 -n "$requests" http://127.0.0.1:10000/) || die "load failed"
callgrind_control -i off "$proxy" >"$work/control.log" 2>&1 || die "callgrind_control: $(tail -2 "$work/control.log")"
grep -q "$requests succeeded" <<<"$result" || die "not every request succeeded: $(grep '^requests' <<<"$result")"
# The profile is written when the proxy exits.
kill -TERM "$proxy"
wait "$proxy" 2>/dev/null || true
[[ -s $profile ]] || die "callgrind wrote no profile"

report=$(callgrind_annotate --threshold=99 "$profile") || die "callgrind_annotate could not read $profile"
total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' <<<"$report")
[[ -n $total ]] || die "no totals in the profile"
echo "mode $mode: $total instructions in $requests requests (${peer:-$bin})"
# The per-function lines: "Ir  file:function [object]".
awk -v n="$requests" -v top="$top" '
  /file:function/ {on = 1; next}
  on && NF && !/^-/ && shown < top {
    ir = $1; gsub(",", "", ir); sub(/^ *[^ ]+ +\([^)]*\) +/, ""); sub(/^\?\?\?:/, "")
    printf "%8.0f/req  %s\n", ir / n, substr($0, 1, 190); shown++
  }' <<<"$report"
awk -v t="$total" -v n="$requests" 'BEGIN {printf "instructions per request: %.0f\n", t / n}'
