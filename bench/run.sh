#!/usr/bin/env bash
# Benchmarks Sluice against HAProxy and NGINX with the shared harness
# (compare.sh, expected at ../shared/bench/ beside this repo).
#
#   bench/run.sh MODE [compare.sh args...]
#   bench/run.sh tcp                          # L4 bulk: iperf3 through the proxy
#   bench/run.sh tcprr --cpus 0,1,1 --runs 5  # L4 small RPC, throughput layout
#
# MODE is one compare.sh mode (or a comma list); sluice runs with the config
# bench/sluice-candidate.sh picks for it. Results go to
# bench/results/<timestamp>-<MODE>[-<tag>]/ unless --out is given.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

usage() { sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }

[[ $# -ge 1 && $1 != -* ]] || { usage >&2; exit 2; }
mode=$1
shift

compare=$repo/../shared/bench/compare.sh
[[ -f $compare ]] || die "the shared benchmark harness is missing: expected ../shared/bench/compare.sh next to this repo"

out="" tag=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --out) out=${args[i + 1]:-} ;;
    --tag) tag=${args[i + 1]:-} ;;
  esac
done
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
bash "$compare" --modes "$mode" --candidates haproxy,nginx \
  --candidate "custom@sluice:$candidate" "${extra[@]}" "$@"
echo "results: $out"
