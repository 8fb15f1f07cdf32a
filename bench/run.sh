#!/usr/bin/env bash
# Benchmarks Sluice against HAProxy and NGINX with the shared harness
# (compare.sh, expected at ../shared/bench/ beside this repo).
#
#   bench/run.sh MODE [compare.sh args...]
#   bench/run.sh tcp                          # L4 bulk: iperf3 through the proxy
#   bench/run.sh tcprr --cpus 0,1,1 --runs 5  # L4 small RPC, throughput layout
#   bench/run.sh http1 --variant lr4          # 4-host least_request vs HAProxy leastconn
#   bench/run.sh tls --runs 1 --duration 5    # TLS termination: keep-alive req/s and handshakes/s
#   bench/run.sh http1 --baseline OLD/sluice  # also runs another build ("sluice-baseline") in the same rounds
#   bench/run.sh h2 --runs 3                  # h2c clients to an HTTP/1.1 upstream, beside nghttpx
#   bench/run.sh h2 --variant h2up            # HTTP/2 on both sides, HAProxy as the peer
#
#   bench/run.sh xds [--proxies N] [--delta] # control plane: N ADS streams, edit-to-last-ACK time
#   bench/run.sh mesh [--services 1000] [--workloads 2000]
#                     # mesh control plane: a route edit to its callers' ACKs, a new workload to its config and certificate
#
# MODE is one compare.sh mode (or a comma list); sluice runs with the config
# bench/sluice-candidate.sh picks for it. Results go to
# bench/results/<timestamp>-<MODE>[-<tag>]/ unless --out is given.
# Mode xds does not use compare.sh: bench/xds_converge.sh runs N simulated
# proxies (1000 by default; SotW, or delta with --delta) against
# sluice-control serving 100 services, changes one route and reports the
# time until every proxy has ACKed it (p50, p99, max), control-plane CPU
# and RSS; `bench/run.sh xds --help` for its options. Mode mesh runs
# bench/mesh_converge.sh (`bench/run.sh mesh --help`).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

usage() { sed -n '2,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }

[[ $# -ge 1 && $1 != -* ]] || { usage >&2; exit 2; }
mode=$1
shift
[[ $mode == xds ]] && exec bash "$here/xds_converge.sh" "$@"
[[ $mode == mesh ]] && exec bash "$here/mesh_converge.sh" "$@"

compare=$repo/../shared/bench/compare.sh
[[ -f $compare ]] || die "the shared benchmark harness is missing: expected ../shared/bench/compare.sh next to this repo"

out="" tag="" variant="" baseline=""
args=()
while (($#)); do
  case $1 in
    --out) out=${2:-}; args+=("$1" "${2:-}"); shift ;;
    --tag) tag=${2:-}; args+=("$1" "${2:-}"); shift ;;
    # A variant swaps in bench/configs/MODE-VARIANT.yaml for sluice and
    # bench/haproxy/MODE-VARIANT.cfg for HAProxy (the same topology).
    --variant) variant=${2:?--variant needs a name}; shift ;;
    # Before/after from one harness run: the same config on another binary.
    --baseline) baseline=${2:?--baseline needs a sluice binary}; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
set -- "${args[@]}"
[[ -n $variant && -z $tag ]] && tag=$variant
extra=()
if [[ -z $out ]]; then
  out=$here/results/$(date +%Y%m%d-%H%M%S)-${mode//,/+}${tag:+-$tag}
  extra=(--out "$out")
fi
mkdir -p "$out"

"$repo/scripts/install-deps" --bench
"$repo/scripts/build"
[[ -x $repo/build/bin/sluice ]] || die "build/bin/sluice was not built"

# compare.sh runs the candidate through `bash -c`, pinned to the proxy CPU.
candidate="exec $(printf '%q' "$here/sluice-candidate.sh")"
builtins=haproxy,nginx
# nghttpx is the HTTP/2 reference proxy.
[[ ,$mode, == *,h2,* ]] && builtins=haproxy,nginx,nghttpx
haproxy_variant=()
if [[ -n $variant ]]; then
  candidate="SLUICE_BENCH_VARIANT=$(printf '%q' "$variant") $candidate"
  hcfg=$here/haproxy/$mode-$variant.cfg
  [[ -f $hcfg ]] || die "no HAProxy config for variant '$variant' (add bench/haproxy/$mode-$variant.cfg)"
  builtins=nginx
  haproxy_variant=(--candidate "custom@haproxy-$variant:exec haproxy -db -f $(printf '%q' "$hcfg")")
fi
baseline_candidate=()
if [[ -n $baseline ]]; then
  [[ -x $baseline ]] || die "--baseline $baseline is not an executable"
  baseline_candidate=(--candidate "custom@sluice-baseline:SLUICE_BENCH_BIN=$(printf '%q' "$(realpath "$baseline")") $candidate")
fi
bash "$compare" --modes "$mode" --candidates "$builtins" "${haproxy_variant[@]}" \
  --candidate "custom@sluice:$candidate" "${baseline_candidate[@]}" "${extra[@]}" "$@"
echo "results: $out"
