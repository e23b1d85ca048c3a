#!/usr/bin/env bash
# The C test driver of the kernels (tests/c/check_kernels.c) on every kernel
# set, without Python:
#   native   cc: the x86 sets this CPU runs (or whatever this machine is);
#            again with -DSG_PLAIN_C (the plain-C generic set that MSVC
#            builds use)
#   clang    the same with clang, if installed, and a syntax check of the
#            MSVC code paths (clang pretending to be MSVC, for x86-64 and ARM64)
#   aarch64  cross-compiled with aarch64-linux-gnu-gcc and run under
#            qemu-aarch64: the generic and NEON sets
# Each run ends with "N passed, M failed"; so does this script, over all runs.
#
#   scripts/check_kernels.sh            use what is installed; say what is missing
#   scripts/check_kernels.sh --install  first apt-get the cross compiler and qemu
#                                       (root or passwordless sudo; CI does this)
# Exit status 1 if a check failed or a build broke; a missing tool is a warning.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CC=${CC:-cc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgns-kernels.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=("$REPO/tests/c/check_kernels.c" "$REPO/csrc/kernels.c")
FLAGS=(-O2 -std=c99 -Wall -Wextra -Werror -I"$REPO/csrc")
PASSED=0 FAILED=0 BROKEN=0

warn() {
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!!! WARNING: %s\n' "$@"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
}

# run NAME COMPILER [FLAGS...] -- [RUNNER...]: build the driver, run it, add up its counts.
run() {
    local name=$1 cc=$2 exe=$WORK/$1 line
    shift 2
    local -a cflags=() runner=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cflags+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    runner=("$@")
    printf '\n==== %s: %s %s\n' "$name" "$cc" "${cflags[*]}"
    if ! "$cc" "${FLAGS[@]}" "${cflags[@]}" "${SRC[@]}" -lm -o "$exe"; then
        printf '*** %s: build failed\n' "$name"
        BROKEN=$((BROKEN + 1))
        return
    fi
    "${runner[@]}" "$exe" >"$exe.out" 2>&1 || true
    grep -v '^  FAIL' "$exe.out" || true
    grep '^  FAIL' "$exe.out" | head -n 20 || true
    line=$(tail -n 1 "$exe.out")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        PASSED=$((PASSED + BASH_REMATCH[1]))
        FAILED=$((FAILED + BASH_REMATCH[2]))
    else
        printf '*** %s: the driver did not finish\n' "$name"
        BROKEN=$((BROKEN + 1))
    fi
}

if [ "${1:-}" = --install ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    printf '==== apt-get install gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross clang\n'
    if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross clang; } >"$WORK/apt.log" 2>&1; then
        warn "could not install the aarch64 cross compiler / qemu-user / clang (apt-get failed)" \
             "what is missing is SKIPPED below, not run" "$(tail -n 5 "$WORK/apt.log")"
    fi
fi

run native "$CC"
case $(uname -m) in
    x86_64|i?86) run native-plain-c "$CC" -DSG_PLAIN_C ;;
esac

if command -v clang >/dev/null 2>&1; then
    run clang clang
    # MSVC's paths (no target attributes, __cpuidex/_xgetbv, arm64_neon.h,
    # plain-C generic): clang in MSVC mode without __clang__, the intrinsics
    # enabled globally as MSVC allows, the C runtime's headers stood in for.
    for target in x86_64-pc-windows-msvc aarch64-pc-windows-msvc; do
        isa=()
        [ "$target" = x86_64-pc-windows-msvc ] && isa=(-mavx2 -mfma -mavx512f)
        if clang --target=$target -U__clang__ -fms-compatibility -fms-extensions -ffreestanding "${isa[@]}" \
                -Wall -Wextra -Werror -Wno-builtin-macro-redefined -I"$REPO/tests/c/msvc-crt" -I"$REPO/csrc" \
                -fsyntax-only "$REPO/csrc/kernels.c"; then
            printf 'msvc paths (%s): syntax OK\n' "$target"
        else
            printf '*** msvc paths (%s): clang rejects them\n' "$target"
            BROKEN=$((BROKEN + 1))
        fi
    done
else
    warn "clang not installed: the clang build and the MSVC-path syntax check are SKIPPED"
fi

if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
    run aarch64-neon aarch64-linux-gnu-gcc -- qemu-aarch64 -L /usr/aarch64-linux-gnu
else
    warn "aarch64-linux-gnu-gcc or qemu-aarch64 missing: the NEON kernels are NOT checked" \
         "(apt-get install gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross, or run with --install)"
fi

printf '\n'
[ "$BROKEN" -eq 0 ] || printf '*** %d build(s) or run(s) broke\n' "$BROKEN"
printf 'kernels: %d passed, %d failed\n' "$PASSED" "$FAILED"
[ "$FAILED" -eq 0 ] && [ "$BROKEN" -eq 0 ]
