#!/usr/bin/env bash
# Mesh control plane at scale: a generated mesh of S services and W
# workloads (with the CA) in sluice-control, one simulated sidecar per
# workload plus the edge gateway (tools/ads_load.cc, each a real ADS
# stream subscribing as a sluice sidecar does: Listener and Cluster by
# wildcard, then the RouteConfiguration, ClusterLoadAssignment and Secret
# names they refer to, the proxy's own certificate excepted).
#
#   bench/run.sh mesh [--services S] [--workloads W] [--per-channel C] [--no-build] [--keep]
#
#   --services S     services (default 1000)
#   --workloads W    workloads, each a sidecar (default 2000)
#   --per-channel C  streams per gRPC channel (own TCP connection) (default 100)
#   --no-build       use build/bin as it is
#   --keep           keep the temp dir (control.yaml, control.log, the load tool's output)
#
# Workload i serves service i mod S (labels version v1 or v2 by i div S)
# and calls three other services; each service has a route set splitting
# 90/10 between its v1 and v2 subsets; the gateway routes to a few services
# with the same split. Peer authentication is STRICT, so every proxy also
# asks SDS for the trust bundle.
# Measured, each from the rename of the edited file into place (the file
# is polled every 20ms and debounced 20ms, both inside the times):
# - a traffic shift: service 42's split goes to 50/50 in its route set and
#   at the gateway; the time until every proxy calling it and the gateway
#   has ACKed the new version (p50, p99, max), how many proxies were pushed
#   anything, and control-plane CPU (utime+stime) across it;
# - a new workload appended to the file: the time until its sidecar (its
#   stream opened right after the write) has ACKed a config with its
#   listeners, and until its CreateCertificate call (over TLS, verified
#   against the mesh root; a fresh P-256 key's CSR, a bootstrap token) has
#   a certificate.
# RSS is VmRSS with every proxy connected, and VmHWM. The last line is
#   converged N proxies in X ms (p99 Y ms), control RSS Z MiB
# where N and X are the affected proxies and the slowest one's time. Exits 1
# when a measurement did not complete.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$repo/build/bin

services=1000 workloads=2000 per_channel=100 build=1 keep=0
while (($#)); do
  case $1 in
    --services) services=${2:?--services needs a number}; shift ;;
    --workloads) workloads=${2:?--workloads needs a number}; shift ;;
    --per-channel) per_channel=${2:?--per-channel needs a number}; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,35s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench/run.sh mesh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "bench/run.sh mesh: $*" >&2; exit 1; }
((services >= 4 && workloads >= services)) || die "needs --services 4 or more and --workloads at least --services"

if ((build)); then
  "$repo/scripts/build" --target sluice-control >/dev/null
  "$repo/scripts/build" --target sluice-ads-load >/dev/null
fi
[[ -x $bin/sluice-control && -x $bin/sluice-ads-load ]] || die "build/bin/sluice-control or sluice-ads-load is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-mesh-bench.XXXXXX")
control_pid="" load_pid=""
cleanup() {
  { exec 3>&-; } 2>/dev/null || true
  [[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null || true
  [[ -n $control_pid ]] && kill "$control_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if ((keep)); then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/token.key"
chmod 600 "$tmp/token.key"
# control.yaml (workloads last, so a new one is appended), the node ids of
# the proxies, and those calling the edited service (plus the gateway).
python3 - "$tmp" "$services" "$workloads" <<'PY'
import sys
tmp, S, W = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
E = 42 % S  # the edited service
svc = lambda i: f"svc-{i:04d}"
wl = lambda i: f"wl-{i:04d}"
# Every workload its own IP (addresses are unique mesh-wide).
ip = lambda i: f"10.{1 + i // 62500}.{(i // 250) % 250}.{1 + i % 250}"
addr = lambda i: f"{ip(i)}:15006"
def calls(i):
    out = []
    for k, step in enumerate((7, 13, 31)):
        j = (i * step + k + 1) % S
        while j == i % S or j in out:
            j = (j + 1) % S
        out.append(j)
    return out
gateway_services = sorted({E, 0, 1, 2} - {None})
def split(i, mark):
    m = lambda v: f"  # edit-{v}" if mark else ""
    return [f"            - {{service: {svc(i)}, subset: {{version: v1}}, weight: 90}}{m('v1')}",
            f"            - {{service: {svc(i)}, subset: {{version: v2}}, weight: 10}}{m('v2')}"]
out = ["ads: {address: 127.0.0.1:0}", "admin: {address: 127.0.0.1:0}",
       "debounce: 20ms", "watch_interval: 20ms",
       "ca:", "  trust_domain: bench.mesh", f"  dir: {tmp}/ca",
       f"  token_keys: [{tmp}/token.key]", "  default_ttl: 24h", "  address: 127.0.0.1:0",
       "mesh:", "  trust_domain: bench.mesh", "  services:"]
backends = {s: [] for s in range(S)}
for i in range(W):
    backends[i % S].append(i)
for s in range(S):
    out += [f"    - name: {svc(s)}", "      ports: [{port: 8080, protocol: http}]", "      endpoints:"]
    out += [f"        - {{address: {addr(i)}, workload: {wl(i)}}}" for i in backends[s]]
out.append("  routes:")
for s in range(S):
    out += [f"    - name: {svc(s)}-split", f"      service: {svc(s)}", "      rules:",
            "        - name: split", "          match: {prefix: /}", "          to:"] + split(s, s == E)
out += ["    - name: edge", "      gateways: [edge]", "      rules:"]
for s in gateway_services:
    out += [f"        - name: {svc(s)}", f"          match: {{prefix: /{svc(s)}/}}", "          to:"] + split(s, s == E)
out += ["  gateways:", "    - name: edge", "      listeners: [{name: http, address: 127.0.0.1:8080}]",
        "  policies:", "    peer_authentication:", "      - {namespace: default, mode: STRICT}",
        "  workloads:"]
def workload(i, name):
    s = i % S
    lines = [f"    - name: {name}", f"      labels: {{app: {svc(s)}, version: v{1 + (i // S) % 2}}}",
             "      inbound:",
             f"        - {{service: {svc(s)}, port: 8080, address: {addr(i)}, app: {ip(i)}:8080}}",
             "      outbound:"]
    lines += [f"        - {{service: {svc(j)}, port: 8080, address: {ip(i)}:{15101 + k}}}" for k, j in enumerate(calls(i))]
    return lines
for i in range(W):
    out += workload(i, wl(i))
open(f"{tmp}/control.yaml", "w").write("\n".join(out) + "\n")
open(f"{tmp}/new-workload.yaml", "w").write("\n".join(workload(W, "wl-new")) + "\n")
open(f"{tmp}/node-ids", "w").write("".join(f"{wl(i)}.default\n" for i in range(W)) + "edge.default\n")
callers = [i for i in range(W) if E in calls(i)]
open(f"{tmp}/affected", "w").write("".join(f"{wl(i)}.default\n" for i in callers) + "edge.default\n")
PY
proxies=$((workloads + 1))
affected=$(wc -l <"$tmp/affected")

"$bin/sluice-control" -c "$tmp/control.yaml" --address-path "$tmp/addresses" 2>"$tmp/control.log" &
control_pid=$!
for _ in $(seq 1200); do [[ -s $tmp/addresses ]] && break; kill -0 "$control_pid" 2>/dev/null || break; sleep 0.05; done
[[ -s $tmp/addresses ]] || { head -20 "$tmp/control.log" >&2; die "sluice-control did not start"; }
ads=$(awk '$1 == "ads" {print $2}' "$tmp/addresses")
ca=$(awk '$1 == "ca" {print $2}' "$tmp/addresses")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
# Time its threads spent runnable but waiting for a CPU (ns): on a shared
# machine the wall-clock times include it, the CPU seconds do not.
run_wait_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{w += $2} END {printf "%.0f", w}'; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
sleep 0.5
idle_rss=$(status_kib "$control_pid" VmRSS)
start_cpu=$(cpu_ticks "$control_pid")

mkfifo "$tmp/cmd"
"$bin/sluice-ads-load" --target "$ads" --proxies "$proxies" --per-channel "$per_channel" \
  --ca-target "$ca" --ca-root "$tmp/ca/root.pem" \
  --node-ids "$tmp/node-ids" --cluster mesh --timeout 120 <"$tmp/cmd" >"$tmp/load.out" 2>"$tmp/load.err" &
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
if ! wait_line '^(ready|not ready)' 150 || ! grep -q '^ready' "$tmp/load.out"; then
  cat "$tmp/load.out" "$tmp/load.err" >&2
  die "the simulated proxies did not all sync"
fi
read -r _ _ ready_ms < <(grep '^ready' "$tmp/load.out")
sleep 1  # the last ACKs land before the push is measured
sync_cpu=$(($(cpu_ticks "$control_pid") - start_cpu))

# Renames a new version of control.yaml into place; prints the time of the rename.
replace() {  # python expression of `text` giving the new text
  python3 - "$tmp/control.yaml" "$1" <<'PY'
import os, sys, time
path = sys.argv[1]
text = open(path).read()
new = eval(sys.argv[2], {"text": text, "open": open, "tmp": os.path.dirname(path)})
assert new != text
with open(path + ".tmp", "w") as f:
    f.write(new)
    f.flush()
    os.fsync(f.fileno())
t = time.time_ns()  # the change is the rename, right after
os.rename(path + ".tmp", path)
print(t)
PY
}

cpu_before=$(cpu_ticks "$control_pid")
wait_before=$(run_wait_ns "$control_pid")
edit_ns=$(replace 'text.replace("weight: 90}  # edit-v1", "weight: 50}  # edit-v1").replace("weight: 10}  # edit-v2", "weight: 50}  # edit-v2")')
echo "edit $edit_ns $tmp/affected" >&3
wait_line '^converged' 150 || { cat "$tmp/load.out" "$tmp/load.err" >&2; die "no result from sluice-ads-load"; }
cpu_after=$(cpu_ticks "$control_pid")
wait_after=$(run_wait_ns "$control_pid")
rss=$(status_kib "$control_pid" VmRSS)
threads=$(status_kib "$control_pid" Threads)

"$bin/sluice-control" token --key "$tmp/token.key" --namespace default --service-account wl-new >"$tmp/token"
sleep 0.5
cpu_join=$(cpu_ticks "$control_pid")
add_ns=$(replace 'text + open(tmp + "/new-workload.yaml").read()')
echo "workload wl-new.default $(cat "$tmp/token") $add_ns" >&3
wait_line '^workload ' 150 || { cat "$tmp/load.out" "$tmp/load.err" >&2; die "no new-workload result from sluice-ads-load"; }
sleep 0.5
cpu_join_after=$(cpu_ticks "$control_pid")
hwm=$(status_kib "$control_pid" VmHWM)
exec 3>&-
wait "$load_pid" && load_rc=0 || load_rc=$?
load_pid=""

read -r _ got _ total _ p50 _ _ p99 _ _ max _ < <(grep '^converged' "$tmp/load.out")
read -r _ _ _ wl_config _ _ wl_cert _ < <(grep '^workload ' "$tmp/load.out")
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }
echo "mesh: $services services, $workloads workloads (sidecars) + 1 gateway = $proxies ADS streams (state of the world)," \
  "$per_channel streams per connection; STRICT mTLS, a 90/10 route set per service"
echo "control.yaml: watch_interval 20ms, debounce 20ms (inside the measured times)"
echo "ready: $proxies streams synced (CDS, EDS, LDS, RDS, SDS) in $ready_ms ms; control CPU $(secs "$sync_cpu") s"
echo "edit: service 42's split 90/10 -> 50/50 (its route set and the gateway's rule)"
grep -E '^(pushed|responses after ready|failed streams)' "$tmp/load.out" || true
echo "acked by $got of $total affected proxies: p50 $p50 ms, p99 $p99 ms, max $max ms (from the rename of the edited file)"
echo "control CPU during the push: $(secs $((cpu_after - cpu_before))) s (utime+stime);" \
  "its threads waited $(awk -v n=$((wait_after - wait_before)) 'BEGIN {printf "%.2f", n / 1e9}') s for a CPU (load average $(cut -d' ' -f1 /proc/loadavg))"
echo "new workload: first config ACK $wl_config ms, first certificate $wl_cert ms (from the rename);" \
  "control CPU $(secs $((cpu_join_after - cpu_join))) s"
grep '^workload ' "$tmp/load.out"
echo "control RSS: $(mib "$idle_rss") MiB idle, $(mib "$rss") MiB with $proxies proxies, peak (VmHWM) $(mib "$hwm") MiB, $threads threads"
round() { awk -v x="$1" 'BEGIN {printf "%.0f", x}'; }
echo "converged $got proxies in $(round "$max") ms (p99 $(round "$p99") ms), control RSS $(mib "$rss") MiB"
[[ $load_rc -eq 0 && $got -eq $total ]]
