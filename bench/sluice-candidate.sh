#!/usr/bin/env bash
# Started by compare.sh (through bench/run.sh) as the "sluice" candidate.
# Picks the config template for $BENCH_MODE, points it at $BENCH_LISTEN and
# $BENCH_UPSTREAM, writes it to $BENCH_TMP and execs the Release build.
#
# Templates listen on 127.0.0.1:10000 and send to one endpoint 127.0.0.1:1808N;
# both are rewritten, so a template also runs as is outside the harness.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

die() { echo "sluice-candidate: $*" >&2; exit 1; }
: "${BENCH_MODE:?run by compare.sh}" "${BENCH_LISTEN:?}" "${BENCH_UPSTREAM:?}" "${BENCH_TMP:?}"

case $BENCH_MODE in
  tcp|tcprr) template=$here/configs/tcp.yaml ;;  # L4 in both; only the upstream differs
  *) template=$here/configs/$BENCH_MODE.yaml ;;
esac
# bench/run.sh --variant NAME: the same mode with another topology.
[[ -n ${SLUICE_BENCH_VARIANT:-} ]] && template=$here/configs/$BENCH_MODE-$SLUICE_BENCH_VARIANT.yaml
[[ -f $template ]] || die "no config for mode '$BENCH_MODE' (add bench/configs/$BENCH_MODE.yaml)"

mkdir -p "$BENCH_TMP"
cfg=$BENCH_TMP/sluice-$BENCH_MODE${SLUICE_BENCH_VARIANT:+-$SLUICE_BENCH_VARIANT}.yaml
# A template marked "bench: fixed upstream" names a harness upstream other
# than $BENCH_UPSTREAM (the h2c one) and keeps it.
upstream_rewrite=(-e "s/127\.0\.0\.1:1808[0-9]\b/$BENCH_UPSTREAM/")
grep -q 'bench: fixed upstream' "$template" && upstream_rewrite=()
sed -e "s/127\.0\.0\.1:10000\b/$BENCH_LISTEN/" "${upstream_rewrite[@]}" "$template" >"$cfg"
# SLUICE_BENCH_BIN: another build (bench/run.sh --baseline), else this checkout's.
exec "${SLUICE_BENCH_BIN:-$repo/build/bin/sluice}" -c "$cfg"
