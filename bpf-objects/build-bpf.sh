#!/usr/bin/env bash
# Compile the BPF programs of this module with clang into <out>/bpf/*.o
# (bundled programs) and <out>/bpf/test/*.o (kernel-loadable test programs).
# Usage: build-bpf.sh <module dir> <output dir>; CLANG overrides the compiler.
# Only sources newer than their object (or than the headers) are rebuilt.
set -euo pipefail

module=${1:?usage: build-bpf.sh <module dir> <output dir>}
out=${2:?usage: build-bpf.sh <module dir> <output dir>}
clang=${CLANG:-clang}

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
newest_header=$(ls -t "$inc"/*.h | head -1)
cflags=(-target bpf -mcpu=v3 -O2 -g -Wall -I"$inc")

build_dir() {
    local src=$1 dst=$2 c o
    mkdir -p "$dst"
    for c in "$src"/*.c; do
        [ -e "$c" ] || continue
        o="$dst/$(basename "${c%.c}").o"
        if [ -e "$o" ] && [ "$o" -nt "$c" ] && [ "$o" -nt "$newest_header" ]; then
            continue
        fi
        echo "bpf-objects: clang ${c#"$module"/} -> ${o#"$out"/}"
        "$clang" "${cflags[@]}" -c "$c" -o "$o.tmp"
        mv "$o.tmp" "$o"
    done
}

build_dir "$module/src/progs" "$out/bpf"
build_dir "$module/src/test-progs" "$out/bpf/test"
