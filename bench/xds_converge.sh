#!/usr/bin/env bash
# Control-plane convergence: N simulated proxies (tools/ads_load.cc, one
# process, each a real ADS gRPC stream) against a running sluice-control
# serving 100 services; one route is edited in control.yaml and every
# proxy's time from the edit to its ACK of the new version is measured.
#
#   bench/run.sh xds [--proxies N] [--delta] [--services S] [--per-channel C] [--no-build]
#
#   --proxies N      simulated proxies, one stream each (default 1000)
#   --delta          DeltaAggregatedResources instead of state of the world
#   --services S     services in the generated config (default 100)
#   --per-channel C  streams per gRPC channel (own TCP connection) (default 100)
#   --no-build       use build/bin as it is
#   --keep           keep the temp dir (control.yaml, control.log, the load tool's output)
#
# Every proxy is in one group and gets, per service, a listener (its HTTP
# connection manager naming the service's route table over RDS), a route
# table (a virtual host with three routes), and an EDS cluster with three
# endpoints: the shape of a sidecar that may call every service. The edit
# changes one route's timeout (one route table, RDS only). The generated
# config polls the file every 20ms and debounces 20ms; both are inside the
# measured time, which starts when the edited file is renamed into place.
# Control-plane CPU is utime+stime from /proc/PID/stat across the push
# (from the edit until every proxy has ACKed); RSS is VmRSS with every
# proxy connected. The last line is
#   converged N proxies in X ms (p99 Y ms), control RSS Z MiB
# where X is the slowest proxy's time. Exits 1 when not every proxy converged.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$repo/build/bin

proxies=1000 delta=0 services=100 per_channel=100 build=1 keep=0
while (($#)); do
  case $1 in
    --proxies) proxies=${2:?--proxies needs a number}; shift ;;
    --delta) delta=1 ;;
    --services) services=${2:?--services needs a number}; shift ;;
    --per-channel) per_channel=${2:?--per-channel needs a number}; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench/run.sh xds: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "bench/run.sh xds: $*" >&2; exit 1; }

if ((build)); then
  "$repo/scripts/build" --target sluice-control >/dev/null
  "$repo/scripts/build" --target sluice-ads-load >/dev/null
fi
[[ -x $bin/sluice-control && -x $bin/sluice-ads-load ]] || die "build/bin/sluice-control or sluice-ads-load is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-xds-bench.XXXXXX")
control_pid="" load_pid=""
cleanup() {
  { exec 3>&-; } 2>/dev/null || true
  [[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null || true
  [[ -n $control_pid ]] && kill "$control_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if ((keep)); then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# control.yaml: one group of `services` services; the edit swaps the line
# marked "# edit" (service 42's /api/ route timeout).
python3 - "$tmp/control.yaml" "$services" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
edited = min(42, n - 1)
out = ["ads: {address: 127.0.0.1:0}", "admin: {address: 127.0.0.1:0}",
       "debounce: 20ms", "watch_interval: 20ms", "groups:",
       "  - name: mesh", "    match: {cluster: bench}", "    listeners:"]
for i in range(n):
    out += [f"      - name: svc-{i:03d}",
            f"        address: 127.0.0.1:{20000 + i}",
            f"        http: {{route_config_name: svc-{i:03d}}}"]
out.append("    route_configs:")
for i in range(n):
    mark = "  # edit" if i == edited else ""
    out += [f"      - name: svc-{i:03d}",
            "        virtual_hosts:",
            f"          - name: svc-{i:03d}",
            f"            domains: [svc-{i:03d}, svc-{i:03d}.mesh, svc-{i:03d}.mesh.svc.cluster.local]",
            "            routes:",
            f"              - name: svc-{i:03d}-api",
            "                match: {prefix: /api/}",
            f"                route: {{cluster: svc-{i:03d}, timeout: 15s}}{mark}",
            f"              - name: svc-{i:03d}-health",
            "                match: {path: /healthz}",
            "                direct_response: {status: 200}",
            f"              - name: svc-{i:03d}-default",
            "                match: {prefix: /}",
            f"                route: {{cluster: svc-{i:03d}}}"]
out.append("    clusters:")
for i in range(n):
    out += [f"      - name: svc-{i:03d}",
            "        connect_timeout: 1s",
            "        lb_policy: round_robin",
            "        endpoints:"]
    out += [f"          - address: 127.1.{i // 200}.{(i % 200) + 1}:{8080 + k}" for k in range(3)]
open(path, "w").write("\n".join(out) + "\n")
PY

"$bin/sluice-control" -c "$tmp/control.yaml" --address-path "$tmp/addresses" --log-level debug 2>"$tmp/control.log" &
control_pid=$!
for _ in $(seq 200); do [[ -s $tmp/addresses ]] && break; sleep 0.05; done
[[ -s $tmp/addresses ]] || { head -20 "$tmp/control.log" >&2; die "sluice-control did not start"; }
ads=$(awk '$1 == "ads" {print $2}' "$tmp/addresses")
admin=$(awk '$1 == "admin" {print $2}' "$tmp/addresses")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
sleep 0.5
idle_rss=$(rss_kib "$control_pid")

mkfifo "$tmp/cmd"
mode_args=()
((delta)) && mode_args=(--delta)
"$bin/sluice-ads-load" --target "$ads" --proxies "$proxies" --per-channel "$per_channel" "${mode_args[@]}" \
  <"$tmp/cmd" >"$tmp/load.out" 2>"$tmp/load.err" &
load_pid=$!
exec 3>"$tmp/cmd"

wait_line() {  # pattern seconds
  local i
  for ((i = 0; i < $2 * 50; i++)); do
    grep -qE "$1" "$tmp/load.out" && return 0
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.02
  done
  grep -qE "$1" "$tmp/load.out"
}
if ! wait_line '^(ready|not ready)' 120 || ! grep -q '^ready' "$tmp/load.out"; then
  cat "$tmp/load.out" "$tmp/load.err" >&2
  die "the simulated proxies did not all sync"
fi
read -r _ _ ready_ms < <(grep '^ready' "$tmp/load.out")
# Let the last ACKs land before the push is measured.
sleep 1

cpu_before=$(cpu_ticks "$control_pid")
load_cpu_before=$(cpu_ticks "$load_pid")
edit_ns=$(python3 - "$tmp/control.yaml" <<'PY'
import os, sys, time
path = sys.argv[1]
text = open(path).read()
new = text.replace("timeout: 15s}  # edit", "timeout: 10s}  # edit")
assert new != text
with open(path + ".tmp", "w") as f:
    f.write(new)
    f.flush()
    os.fsync(f.fileno())
t = time.time_ns()  # the change is the rename, right after
os.rename(path + ".tmp", path)
print(t)
PY
)
echo "edit $edit_ns" >&3
wait_line '^converged' 90 || { cat "$tmp/load.out" "$tmp/load.err" >&2; die "no result from sluice-ads-load"; }
cpu_after=$(cpu_ticks "$control_pid")
load_cpu_after=$(cpu_ticks "$load_pid")
rss=$(rss_kib "$control_pid")
threads=$(awk '/^Threads/ {print $2}' "/proc/$control_pid/status")
synced=$(curl -s "http://$admin/status" | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["proxies"]
ok = sum(1 for x in p if x["types"] and all(t["state"] == "SYNCED" for t in x["types"]))
print(f"{ok} of {len(p)}")') || synced="(no answer from /status)"
exec 3>&-
wait "$load_pid" && load_rc=0 || load_rc=$?
load_pid=""

read -r _ got _ total _ p50 _ _ p99 _ _ max _ < <(grep '^converged' "$tmp/load.out")
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }
echo "xds: $proxies proxies ($( ((delta)) && echo delta || echo 'state of the world')), $services services in one group:" \
  "$services listeners, route tables, EDS clusters ($((services * 3)) endpoints), $per_channel streams per connection"
echo "control.yaml: watch_interval 20ms, debounce 20ms (inside the measured time); edit: one route's timeout"
echo "ready: $proxies streams synced in $ready_ms ms"
grep -E '^(responses after ready|failed streams)' "$tmp/load.out" || true
echo "acked by $got of $total: p50 $p50 ms, p99 $p99 ms, max $max ms (from the rename of the edited file)"
echo "control CPU during the push: $(secs $((cpu_after - cpu_before))) s (utime+stime); load tool: $(secs $((load_cpu_after - load_cpu_before))) s"
echo "control RSS: $(mib "$idle_rss") MiB idle, $(mib "$rss") MiB with $proxies proxies" \
  "($(awk -v r="$rss" -v n="$proxies" 'BEGIN {printf "%.1f", r / n}') KiB per proxy;" \
  "$(awk -v r="$rss" -v i="$idle_rss" -v n="$proxies" 'BEGIN {printf "%.1f", (r - i) / n}') KiB each above idle), $threads threads"
echo "sluice-control status: $synced proxies SYNCED on every type"
round() { awk -v x="$1" 'BEGIN {printf "%.0f", x}'; }
echo "converged $got proxies in $(round "$max") ms (p99 $(round "$p99") ms), control RSS $(mib "$rss") MiB"
[[ $load_rc -eq 0 && $got -eq $proxies ]]
