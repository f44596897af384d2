#!/usr/bin/env bash
# Compile the BPF programs of this module with clang into <out>/bpf/*.o
# (bundled programs) and <out>/bpf/test/*.o (kernel-loadable test programs).
# Usage: build-bpf.sh <module dir> <output dir>; CLANG overrides the compiler.
# Only sources newer than their object (or than the headers) are rebuilt.
set -euo pipefail

module=${1:?usage: build-bpf.sh <module dir> <output dir>}
out=${2:?usage: build-bpf.sh <module dir> <output dir>}
clang=${CLANG:-clang}
# absolute paths: the compiler runs from inside the module
module=$(cd "$module" && pwd)
mkdir -p "$out" && out=$(cd "$out" && pwd)

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "bpf-objects: ERROR: '$clang' not found. The BPF programs are compiled with clang" >&2
    echo "bpf-objects: (>= 14, with the bpf target): install clang (e.g. apt-get install clang llvm)" >&2
    echo "bpf-objects: or point CLANG at it." >&2
    exit 1
fi
if ! "$clang" -print-targets 2>/dev/null | grep -qw bpf; then
    echo "bpf-objects: ERROR: '$clang' has no bpf target (clang -print-targets)" >&2
    exit 1
fi

inc="$module/include"
# any header, the compat shims and the kublk-style programs' own headers included
newest_header=$(ls -t "$inc"/*.h "$inc"/compat/*.h "$inc"/compat/*/*.h "$module"/src/kublk/*.h | head -1)
# compiled from inside the module with relative paths and a mapped debug directory (below): no
# checkout path ends up in the objects, so every clone builds the same bytes
# -mcpu=v3: 32-bit atomic fetch-and-add/sub; no -Werror so newer clangs' new warnings do not break the build
cflags='-target bpf -mcpu=v3 -O2 -g -Wall'

# collect the stale objects, then compile them in parallel (one clang per CPU)
jobs=()
collect() {
    local src=$1 dst=$2 incs=$3 c o
    mkdir -p "$dst"
    for c in "$src"/*.c; do
        [ -e "$c" ] || continue
        o="$dst/$(basename "${c%.c}").o"
        if [ -e "$o" ] && [ "$o" -nt "$c" ] && [ "$o" -nt "$newest_header" ]; then
            continue
        fi
        echo "bpf-objects: clang ${c#"$module"/} -> ${o#"$out"/}"
        jobs+=("$c" "$o" "$incs")
    done
}

collect "$module/src/progs" "$out/bpf" "-Iinclude"
collect "$module/src/test-progs" "$out/bpf/test" "-Iinclude"
# written as the RFC's selftests are (vmlinux.h, bpf/bpf_helpers.h and their own ublk_bpf.h beside
# them): compat/ first, so the selftests' layout is what this build proves
collect "$module/src/kublk" "$out/bpf/kublk" "-Iinclude/compat -Iinclude"
[ ${#jobs[@]} -eq 0 ] && exit 0
export clang cflags inc module
printf '%s\0' "${jobs[@]}" | xargs -0 -n3 -P "$(nproc 2>/dev/null || echo 2)" \
    bash -c 'cd "$module" && "$clang" $cflags -fdebug-prefix-map="$module"=. -fdebug-compilation-dir=. $2 -c "${0#"$module"/}" -o "$1.tmp" && mv "$1.tmp" "$1"' \
    || { echo "bpf-objects: ERROR: clang failed (see above)" >&2
         echo "bpf-objects: hint: __sync_* atomics need -mcpu=v3 (clang 14 crashes without it); a program written" >&2
         echo "bpf-objects: for the RFC's selftests (vmlinux.h, bpf/bpf_helpers.h) builds with -Iinclude/compat -Iinclude" >&2
         exit 1; }
