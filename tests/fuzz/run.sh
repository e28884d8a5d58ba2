#!/bin/sh
# Builds and runs the libFuzzer targets of the codec decoders.
#
#   tests/fuzz/run.sh SECONDS [OUTDIR]
#
# Each target (cmd, batch, event, result, snapshot, frame, reply) is built
# with clang, libFuzzer, ASan and UBSan into OUTDIR (default: a new temporary
# directory), starts from a scratch copy of its seed corpus in
# tests/fuzz/corpus/<target>/ and runs for SECONDS / (number of targets)
# seconds (at least 1). Nothing is written into the source tree: corpora,
# logs and crash artifacts stay in OUTDIR.
#
# Exit status: 0 when every target ran clean; 1 on any crash, leak, timeout
# or sanitizer report (the log and the reproducer are named); 2 on a usage
# or build error; 77 (the automake "skip" code) when clang or the libFuzzer
# runtime is missing.
set -eu

usage() {
    echo "usage: $0 SECONDS [OUTDIR]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
secs=$1
case $secs in
'' | *[!0-9]*) usage ;;
esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
cc=${FUZZ_CC:-clang}
targets="cmd batch event result snapshot frame reply"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: skipped: $cc not found (install clang and libclang-rt-dev)" >&2
    exit 77
fi

if [ $# -eq 2 ]; then
    case $2 in
    /*) out=$2 ;;
    *) out=$(pwd)/$2 ;;
    esac
    # Checked before anything is created (a textual check: pass a path
    # without symlinks into the tree).
    case $out/ in
    "$srcdir"/build-*/) ;; # ignored build folders (quickstart uses build-fuzz)
    "$srcdir"/*)
        echo "fuzz: OUTDIR must be outside the source tree ($srcdir)" >&2
        exit 2
        ;;
    esac
    mkdir -p "$out"
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/usher-fuzz.XXXXXX")
fi
out=$(cd "$out" && pwd)

# Probe for the libFuzzer runtime with the smallest possible target.
cat >"$out/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
EOF
if ! "$cc" -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1; then
    echo "fuzz: skipped: $cc cannot link libFuzzer (install libclang-rt-dev); see $out/probe.log" >&2
    exit 77
fi

warnings="-std=c11 -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion
 -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Wvla
 -Wimplicit-fallthrough -Wcast-qual -Wpointer-arith -Wundef -Wwrite-strings
 -Wnull-dereference -fno-common -D_GNU_SOURCE"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
lib="buf.c event.c codec_cmd.c codec_batch.c codec_result.c codec_event.c codec_frame.c
 codec_reply.c err.c mem.c assertion.c"
# The snapshot target needs the whole state machine and LMDB.
inv_lib="$lib store.c inv.c inv_event.c inv_hold.c inv_seat.c inv_book.c inv_sweep.c
 inv_read.c inv_snapshot.c inv_check.c"
paths_of() {
    for f in $1; do
        printf ' %s' "$srcdir/src/$f"
    done
}

ntargets=$(echo "$targets" | wc -w)
per=$((secs / ntargets))
[ "$per" -ge 1 ] || per=1

# Longest input worth mutating per target: enough for many rows or a full
# result, short enough to keep the runs fast.
max_len() {
    case $1 in
    cmd | event) echo 65536 ;;
    batch) echo 131072 ;;
    result) echo 512 ;;
    snapshot) echo 65536 ;;
    frame) echo 4096 ;;
    reply) echo 65536 ;;
    esac
}

failed=0
for t in $targets; do
    bin=$out/fuzz_$t
    if [ "$t" = snapshot ]; then
        lib_paths=$(paths_of "$inv_lib")
        libs="-lxxhash -llmdb"
    else
        lib_paths=$(paths_of "$lib")
        libs="-lxxhash"
    fi
    # shellcheck disable=SC2086 # word splitting of the flag lists is wanted
    if ! "$cc" $warnings $flags -I"$srcdir/src" "$srcdir/tests/fuzz/fuzz_$t.c" $lib_paths \
        $libs -o "$bin" >"$out/build_$t.log" 2>&1; then
        echo "fuzz: build of fuzz_$t failed:" >&2
        cat "$out/build_$t.log" >&2
        exit 2
    fi
    corpus=$out/corpus_$t
    mkdir -p "$corpus"
    cp "$srcdir/tests/fuzz/corpus/$t/"* "$corpus/"
    echo "fuzz: $t for ${per}s"
    # libFuzzer writes crash-*/leak-* into the artifact prefix and its own
    # files into the working directory: both are OUTDIR.
    if (cd "$out" && "$bin" -max_total_time="$per" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
        -artifact_prefix="$out/${t}_" "$corpus" >"$out/fuzz_$t.log" 2>&1); then
        grep -E '^stat::number_of_executed_units' "$out/fuzz_$t.log" | sed "s/^/fuzz: $t /" || :
    else
        echo "fuzz: $t FAILED; log: $out/fuzz_$t.log" >&2
        tail -n 40 "$out/fuzz_$t.log" >&2
        find "$out" -maxdepth 1 -name "${t}_*" | sed 's/^/fuzz: reproducer: /' >&2
        failed=1
    fi
done

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "fuzz: all targets clean; output in $out"
