#!/usr/bin/env bash
# The tinyml CLI end to end: usage errors, missing files, inspect --json on
# a real model against its golden manifest, run against golden outputs, and
# the input/output file formats.
# Env (set by CTest): TINYML_BIN, TINYML_SHARED.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
SHARED=${TINYML_SHARED:?TINYML_SHARED not set}
MODELS=$SHARED/models/mlperf-tiny
GOLD=$SHARED/goldens
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# expect CODE DESCRIPTION -- CMD...: exit code CODE; on a non-zero CODE,
# stderr is exactly one line starting with "tinyml: ".  Leaves stdout and
# stderr in $TMP/out and $TMP/err.
expect() {
    local code=$1 what=$2
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "$what: exit $rc, expected $code; stderr: $(head -c 300 "$TMP/err")"
        return 1
    fi
    if [ "$code" -ne 0 ]; then
        local lines
        lines=$(wc -l <"$TMP/err")
        if [ "$lines" -ne 1 ] || ! grep -q '^tinyml: ' "$TMP/err"; then
            fail "$what: stderr is not one 'tinyml: ' line: $(cat "$TMP/err")"
            return 1
        fi
    fi
    ok "$what"
}

# expect_err CODE DESCRIPTION MESSAGE -- CMD...: as expect, and stderr is
# exactly MESSAGE.
expect_err() {
    local code=$1 what=$2 msg=$3
    shift 4
    expect "$code" "$what" -- "$@" || return 1
    if [ "$(cat "$TMP/err")" != "$msg" ]; then
        fail "$what: stderr '$(cat "$TMP/err")', expected '$msg'"
    fi
}

KWS=$MODELS/kws_ref_model.tflite
# The command list the usage errors name: the rows of main.c's table.
COMMANDS=$(sed -n 's/^    { "\([a-z]*\)", cmd_[a-z_]* },$/\1/p' "$TINYML_SOURCE/tools/main.c" | paste -sd, - | sed 's/,/, /g')
[ -n "$COMMANDS" ] || fail "no command table in tools/main.c"

# ---- usage ----
expect_err 2 "no command" \
    "tinyml: no command given (commands: $COMMANDS) (usage: tinyml <command> [options])" -- "$BIN"
expect_err 2 "unknown command" \
    "tinyml: unknown command 'frobnicate' (commands: $COMMANDS) (usage: tinyml <command> [options])" -- "$BIN" frobnicate
expect_err 2 "inspect unknown flag" \
    "tinyml: inspect: unknown option '--frob' (usage: tinyml inspect MODEL [--json])" -- "$BIN" inspect "$KWS" --frob
expect_err 2 "inspect no model" \
    "tinyml: inspect: no MODEL given (usage: tinyml inspect MODEL [--json])" -- "$BIN" inspect
expect 2 "inspect two models" -- "$BIN" inspect "$KWS" "$KWS"
expect 2 "run unknown flag" -- "$BIN" run "$KWS" --random --frob
expect_err 2 "run needs an input" \
    "tinyml: run: give exactly one of --input FILE and --random (usage: tinyml run MODEL (--input FILE | --random [--seed N]) [--output FILE])" -- "$BIN" run "$KWS"
expect 2 "run with both inputs" -- "$BIN" run "$KWS" --random --input x.bin
expect 2 "run --seed without --random" -- "$BIN" run "$KWS" --input x.bin --seed 3
expect 2 "run bad seed" -- "$BIN" run "$KWS" --random --seed -1
expect 2 "run --output without value" -- "$BIN" run "$KWS" --random --output
expect 2 "bench unknown flag" -- "$BIN" bench "$KWS" --frob
expect 2 "bench bad iterations" -- "$BIN" bench "$KWS" --iterations 0
expect 2 "bench iterations not a number" -- "$BIN" bench "$KWS" --iterations 2x
for cmd in "" inspect run bench; do
    expect 0 "help $cmd" -- "$BIN" $cmd --help
    grep -q "usage: tinyml" "$TMP/out" || fail "help $cmd: no usage on stdout"
done

# ---- missing and bad files ----
expect_err 2 "inspect missing file" \
    "tinyml: $TMP/none.tflite: No such file or directory" -- "$BIN" inspect "$TMP/none.tflite"
expect_err 2 "inspect a directory" \
    "tinyml: $TMP: not a regular file" -- "$BIN" inspect "$TMP"
: >"$TMP/empty.tflite"
expect 2 "inspect an empty file" -- "$BIN" inspect "$TMP/empty.tflite"
expect 2 "run missing model" -- "$BIN" run "$TMP/none.tflite" --random
expect 2 "bench missing model" -- "$BIN" bench "$TMP/none.tflite" --iterations 1
expect_err 2 "run missing input" \
    "tinyml: $TMP/none.bin: No such file or directory" -- "$BIN" run "$KWS" --input "$TMP/none.bin"
head -c 489 "$GOLD/kws_ref_model/seed1.input.bin" >"$TMP/short.bin"
expect_err 2 "run raw input of the wrong size" \
    "tinyml: $TMP/short.bin: 489 bytes, expected 490 (input 0 'input_1' (tensor 0): int8 [1, 49, 10, 1], scale 0.584702909 zero point 83)" \
    -- "$BIN" run "$KWS" --input "$TMP/short.bin"
mkfifo "$TMP/fifo"
expect_err 2 "inspect a FIFO (must not block)" "tinyml: $TMP/fifo: not a regular file" \
    -- timeout 10 "$BIN" inspect "$TMP/fifo"
expect 2 "bench missing --baselines file" -- "$BIN" bench "$KWS" --iterations 1 --baselines "$TMP/none.json"

# ---- inspect --json against the golden manifest ----
if expect 0 "inspect --json kws" -- "$BIN" inspect "$KWS" --json; then
    cp "$TMP/out" "$TMP/kws.json"
    for key in inputs outputs; do
        got=$(jq -c "[.$key[] | {index, name, shape, dtype, scale, zero_point}]" "$TMP/kws.json")
        want=$(jq -c "[.$key[] | {index, name, shape, dtype, scale, zero_point}]" "$GOLD/kws_ref_model/manifest.json")
        [ "$got" = "$want" ] && ok "kws $key details" || fail "kws $key: $got != $want"
    done
    got=$(jq -c '.ops' "$TMP/kws.json")
    want=$(jq -c '.ops' "$GOLD/kws_ref_model/manifest.json")
    [ "$got" = "$want" ] && ok "kws ops" || fail "kws ops: $got != $want"
    [ "$(jq '.file_bytes' "$TMP/kws.json")" = 53936 ] && ok "kws file_bytes" \
        || fail "kws file_bytes $(jq '.file_bytes' "$TMP/kws.json")"
    [ "$(jq '.tensors' "$TMP/kws.json")" = 35 ] || fail "kws tensors"
    [ "$(jq '.op_list | length' "$TMP/kws.json")" = 13 ] || fail "kws op_list"
    arena=$(jq '.arena_bytes' "$TMP/kws.json")
    [ "$arena" -gt 0 ] && [ "$arena" -lt 1048576 ] && ok "kws arena $arena" || fail "kws arena '$arena'"
fi
# Weight bytes per dtype, against an independent reader of the file
# (shared/tools/tflite_ref.py's flatbuffer helpers).
for f in "$MODELS"/*.tflite; do
    m=$(basename "$f" .tflite)
    want=$($PY - "$SHARED/tools" "$f" <<'PYEOF'
import sys, json
sys.path.insert(0, sys.argv[1])
from tflite_ref import root, tables, sc, raw, N
names = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
m = root(bytearray(open(sys.argv[2], "rb").read()))
bufs = tables(m, 4)
by = {}
for t in tables(tables(m, 2)[0], 0):
    b = raw(bufs[sc(t, 2, N.Uint32Flags)], 0)
    if b:
        k = names[sc(t, 1, N.Int8Flags)]
        by[k] = by.get(k, 0) + len(b)
print(json.dumps({"weight_bytes": sum(by.values()), "weight_bytes_by_dtype": by}))
PYEOF
)
    got=$("$BIN" inspect "$f" --json 2>"$TMP/err" | jq -cS '{weight_bytes, weight_bytes_by_dtype}')
    want=$(echo "$want" | jq -cS .)
    [ -n "$got" ] && [ "$got" = "$want" ] && ok "$m weight bytes $got" || fail "$m weights: got '$got', want '$want' $(cat "$TMP/err")"
done
if expect 0 "inspect kws (text)" -- "$BIN" inspect "$KWS"; then
    grep -q "^  0: 'input_1' (tensor 0): int8 \[1, 49, 10, 1\], scale 0.584702909 zero point 83$" "$TMP/out" \
        || fail "inspect text: input line"
    grep -q "^file: 53936 bytes (52.7 KB)$" "$TMP/out" || fail "inspect text: file line"
    grep -q "^weights: 24376 bytes (23.8 KB) in constant tensors (int32 2360, int8 22016)$" "$TMP/out" \
        || fail "inspect text: weights line"
    grep -Eq "^  CONV_2D +5$" "$TMP/out" || fail "inspect text: CONV_2D count"
fi
# The same details for every golden model.
for dir in "$GOLD"/*/; do
    m=$(basename "$dir")
    [ -f "$MODELS/$m.tflite" ] || continue
    "$BIN" inspect "$MODELS/$m.tflite" --json >"$TMP/m.json" 2>"$TMP/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "inspect $m: exit $rc: $(cat "$TMP/err")"
        continue
    fi
    sel='[(.inputs, .outputs)[] | {index, name, shape, dtype, scale, zero_point}], .ops'
    if [ "$(jq -c "$sel" "$TMP/m.json")" = "$(jq -c "$sel" "$dir/manifest.json")" ]; then
        ok "inspect $m matches its manifest"
    else
        fail "inspect $m differs from its manifest"
    fi
done

# ---- run against goldens (int8 byte for byte) ----
for m in kws_ref_model ad01_int8; do
    for seed in 1 2 3; do
        expect 0 "run $m --random --seed $seed" -- \
            "$BIN" run "$MODELS/$m.tflite" --random --seed $seed --output "$TMP/$m.$seed.bin" || continue
        cmp -s "$TMP/$m.$seed.bin" "$GOLD/$m/seed$seed.output.bin" \
            && ok "$m seed $seed output equals golden" \
            || fail "$m seed $seed output differs from golden"
    done
    # The golden input file gives the same bytes as the generator.
    expect 0 "run $m --input seed2.input.bin" -- \
        "$BIN" run "$MODELS/$m.tflite" --input "$GOLD/$m/seed2.input.bin" --output "$TMP/$m.in2.bin" \
        && { cmp -s "$TMP/$m.in2.bin" "$GOLD/$m/seed2.output.bin" \
            && ok "$m --input seed2 equals golden" || fail "$m --input seed2 differs"; }
done
# Every golden model through the CLI, seed 1: int8 outputs byte for byte,
# float32 within 1e-5 relative (max abs diff over max abs reference).
for dir in "$GOLD"/*/; do
    m=$(basename "$dir")
    [ -f "$MODELS/$m.tflite" ] || continue
    "$BIN" run "$MODELS/$m.tflite" --random --seed 1 --output "$TMP/all.$m.bin" >/dev/null 2>"$TMP/err" \
        || { fail "run $m: $(cat "$TMP/err")"; continue; }
    if [ "$(jq -r '[.outputs[].dtype] | unique | join(",")' "$dir/manifest.json")" = int8 ]; then
        cmp -s "$TMP/all.$m.bin" "$dir/seed1.output.bin" && ok "$m seed 1 bit-exact" \
            || fail "$m seed 1 output differs from golden"
    else
        $PY - "$TMP/all.$m.bin" "$dir/seed1.output.bin" <<'PYEOF' && ok "$m seed 1 within 1e-5" || fail "$m seed 1 float output"
import sys, numpy as np
a = np.fromfile(sys.argv[1], dtype=np.float32)
g = np.fromfile(sys.argv[2], dtype=np.float32)
assert a.shape == g.shape, (a.shape, g.shape)
err = np.abs(a - g).max() / np.abs(g).max()
assert err <= 1e-5, err
PYEOF
    fi
done
expect 0 "run kws default seed is 1" -- "$BIN" run "$KWS" --random --output "$TMP/k.default.bin"
cmp -s "$TMP/k.default.bin" "$GOLD/kws_ref_model/seed1.output.bin" || fail "default seed is not 1"
grep -q "argmax: " "$TMP/out" || fail "run prints no argmax for a [1, 12] output"
grep -q "^value to predict: random (golden LCG, seed 1)$" "$TMP/out" || fail "run: input source line"

# Inputs are never modified.
sum_before=$(sha256sum <"$GOLD/kws_ref_model/seed1.input.bin")
"$BIN" run "$KWS" --input "$GOLD/kws_ref_model/seed1.input.bin" >/dev/null 2>&1
[ "$(sha256sum <"$GOLD/kws_ref_model/seed1.input.bin")" = "$sum_before" ] || fail "input file modified"

# ---- .npy inputs and outputs ----
IN=$GOLD/kws_ref_model/seed1.input.bin
$PY - "$IN" "$TMP" <<'PYEOF'
import sys, numpy as np
raw = np.fromfile(sys.argv[1], dtype=np.int8)
t = sys.argv[2]
np.save(t + "/in_i8.npy", raw.reshape(1, 49, 10, 1))
np.save(t + "/in_flat.npy", raw)
np.save(t + "/in_nobatch.npy", raw.reshape(49, 10, 1))
np.save(t + "/in_bad_shape.npy", raw.reshape(49, 10))
np.save(t + "/in_i32.npy", raw.astype(np.int32))
# Dequantized values quantize back exactly: q = round(x / s) + zp.
s, zp = np.float32(0.5847029089927673), 83
np.save(t + "/in_f32.npy", ((raw.astype(np.float32) - zp) * s).reshape(1, 49, 10, 1))
x = np.zeros(490, np.float32)
x[:4] = [1e9, -1e9, 0.5847029 * 2.5, np.inf]
np.save(t + "/in_clamp.npy", x)
x[7] = np.nan
np.save(t + "/in_nan.npy", x)
np.save(t + "/in_fortran.npy", np.asfortranarray(raw.reshape(49, 10).astype(np.int8)))
PYEOF
for f in in_i8 in_flat in_nobatch in_f32; do
    expect 0 "run kws --input $f.npy" -- "$BIN" run "$KWS" --input "$TMP/$f.npy" --output "$TMP/$f.out.bin" \
        && { cmp -s "$TMP/$f.out.bin" "$GOLD/kws_ref_model/seed1.output.bin" \
            && ok "$f.npy gives the golden output" || fail "$f.npy output differs from golden"; }
done
grep -q "float32, quantized to int8 with scale 0.584702909 zero point 83" "$TMP/out" \
    || fail "float32 npy: no quantization note"
# Quantizing clamps to int8; round(2.5 + tiny) = 3 -> 86; 0 -> zero point.
if expect 0 "float32 npy clamps when quantized" -- "$BIN" run "$KWS" --input "$TMP/in_clamp.npy"; then
    grep -Eq '^    127 \([0-9.]+\) -128 \(-[0-9.]+\) 86 \(1.75411\) 127 \([0-9.]+\) 83 \(0\) ' "$TMP/out" \
        || fail "quantized values: $(grep -A1 'values' "$TMP/out" | head -n 2)"
fi
expect_err 2 "NaN in a float32 npy for an int8 input" \
    "tinyml: $TMP/in_nan.npy: element 7 is NaN: cannot quantize it" -- "$BIN" run "$KWS" --input "$TMP/in_nan.npy"
expect_err 2 "npy of the wrong shape" \
    "tinyml: $TMP/in_bad_shape.npy: shape [49, 10] does not match input 0 'input_1' shape [1, 49, 10, 1] (leading 1s optional) or a flat array of 490 elements" \
    -- "$BIN" run "$KWS" --input "$TMP/in_bad_shape.npy"
expect_err 2 "npy of the wrong dtype" \
    "tinyml: $TMP/in_i32.npy: dtype <i4 does not match input 0 'input_1' (int8, or float32 to quantize)" \
    -- "$BIN" run "$KWS" --input "$TMP/in_i32.npy"
expect_err 2 "fortran-order npy" \
    "tinyml: $TMP/in_fortran.npy: header: fortran_order True is not supported (C order only)" \
    -- "$BIN" run "$KWS" --input "$TMP/in_fortran.npy"
cp "$IN" "$TMP/not_npy.npy"
expect_err 2 "raw bytes named .npy" \
    "tinyml: $TMP/not_npy.npy: not a .npy file (no \\x93NUMPY magic)" -- "$BIN" run "$KWS" --input "$TMP/not_npy.npy"

if expect 0 "run --output .npy" -- "$BIN" run "$KWS" --random --seed 2 --output "$TMP/o.npy"; then
    $PY - "$TMP/o.npy" "$GOLD/kws_ref_model/seed2.output.bin" <<'PYEOF' && ok "output .npy loads in numpy and equals golden" || fail "output .npy"
import sys, numpy as np
a = np.load(sys.argv[1])
g = np.fromfile(sys.argv[2], dtype=np.int8)
assert a.dtype == np.int8 and a.shape == (1, 12), (a.dtype, a.shape)
assert (a.ravel() == g).all()
PYEOF
fi
# Float model: a float32 .npy in, a float32 .npy out.
AD=$MODELS/ad01_fp32.tflite
$PY -c "import numpy as np; np.save('$TMP/ad.npy', np.fromfile('$GOLD/ad01_fp32/seed1.input.bin', dtype=np.float32).reshape(1, 640))"
expect 0 "run float model with a float32 npy" -- "$BIN" run "$AD" --input "$TMP/ad.npy" --output "$TMP/ad.out.bin" \
    && { $PY - "$TMP/ad.out.bin" "$GOLD/ad01_fp32/seed1.output.bin" <<'PYEOF' && ok "ad01_fp32 within 1e-5 of golden" || fail "ad01_fp32 output"
import sys, numpy as np
a = np.fromfile(sys.argv[1], dtype=np.float32)
g = np.fromfile(sys.argv[2], dtype=np.float32)
assert a.shape == g.shape
err = np.abs(a - g).max() / np.abs(g).max()
assert err <= 1e-5, err
PYEOF
}
expect_err 2 "int8 npy for a float model" \
    "tinyml: $TMP/in_i8.npy: dtype |i1 does not match input 0 'input_1' (float32)" \
    -- "$BIN" run "$AD" --input "$TMP/in_i8.npy"

# Output written atomically: a failing run leaves an existing file alone.
echo keep >"$TMP/keep.bin"
"$BIN" run "$KWS" --input "$TMP/short.bin" --output "$TMP/keep.bin" >/dev/null 2>&1
[ "$(cat "$TMP/keep.bin")" = keep ] || fail "failed run touched its output file"
# Output files get the usual permissions (0666 & ~umask), not mkstemp's 0600.
(umask 022 && "$BIN" run "$KWS" --random --output "$TMP/perm.bin" >/dev/null 2>&1)
[ "$(stat -c %a "$TMP/perm.bin")" = 644 ] && ok "output mode 644" || fail "output mode $(stat -c %a "$TMP/perm.bin")"
ls "$TMP" | grep -q '\.tmp' && fail "temporary files left behind: $(ls "$TMP" | grep '\.tmp')"
expect 2 "output into a missing directory" -- "$BIN" run "$KWS" --random --output "$TMP/no/dir/o.bin"

# ---- bench ----
printf '{"models": {"kws_ref_model": {"tflm_arena_used_bytes": 1000, "tflm_host_invoke_us": 2.5, "tflm_callgrind_instructions": 42}}}' >"$TMP/b.json"
if expect 0 "bench --json --iterations 2" -- "$BIN" bench "$KWS" --json --iterations 2 --baselines "$TMP/b.json"; then
    [ "$(jq '.iterations' "$TMP/out")" = 2 ] || fail "bench iterations"
    [ "$(jq '.arena_bytes' "$TMP/out")" = "$arena" ] || fail "bench arena differs from inspect"
    [ "$(jq '.tflm_arena_used_bytes' "$TMP/out")" = 1000 ] || fail "bench baseline arena"
    [ "$(jq '.tflm_callgrind_instructions' "$TMP/out")" = 42 ] || fail "bench baseline instructions"
    # TFLM reuses input memory: the ratio compares that plan, which for KWS
    # saves the 490-byte input (rounded to 8: 496) of the kept plan.
    reuse=$(jq '.arena_bytes_reuse_inputs' "$TMP/out")
    [ "$reuse" = $((arena - 496)) ] || fail "bench reuse arena $reuse vs kept $arena"
    [ "$(jq ".arena_ratio == ($reuse / 1000)" "$TMP/out")" = true ] || fail "bench arena ratio"
fi
expect 0 "bench table" -- "$BIN" bench "$KWS" --iterations 1 --baselines "$TMP/b.json"
grep -Eq "^arena bytes \(as TFLM\) +$((arena - 496)) +1000 +" "$TMP/out" || fail "bench table arena row: $(cat "$TMP/out")"
printf 'not json' >"$TMP/bad.json"
expect_err 2 "bench malformed --baselines" "tinyml: $TMP/bad.json: not valid JSON" \
    -- "$BIN" bench "$KWS" --iterations 1 --baselines "$TMP/bad.json"

# ---- output errors are one line, never a signal ----
expect_err 2 "stdout on a full disk" "tinyml: writing to standard output: No space left on device" \
    -- sh -c '"$0" inspect "$1" >/dev/full' "$BIN" "$KWS"
# A pipe whose reader is gone (SIGPIPE at its default, as in a shell).
rc=$($PY -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "inspect", sys.argv[2]], stdout=w, stderr=subprocess.DEVNULL)
print(p.returncode)' "$BIN" "$KWS")
[ "$rc" = 2 ] && ok "closed pipe: exit 2" || fail "closed pipe: exit $rc (negative = signal)"

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
