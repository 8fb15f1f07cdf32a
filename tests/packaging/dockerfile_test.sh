#!/usr/bin/env bash
# Checks the Dockerfile against this machine's build, since no Docker engine
# runs here to build it:
#   - its runtime stage installs the Debian package of every shared library
#     the built binaries load (ldd, then dpkg -S), and no compiler or -dev;
#   - its build stage runs only scripts of the repo that exist, the same
#     scripts/install-deps and scripts/build the tests and CI run, with
#     targets the build knows;
#   - the runtime copies both binaries, and the proxy's gRPC module where
#     the proxy looks for it, and runs as a non-root user.
#
#   tests/packaging/dockerfile_test.sh BUILD_DIR FILE... [--dockerfile FILE]
#   (FILE: a binary or a module, *.so, under BUILD_DIR)
#
# Prints "FAIL: ..." for each broken check and exits 1 when there is any.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dockerfile=$repo/Dockerfile
build_dir=${1:?usage: dockerfile_test.sh BUILD_DIR BINARY... [--dockerfile FILE]}
shift
bins=()
while (($#)); do
  case $1 in
    --dockerfile) dockerfile=${2:?}; shift ;;
    *) bins+=("$1") ;;
  esac
  shift
done
((${#bins[@]} > 0)) || { echo "dockerfile_test: no binary given" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# The Dockerfile with continuation lines joined, comments dropped: one
# instruction per line.
instructions=$(sed -e '/^[[:space:]]*#/d' "$dockerfile" | sed -e ':a' -e '/\\$/{N; s/\\\n/ /; ba' -e '}')
# Instructions of the stage named NAME ("FROM ... AS NAME" up to the next FROM).
stage() {
  awk -v name="$1" 'toupper($1) == "FROM" { in_stage = (tolower($NF) == name && toupper($(NF-1)) == "AS"); next }
                    in_stage' <<<"$instructions"
}
build_stage=$(stage build)
runtime_stage=$(stage runtime)
[[ -n $build_stage ]] || fail "no stage 'FROM ... AS build' in $dockerfile"
[[ -n $runtime_stage ]] || fail "no stage 'FROM ... AS runtime' in $dockerfile"
[[ $(awk 'toupper($1) == "FROM" { last = tolower($NF) } END { print last }' <<<"$instructions") == runtime ]] ||
  fail "the last stage (the image) is not the runtime stage"

# --- runtime packages cover the binaries' libraries ------------------------
# Packages after "apt-get install" in the runtime stage's RUN lines.
runtime_pkgs=$(grep -E '^RUN ' <<<"$runtime_stage" | sed -e 's/&&/\n/g' -e 's/;/\n/g' |
  awk '{ for (i = 1; i <= NF; i++) if ($i == "install") { for (j = i + 1; j <= NF; j++) if ($j !~ /^-/) print $j } }' |
  sort -u)
[[ -n $runtime_pkgs ]] || fail "the runtime stage installs no package"

# The package that holds each library, in one dpkg call (it is slow to
# start): dpkg registers a path once, under /usr or not (merged /usr), so
# ask for the path as ldd printed it, its target, and the other spelling.
declare -A lib_users=()
for bin in "${bins[@]}"; do
  [[ -x $bin ]] || { fail "$bin: no such binary (build it first)"; continue; }
  if ldd "$bin" | grep -q 'not found'; then
    fail "$bin: ldd finds no $(ldd "$bin" | awk '/not found/ { print $1 }' | tr '\n' ' ')"
  fi
  while read -r lib; do
    lib_users[$lib]+="$(basename "$bin") "
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
done
candidates() {
  local real
  real=$(readlink -f "$1")
  printf '%s\n' "$1" "$real" "/usr$1" "${1#/usr}" "/usr$real" "${real#/usr}"
}
declare -A package_at=()
while IFS= read -r line; do
  package_at[${line#*: }]=${line%%:*}
done < <(for lib in "${!lib_users[@]}"; do candidates "$lib"; done | sort -u | xargs -r dpkg -S 2>/dev/null || true)

declare -A needed_by=()
for lib in "${!lib_users[@]}"; do
  pkg=''
  while read -r path; do
    [[ -n ${package_at[$path]:-} ]] && { pkg=${package_at[$path]}; break; }
  done < <(candidates "$lib")
  [[ -n $pkg ]] || { fail "${lib_users[$lib]% } needs $lib, which no Debian package holds"; continue; }
  needed_by[$pkg]+="$(basename "$lib") "
done
for pkg in $(printf '%s\n' "${!needed_by[@]}" | sort); do
  if grep -qxF "$pkg" <<<"$runtime_pkgs"; then
    read -ra libs <<<"${needed_by[$pkg]}"
    pass "runtime installs $pkg (${libs[0]}$( ((${#libs[@]} > 1)) && echo " and $((${#libs[@]} - 1)) more"))"
  else
    fail "the runtime stage does not install $pkg, needed by ${needed_by[$pkg]% }"
  fi
done
((${#needed_by[@]} > 5)) || fail "only ${#needed_by[@]} packages found for the binaries' libraries: ldd or dpkg misread"

# No toolchain in the image.
while read -r pkg; do
  [[ -z $pkg ]] && continue
  if [[ $pkg =~ -dev$|^(gcc|g\+\+|cpp|clang|cmake|ninja-build|build-essential|make|ccache)(-[0-9.]+)?$ ]]; then
    fail "the runtime stage installs $pkg, a compiler or build package"
  fi
done <<<"$runtime_pkgs"

# --- runtime user and binaries ---------------------------------------------
user=$(awk 'toupper($1) == "USER" { u = $2 } END { print u }' <<<"$runtime_stage")
case ${user%%:*} in
  '') fail "the runtime stage sets no USER (it would run as root)" ;;
  0 | root) fail "the runtime stage runs as root ($user)" ;;
  *) pass "the image runs as $user" ;;
esac
copy=$(grep -E '^COPY --from=build ' <<<"$runtime_stage" || true)
for bin in "${bins[@]}"; do
  rel=${bin#"${build_dir%/}"/}
  if grep -Eq "/build/$rel( |$)" <<<"$copy"; then pass "the image holds $rel"
  else fail "the runtime stage copies no build/$rel from the build stage"; fi
done
# The proxy loads its gRPC module from <its directory>/../lib/sluice/
# (proxy/module/grpc_module_loader.h): the module must land there.
bin_dest=$(awk '/\/build\/bin\// { print $NF }' <<<"$copy" | head -1)
for bin in "${bins[@]}"; do
  [[ $bin == *.so ]] || continue
  want="$(dirname "${bin_dest%/}")/lib/sluice/"
  if grep -Eq "/build/${bin#"${build_dir%/}"/} +$want\$" <<<"$copy"; then pass "the module lands in $want"
  else fail "the runtime stage does not copy $(basename "$bin") to $want, where sluice looks for it"; fi
done

# --- build stage runs the tested scripts -----------------------------------
runs=$(grep -E '^RUN ' <<<"$build_stage" || true)
for script in $(grep -oE '(^|[ ;&|])scripts/[A-Za-z0-9_./-]+' <<<"$runs" | sed 's/^[ ;&|]//' | sort -u); do
  if [[ -x $repo/$script && -f $repo/$script ]]; then pass "build stage runs $script"
  else fail "the build stage runs $script, which is not an executable script of the repo"; fi
done
grep -Eq '(^| )scripts/install-deps( |$)' <<<"$runs" || fail "the build stage does not run scripts/install-deps"
grep -Eq '(^| )scripts/build( |$)' <<<"$runs" || fail "the build stage does not run scripts/build"
# Build commands that bypass the scripts would be untested here.
if grep -Eq '(^|[ ;&|])(cmake|ninja|make|g\+\+|gcc|clang\+\+)( |$)' <<<"$runs"; then
  fail "the build stage runs a compiler or build tool directly instead of scripts/build: $(grep -E '(cmake|ninja|make|g\+\+|gcc|clang)' <<<"$runs" | head -1)"
fi
for target in $(grep -oE 'scripts/build[^&;|]*' <<<"$runs" | grep -oE -- '--target +[^ ]+' | awk '{ print $2 }'); do
  if ninja -C "$build_dir" -t query "$target" >/dev/null 2>&1; then pass "scripts/build --target $target is a target"
  else fail "scripts/build --target $target: the build has no target $target"; fi
done
for bin in "${bins[@]}"; do
  [[ $bin == *.so ]] && continue  # a dependency of the binary that loads it
  name=$(basename "$bin")
  grep -Eq -- "scripts/build( *$| *&&| +--target +$name( |$))" <<<"$runs" ||
    fail "no scripts/build in the build stage builds $name"
done

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
