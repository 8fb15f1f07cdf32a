#!/usr/bin/env bash
# What an ADS stream costs the sidecar: VmRSS and thread count of
# `sluice` (2 workers) idle and holding 64 downstream keep-alive connections,
# with the bootstrap alone and with the same bootstrap plus an ADS stream
# open to tests/integration/support/ads_server.js.
#
#   bench/ads_footprint.sh [build-dir]     (default: build)
#
# Prints one line per case: VmRSS, of it RssAnon (the process's own memory;
# the rest is file-backed: the binary's and shared libraries' pages), Pss
# (shared pages divided among the processes mapping them), and Threads.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build}/bin
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

"$bin/sluice-demo-backend" --listen 127.0.0.1:0 --name b >"$tmp/backend.out" 2>&1 &
pids+=($!)
sleep 0.5
backend=$(grep -oE '127\.0\.0\.1:[0-9]+' "$tmp/backend.out" | head -1)

mkfifo "$tmp/cmd"
NODE_PATH=$repo/.npm-deps/node_modules node "$repo/tests/integration/support/ads_server.js" "$tmp/cmd" 0 >"$tmp/ads.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q '^listening' "$tmp/ads.out" && break; sleep 0.1; done
ads_port=$(awk '/^listening/ {print $2}' "$tmp/ads.out")

static="admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      route_config:
        virtual_hosts:
          - {name: all, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: b}}]}
clusters:
  - name: b
    endpoints: [{address: $backend}]
"
printf '%s' "$static" >"$tmp/file.yaml"
printf '%s\ndynamic: {ads: {address: 127.0.0.1:%s, node: {id: bench, cluster: bench}}}\n' "$static" "$ads_port" >"$tmp/ads.yaml"

report() {
  local pid=$1
  echo "VmRSS $(awk '/VmRSS/ {print $2}' /proc/$pid/status) kB" \
    "(RssAnon $(awk '/RssAnon/ {print $2}' /proc/$pid/status) kB," \
    "Pss $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup) kB)," \
    "$(awk '/Threads/ {print $2}' /proc/$pid/status) threads"
}

measure() {  # name config
  local name=$1 cfg=$2
  "$bin/sluice" -c "$cfg" --admin-address-path "$tmp/$name.admin" 2>"$tmp/$name.log" &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 50); do [ -s "$tmp/$name.admin" ] && break; sleep 0.1; done
  local admin port
  admin=$(cat "$tmp/$name.admin")
  port=$(curl -s "http://$admin/listeners" | grep -oE '"address": "127\.0\.0\.1:[0-9]+"' | grep -oE '[0-9]+"$' | tr -d '"')
  sleep 1
  echo "$name idle: $(report $pid)"
  # 64 keep-alive connections, each with one request answered, held open.
  python3 - "$port" "$pid" "$name" <<'PY'
import socket, sys, time
port, pid, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conns = []
for _ in range(64):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"\n"):
        data += s.recv(4096)
    conns.append(s)
time.sleep(1)
st = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
pss = next(l.split()[1] for l in open(f"/proc/{pid}/smaps_rollup") if l.startswith("Pss:"))
kb = lambda k: st[k].split()[0]
print(f"{name} 64 connections: VmRSS {kb('VmRSS')} kB (RssAnon {kb('RssAnon')} kB, Pss {pss} kB), {st['Threads'].strip()} threads")
PY
  [ -n "${FOOTPRINT_DETAIL:-}" ] && { grep -E "Rss" /proc/$pid/status; for t in /proc/$pid/task/*; do cat $t/comm; done | sort | uniq -c; }
  kill -INT $pid
  wait $pid 2>/dev/null || true
}

measure file "$tmp/file.yaml"
measure ads "$tmp/ads.yaml"
grep -q 'opening a stream' "$tmp/ads.log" && grep -c '"event":"request"' "$tmp/ads.out" | sed 's/^/ads_server.js requests seen: /'
