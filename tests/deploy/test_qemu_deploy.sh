#!/usr/bin/env bash
# Exported projects on emulated Cortex-M (qemu-system-arm + semihosting):
# for every int8 model in $TINYML_SHARED with golden seed-1 data, and the
# repository's tiny example model, `tinyml export --project` with the
# golden input and expected output, then `make run` must print PASS
# (byte-identical outputs) for
#   cortex-m4 (hard float)  on mps2-an386
#   cortex-m7 (hard float)  on mps2-an500
#   cortex-m0plus code      on mps2-an386 (ARMv6-M is a subset of ARMv7-M)
#   cortex-m0 (microbit)    for models `tinyml fit` says fit its 16 KB RAM
# Float models with goldens run on the M4 and M7 (hard float): outputs
# within tinyml's float contract (1e-5 relative, tests/runtime/test_goldens.c).
# A corrupted expected output must make `make run` fail (FAIL, non-zero).
# Projects build with -DTML_TRUSTED_MODEL (the exporter verified the model;
# runtime/model.h "verify once"); KWS also runs exported with
# --verify-on-device, and a trusted build given the wrong array (no "TFL3"
# identifier) must fail with tml_create's one line, not crash.
# Env (set by CTest): TINYML_BIN, TINYML_SHARED, TINYML_SOURCE.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
SHARED=${TINYML_SHARED:?TINYML_SHARED not set}
export TINYML_SOURCE=${TINYML_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
for tool in arm-none-eabi-gcc qemu-system-arm make; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (run scripts/install-deps.sh)"; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

M0PLUS="-mcpu=cortex-m0plus -mfloat-abi=soft"
# The ASan/UBSan build (scripts/test.sh's build-asan) checks the sanitized
# exporter on the KWS model only: the cross-built programs are the same as
# in the plain build, which runs everything.
QUICK=0
grep -q '^TML_SANITIZE:BOOL=ON' "${TINYML_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null && QUICK=1

# run_case NAME DIR MACHINE [CPU]: make run must print PASS and exit 0.
run_case() {
    local what=$1 dir=$2 machine=$3 cpu=${4:-}
    local args=(-C "$dir" -s ELF="$what.elf" QEMU_MACHINE="$machine")
    [ -n "$cpu" ] && args+=(CPU="$cpu")
    if ! make "${args[@]}" >"$TMP/build.log" 2>&1; then
        fail "$what: build failed: $(tail -5 "$TMP/build.log")"
        return
    fi
    # The project builds with -Wall -Wextra: no warning allowed.
    grep -q -i 'warning' "$TMP/build.log" && fail "$what: build warnings: $(grep -i -m3 warning "$TMP/build.log")"
    make "${args[@]}" run >"$TMP/run.log" 2>&1
    local rc=$?
    if [ "$rc" -eq 0 ] && grep -qx PASS "$TMP/run.log"; then
        ok "$what: PASS ($(grep -E '^(arena bytes used|stack bytes used|outputs)' "$TMP/run.log" | tr '\n' ' '))"
    else
        fail "$what: exit $rc: $(tr '\n' ' ' <"$TMP/run.log" | head -c 400)"
    fi
}

# deploy_model MODEL_PATH INPUT OUTPUT [float]
deploy_model() {
    local model=$1 input=$2 output=$3 float=${4:-} name
    name=$(basename "$model" .tflite)
    local dir="$TMP/$name"
    if ! "$BIN" export "$model" --project "$dir" --board mps2-an386 \
            --test-input "$input" --test-output "$output" >"$TMP/export.log" 2>&1; then
        fail "$name: export: $(cat "$TMP/export.log")"
        return
    fi
    # Only the model's kernels are in the project.
    local nk
    nk=$(ls "$dir/runtime/kernels/"*.c | wc -l)
    if [ "$nk" -ge "$(ls "$TINYML_SOURCE/runtime/kernels/"*.c | wc -l)" ]; then
        fail "$name: project holds every kernel file ($nk)"
    fi
    run_case "$name-m4-an386" "$dir" mps2-an386
    run_case "$name-m7-an500" "$dir" mps2-an500 "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16"
    [ -n "$float" ] && return
    # int8: byte-identical is required, from the int8-only build.
    grep -q '^DEFS = .* -DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID -DTML_TRUSTED_MODEL$' "$dir/Makefile" \
        || fail "$name: int8 project without the dtype defines: $(grep '^DEFS' "$dir/Makefile")"
    grep -q '^outputs byte-identical' "$TMP/run.log" || fail "$name: int8 outputs not byte-identical"
    run_case "$name-m0plus-an386" "$dir" mps2-an386 "$M0PLUS"
    if "$BIN" fit "$model" --board microbit >/dev/null 2>&1; then
        local mdir="$TMP/$name-microbit"
        "$BIN" export "$model" --project "$mdir" --board microbit \
            --test-input "$input" --test-output "$output" >/dev/null 2>&1 \
            || { fail "$name: microbit export"; return; }
        run_case "$name-m0-microbit" "$mdir" microbit
    else
        echo "skip: $name on microbit (tinyml fit: does not fit 16 KB RAM / 256 KB flash)"
    fi
}

models=0
for gold in "$SHARED"/goldens/*/; do
    name=$(basename "$gold")
    model="$SHARED/models/mlperf-tiny/$name.tflite"
    [ -f "$model" ] && [ -f "$gold/seed1.input.bin" ] || continue
    if [ "$QUICK" -eq 1 ] && [ "$name" != kws_ref_model ]; then
        echo "skip: $name (sanitizer build: KWS only)"; models=$((models + 1)); continue
    fi
    dtype=$("$BIN" inspect "$model" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["dtype"])')
    if [ "$dtype" = int8 ]; then
        deploy_model "$model" "$gold/seed1.input.bin" "$gold/seed1.output.bin"
        models=$((models + 1))
    else
        deploy_model "$model" "$gold/seed1.input.bin" "$gold/seed1.output.bin" float
    fi
done
[ "$models" -ge 2 ] || fail "only $models int8 models with goldens found in $SHARED"

# The example model: expected output from the host runtime (bit-exact with
# TFLite Micro, tests/runtime/test_goldens.c); small enough for microbit.
tiny="$TINYML_SOURCE/examples/models/tiny_int8.tflite"
if [ -f "$tiny" ]; then
    "$BIN" run "$tiny" --random --seed 1 --output "$TMP/tiny.out.bin" >/dev/null \
        || fail "tiny_int8: host run"
    "$BIN" export "$tiny" --project "$TMP/tiny_int8" --board mps2-an386 >/dev/null \
        || fail "tiny_int8: export"
    # No --test-input: the project generates the seed-1 input itself.
    "$BIN" export "$tiny" --project "$TMP/tiny_int8" --board mps2-an386 \
        --test-output "$TMP/tiny.out.bin" >/dev/null || fail "tiny_int8: export"
    run_case tiny_int8-m4-an386 "$TMP/tiny_int8" mps2-an386
    "$BIN" export "$tiny" --project "$TMP/tiny_mb" --board microbit \
        --test-output "$TMP/tiny.out.bin" >/dev/null || fail "tiny_int8: microbit export"
    run_case tiny_int8-m0-microbit "$TMP/tiny_mb" microbit
fi

# A wrong expected output must fail: flip one byte of the KWS golden.
kws="$SHARED/models/mlperf-tiny/kws_ref_model.tflite"
if [ -f "$kws" ]; then
    /usr/bin/python3 - "$SHARED/goldens/kws_ref_model/seed1.output.bin" "$TMP/bad.bin" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[5] ^= 1
open(sys.argv[2], 'wb').write(b)
PY
    "$BIN" export "$kws" --project "$TMP/bad" --board mps2-an386 \
        --test-input "$SHARED/goldens/kws_ref_model/seed1.input.bin" \
        --test-output "$TMP/bad.bin" >/dev/null || fail "bad: export"
    make -C "$TMP/bad" -s >/dev/null 2>&1
    make -C "$TMP/bad" -s run >"$TMP/run.log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qx FAIL "$TMP/run.log" && grep -q "differs at byte 5" "$TMP/run.log"; then
        ok "corrupted expected output: FAIL at byte 5, exit $rc"
    else
        fail "corrupted expected output: exit $rc: $(tr '\n' ' ' <"$TMP/run.log")"
    fi
    # The verifying device build (--verify-on-device) passes too.
    "$BIN" export "$kws" --project "$TMP/kws_ver" --board mps2-an386 --verify-on-device \
        --test-input "$SHARED/goldens/kws_ref_model/seed1.input.bin" \
        --test-output "$SHARED/goldens/kws_ref_model/seed1.output.bin" >/dev/null \
        || fail "kws --verify-on-device: export"
    grep -q -- "-DTML_TRUSTED_MODEL" <(grep '^DEFS' "$TMP/kws_ver/Makefile") \
        && fail "kws --verify-on-device: DEFS has -DTML_TRUSTED_MODEL"
    run_case kws_verified-m4-an386 "$TMP/kws_ver" mps2-an386
    # The trusted build with the wrong array: "TFL3" -> "TFL\0".
    sed -i '0,/0x54, 0x46, 0x4c, 0x33/s//0x54, 0x46, 0x4c, 0x00/' "$TMP/bad/model_data.c"
    make -C "$TMP/bad" -s >/dev/null 2>&1
    make -C "$TMP/bad" -s run >"$TMP/run.log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qx FAIL "$TMP/run.log" \
        && grep -q 'not a TFLite model (no "TFL3" identifier at offset 4)' "$TMP/run.log"; then
        ok "trusted build, wrong model array: tml_create's one line, FAIL, exit $rc"
    else
        fail "trusted build, wrong model array: exit $rc: $(tr '\n' ' ' <"$TMP/run.log")"
    fi
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
