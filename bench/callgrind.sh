#!/usr/bin/env bash
# Instructions of one invoke, ours vs TFLite Micro's, under valgrind's
# callgrind, for the MLPerf Tiny models that TFLite Micro runs.
#
#   bench/callgrind.sh [MODEL_STEM...]      (default: all seven)
#
# For each model: `tinyml bench MODEL --iterations 1` and `--iterations 2`
# under `valgrind --tool=callgrind`; the difference of the total
# instructions (Ir) is one invoke (plus two clock_gettime calls).  The
# table puts that beside baselines.json's tflm_callgrind_instructions, and
# our arena bytes (tinyml inspect --json, arena_bytes_reuse_inputs: the plan
# that reuses input memory as TFLM's does) beside tflm_arena_used_bytes.
#
# Env: TINYML_BIN (else a Release build in build-bench/ is made),
# TINYML_SHARED (else ../shared from the repository root).  Big float
# models take minutes under valgrind: this is a benchmark, not a test.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${TINYML_SHARED:-$ROOT/../shared}
BASELINES=$SHARED/baselines.json
MODELS_DIR=$SHARED/models/mlperf-tiny

die() { echo "callgrind.sh: $*" >&2; exit 2; }
command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
[ -f "$BASELINES" ] || die "$BASELINES not found (set TINYML_SHARED)"

BIN=${TINYML_BIN:-}
if [ -z "$BIN" ]; then
    BUILD=$ROOT/build-bench
    echo "building a Release tinyml in $BUILD ..." >&2
    # --no-as-needed: keep libm whatever the link order of the libraries.
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_EXE_LINKER_FLAGS=-Wl,--no-as-needed >/dev/null ||
        die "cmake configure failed"
    cmake --build "$BUILD" -j2 --target tinyml >"$BUILD.log" 2>&1 ||
        die "build failed (see $BUILD.log)"
    BIN=$BUILD/tinyml
fi
[ -x "$BIN" ] || die "$BIN is not an executable"

if [ $# -gt 0 ]; then
    MODELS=("$@")
else
    MODELS=(kws_ref_model ad01_int8 ad01_fp32 pretrainedResnet
            pretrainedResnet_quant vww_96_int8 vww_96_float)
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# total_ir MODEL_FILE N: total Ir of `tinyml bench MODEL --iterations N`,
# or "error: ..." on failure.
total_ir() {
    local file=$1 n=$2
    local out=$TMP/cg.$n.out
    rm -f "$out"
    if ! valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$BIN" bench "$file" --iterations "$n" >"$TMP/bench.$n.log" \
        2>"$TMP/vg.$n.log"; then
        echo "error: $(grep '^tinyml: ' "$TMP/vg.$n.log" | head -n 1)"
        return
    fi
    local ir
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
    [ -n "$ir" ] && echo "$ir" || echo "error: no totals in callgrind output"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

printf '%-24s %14s %14s %7s   %10s %10s %7s\n' model "ours Ir" "TFLM Ir" ratio \
    "ours arena" "TFLM arena" ratio
status=0
for m in "${MODELS[@]}"; do
    file=$MODELS_DIR/$m.tflite
    tflm_ir=$(jq -r --arg m "$m" '.models[$m].tflm_callgrind_instructions // "-"' "$BASELINES")
    tflm_arena=$(jq -r --arg m "$m" '.models[$m].tflm_arena_used_bytes // "-"' "$BASELINES")
    if [ ! -f "$file" ]; then
        printf '%-24s missing %s\n' "$m" "$file"
        status=1
        continue
    fi
    arena=$("$BIN" inspect "$file" --json 2>"$TMP/inspect.err" | jq -r '.arena_bytes_reuse_inputs // "-"')
    if [ -z "$arena" ] || [ "$arena" = "-" ]; then
        printf '%-24s %s\n' "$m" "$(head -n 1 "$TMP/inspect.err")"
        status=1
        continue
    fi
    ir1=$(total_ir "$file" 1)
    ir2=$(total_ir "$file" 2)
    case "$ir1$ir2" in
    *error*)
        printf '%-24s %s\n' "$m" "$(printf '%s\n%s\n' "$ir1" "$ir2" | grep error | head -n 1)"
        status=1
        continue
        ;;
    esac
    ours=$((ir2 - ir1))
    if [ "$ours" -le 0 ]; then
        printf '%-24s error: Ir(2 invokes) %s <= Ir(1 invoke) %s\n' "$m" "$ir2" "$ir1"
        status=1
        continue
    fi
    printf '%-24s %14s %14s %7s   %10s %10s %7s\n' "$m" "$ours" "$tflm_ir" \
        "$(ratio "$ours" "$tflm_ir")" "$arena" "$tflm_arena" \
        "$(ratio "$arena" "$tflm_arena")"
done
echo "ratio = ours / TFLite Micro (lower is better); Ir = instructions of one invoke"
exit $status
