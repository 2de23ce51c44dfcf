#!/usr/bin/env bash
# Builds the libFuzzer target (clang, ASan + UBSan) in build-fuzz, seeds its
# corpus with the shared models and a few gen_malformed files, and fuzzes
# the model verifier for FUZZ_SECONDS (default 60).  Exits non-zero when
# the fuzzer finds a crash, leak, timeout or UB; the reproducer is left in
# build-fuzz/fuzz-artifacts/.
#
# FUZZ_TARGET=fuzz_interp fuzzes the whole runtime (verify, create,
# allocate, invoke) instead of the verifier alone; FUZZ_TARGET=fuzz_bundle
# fuzzes the SavedModel importer's checkpoint (variables.index) reader.
#
# usage: scripts/fuzz_smoke.sh [seconds]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${1:-${FUZZ_SECONDS:-60}}
shared=${TINYML_SHARED:-$root/../shared}
jobs=${FUZZ_JOBS:-2}
target=${FUZZ_TARGET:-fuzz_model}
case "$target" in
fuzz_model|fuzz_interp|fuzz_bundle) ;;
*) echo "fuzz_smoke: unknown FUZZ_TARGET '$target'" >&2; exit 2 ;;
esac

command -v clang >/dev/null || { echo "fuzz_smoke: clang not found" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DTML_FUZZ=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target "$target" gen_malformed >/dev/null

corpus=$build/fuzz-corpus-$target
seeds=$build/fuzz-seeds
artifacts=$build/fuzz-artifacts-$target
mkdir -p "$corpus" "$seeds" "$artifacts"

# Seeds: the example models, every shared model, plus a sample of malformed variants (every
# 16th file, so the seeds cover each kind of damage without drowning the
# fuzzer in near-duplicates).
# The project's 2 KB example models mutate fastest.
for m in "$root"/examples/models/*.tflite; do
    [ -f "$m" ] && cp "$m" "$seeds/"
done
found=0
for m in "$shared"/models/mlperf-tiny/*.tflite; do
    [ -f "$m" ] || continue
    cp "$m" "$seeds/"
    found=1
done
if [ "$found" = 1 ]; then
    gen=$(mktemp -d)
    trap 'rm -rf "$gen"' EXIT
    "$build/gen_malformed" "$shared/models/mlperf-tiny/kws_ref_model.tflite" "$gen" >/dev/null
    i=0
    for f in "$gen"/*.tflite; do
        if [ $((i % 16)) = 0 ]; then cp "$f" "$seeds/"; fi
        i=$((i + 1))
    done
else
    echo "fuzz_smoke: no models under $shared/models/mlperf-tiny; fuzzing from scratch" >&2
fi

# fuzz_bundle starts from a real checkpoint table instead.
if [ "$target" = fuzz_bundle ]; then
    seeds=$build/fuzz-seeds-bundle
    mkdir -p "$seeds"
    idx=$shared/models/mlperf-tiny/kws_ref_model/variables/variables.index
    if [ -f "$idx" ]; then cp "$idx" "$seeds/"; fi
fi

echo "fuzz_smoke: fuzzing $target for ${seconds}s (seeds: $(ls "$seeds" | wc -l))"
# -max_len covers the largest shared model; -rss_limit_mb keeps the machine
# usable; -timeout flags any input that takes over 10 s (a verifier loop).
set +e
"$build/$target" "$corpus" "$seeds" \
    -max_total_time="$seconds" -max_len=1200000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
    echo "fuzz_smoke: FAILED (exit $status); reproducers in $artifacts" >&2
    exit "$status"
fi
echo "fuzz_smoke: ok"
