#!/usr/bin/env bash
# TensorFlow Lite itself as a second opinion: every test model runs in the
# real TFLite interpreter (WebAssembly, from the npm package
# @tensorflow/tfjs-tflite, see run_tflite.mjs) and in `tinyml run` on the
# same random input (the goldens' LCG, seed 1), and the outputs must agree:
#   float32 within 1e-5 relative (max |diff| / max |TFLite|),
#   int8 within 1 LSB.
# Models:
#   example   examples/models/*.tflite (made by examples/make_example_model.c)
#   shared    TensorFlow's own conversions in ../shared/models/mlperf-tiny:
#             a check of this harness itself
#   convert   what `tinyml convert` makes of the Keras models (the bundled
#             example examples/digits/model.h5, ../shared's .h5 files, and
#             the Keras fixtures of tests/convert/keras/make_fixtures.py) in
#             every mode: none, float16, dynamic, int8 (float32 and int8
#             I/O).  A model `tinyml convert` cannot convert (yet) is listed
#             as "skip"; one it converts must load and agree in both.
# When an int8 output differs by more than 1 LSB, drift.mjs isolates every
# operator (single-op models fed tinyml's own intermediate values) and the
# model passes only if each op alone is within 1 LSB: TFLite's XNNPACK
# kernels requantize in float and round differently from the reference
# kernels by 1 LSB, and deep models accumulate that op after op.
# Then the "reference kernels" pass: every int8 model again, rewritten by
# reference_kernels.mjs (same math) so that TFLite runs its reference int8
# CONV_2D / FULLY_CONNECTED kernels and its builtin DEPTHWISE_CONV_2D
# instead of XNNPACK; there tinyml must agree exactly (0 LSB) at the
# output, with no per-op exception, and TensorFlow's own int8 models must
# give TFLite Micro's golden outputs byte for byte.
# Set TINYML_TFLITE_JS_QUICK=1 to skip the fixtures and the big models.
set -uo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
shared=${TINYML_SHARED:-$src/../shared}
here=$src/tests/tflite_js
quick=${TINYML_TFLITE_JS_QUICK:-0}

export CMP=$here/compare.mjs
if ! bash "$here/ensure_deps.sh"; then
    echo "FAIL: TFLite (npm package) not available"
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0 drift=0
table=()
row() { # source model mode verdict detail
    table+=("$(printf '%-8s %-34s %-16s %-5s %s' "$1" "$2" "$3" "$4" "$5")")
}

# The comparison itself can fail: a float output 2e-5 off (relative) and
# an int8 output 2 LSB off are refused, 1 LSB and 0.9e-5 accepted.
node - "$work" <<'JSEOF' || { echo "FAIL: compare.mjs self-check"; exit 1; }
const { writeFileSync } = require('fs');
const { execFileSync } = require('child_process');
const dir = process.argv[2];
const info = { outputs: [{ dtype: 'float32', count: 2 }, { dtype: 'int8', count: 2 }] };
writeFileSync(`${dir}/self.json`, JSON.stringify(info));
const make = (f, q) => {
  const b = Buffer.alloc(10);
  b.writeFloatLE(1.0, 0); b.writeFloatLE(f, 4); b.writeInt8(5, 8); b.writeInt8(q, 9);
  return b;
};
writeFileSync(`${dir}/self.a`, make(-1.0, 7));
const verdict = (f, q, ...opt) => {
  writeFileSync(`${dir}/self.b`, make(f, q));
  try {
    execFileSync(process.execPath, [process.env.CMP,
                 `${dir}/self.json`, `${dir}/self.a`, `${dir}/self.b`, ...opt]);
    return 'ok';
  } catch (e) { return e.status === 1 ? 'FAIL' : `error ${e.status}`; }
};
const got = [verdict(-1.0, 7), verdict(-1.0 + 0.9e-5, 8), verdict(-1.0 + 2e-5, 7), verdict(-1.0, 9),
             verdict(-1.0, 7, '--lsb', '0'), verdict(-1.0, 8, '--lsb', '0')];
if (got.join(' ') !== 'ok ok FAIL FAIL ok FAIL') { console.log(got.join(' ')); process.exit(1); }
JSEOF
echo "compare.mjs self-check: exact ok, 0.9e-5 and 1 LSB ok, 2e-5 and 2 LSB refused; with --lsb 0 exact ok, 1 LSB refused"

# Phase 1: the models to check (converting the Keras ones).
SRC=() LABEL=() MODE=() FILE=()
add() { SRC+=("$1"); LABEL+=("$2"); MODE+=("$3"); FILE+=("$4"); }

# convert_all SOURCE NAME KERAS [CALIBRATION.npy]: every mode of one model.
have_convert=0
"$bin" convert --help > /dev/null 2>&1 && have_convert=1
convert_all() {
    local source=$1 name=$2 keras=$3 calib=${4:-} samples=${5:-100} inputs=${6:-1}
    local o=$work/c.$name
    if ! "$bin" convert "$keras" -o "$o.float.tflite" > /dev/null 2> "$o.err"; then
        row "$source" "$name" none skip "convert: $(tail -n 1 "$o.err")"
        skipped=$((skipped + 1))
        return
    fi
    add "$source" "$name" none "$o.float.tflite"
    if [ -z "$calib" ] && [ "$inputs" = 1 ]; then
        # The goldens' distribution: LCG floats in [-1, 1).
        node "$here/make_npy.mjs" "$o.float.tflite" "$samples" 7 "$o.calib.npy" &&
            calib=$o.calib.npy
    elif [ -z "$calib" ]; then
        # Several inputs: a .npz with one array per input, in input order.
        local k files=()
        for ((k = 0; k < inputs; k++)); do
            node "$here/make_npy.mjs" "$o.float.tflite" "$samples" $((7 + k)) \
                "$o.calib$k.npy" "$k" && files+=("$o.calib$k.npy")
        done
        /usr/bin/python3 -c 'import sys, numpy as np; np.savez(sys.argv[1], *[np.load(f) for f in sys.argv[2:]])' \
            "$o.calib.npz" "${files[@]}" && calib=$o.calib.npz
    fi
    local mode
    for mode in float16 dynamic int8 int8/io-int8; do
        local args=(--quantize "${mode%%/*}")
        [ "$mode" = int8/io-int8 ] && args+=(--io int8)
        case $mode in int8*) args+=(--calibration "$calib") ;; esac
        local out=$o.${mode//\//.}.tflite
        if ! "$bin" convert "$keras" -o "$out" "${args[@]}" > /dev/null 2> "$o.err"; then
            row "$source" "$name" "$mode" skip "convert: $(tail -n 1 "$o.err")"
            skipped=$((skipped + 1))
            continue
        fi
        add "$source" "$name" "$mode" "$out"
    done
}

for m in "$src"/examples/models/*.tflite; do
    add example "$(basename "$m" .tflite)" as-is "$m"
done
for m in "$shared"/models/mlperf-tiny/*.tflite; do
    name=$(basename "$m" .tflite)
    if [ "$quick" = 1 ] && [[ $name == vww* ]]; then continue; fi
    add shared "$name" as-is "$m"
done
if [ $have_convert = 1 ]; then
    if [ -f "$src/examples/digits/model.h5" ]; then
        convert_all convert digits "$src/examples/digits/model.h5" \
            "$src/examples/digits/calibration.npy"
    fi
    for h in "$shared"/models/mlperf-tiny/*.h5; do
        name=$(basename "$h" .h5)
        if [ "$quick" = 1 ] && [ "$name" != ad01 ]; then continue; fi
        convert_all convert "$name" "$h"
    done
    fixtures=$work/fixtures
    if [ "$quick" != 1 ] && /usr/bin/python3 "$src/tests/convert/keras/make_fixtures.py" \
            "$fixtures" > /dev/null 2>&1; then
        # Runnable .h5 cases (the .keras twins hold the same model).
        node -e '
            const m = require(process.argv[1]);
            for (const c of m.cases)
              if (c.run && !c.error && c.format === "h5")
                console.log(c.name + " " + c.file + " " + c.inputs);' \
            "$fixtures/manifest.json" > "$work/fixtures.txt"
        while read -r name file inputs; do
            convert_all fixture "$name" "$fixtures/$file" "" 32 "$inputs"
        done < "$work/fixtures.txt"
    fi
else
    row convert "(all)" - skip "tinyml convert is not available in $bin"
    skipped=$((skipped + 1))
fi

# Phase 2: TensorFlow Lite runs them all in one process (loading the wasm
# once), each on the goldens' LCG input of seed 1, which it writes to
# m<i>.in.  A model that kills the process is retried alone.
jobs=$work/jobs.txt
: > "$jobs"
for i in "${!FILE[@]}"; do
    echo "${FILE[$i]} $work/m$i.in $work/m$i.tfl $work/m$i.json 1" >> "$jobs"
done
node "$here/run_tflite.mjs" --batch "$jobs" > /dev/null 2>&1
for i in "${!FILE[@]}"; do
    b=$work/m$i
    if [ ! -f "$b.json" ] && [ ! -f "$b.json.err" ]; then
        node "$here/run_tflite.mjs" "${FILE[$i]}" "$b.in" "$b.tfl" --random 1 \
            --info > "$b.json" 2> "$b.json.err" && rm -f "$b.json.err"
    fi
done

# Phase 3: tinyml on the same input, and the comparison.
for i in "${!FILE[@]}"; do
    source=${SRC[$i]} label=${LABEL[$i]} mode=${MODE[$i]} model=${FILE[$i]}
    b=$work/m$i
    if [ -s "$b.json.err" ] || [ ! -s "$b.json" ]; then
        row "$source" "$label" "$mode" FAIL "TFLite: $(tail -n 1 "$b.json.err" 2>/dev/null)"
        failed=$((failed + 1))
        continue
    fi
    if ! "$bin" run "$model" --input "$b.in" --output "$b.tml" \
            > /dev/null 2> "$b.err"; then
        row "$source" "$label" "$mode" FAIL "tinyml run: $(tail -n 1 "$b.err")"
        failed=$((failed + 1))
        continue
    fi
    node "$here/compare.mjs" "$b.json" "$b.tfl" "$b.tml" "$model" > "$b.cmp" 2>&1
    rc=$? verdict=ok
    detail=$(awk '{printf "%s%s[%s] max %s (%s), %s differ", (NR > 1 ? "; " : ""), $2, $3, $4, $5, $6}' "$b.cmp")
    if [ $rc -ne 0 ]; then
        verdict=FAIL
        if grep -q 'int8\|uint8\|int16\|<-q' "$b.cmp" &&
           node "$here/drift.mjs" "$model" "$b.in" "$bin" "$b.d" > "$b.drift" 2>&1; then
            verdict=drift
            detail="$detail; drift: $(tail -n 1 "$b.drift")"
        elif [ -s "$b.drift" ]; then
            detail="$detail; $(tail -n 1 "$b.drift")"
        fi
    fi
    row "$source" "$label" "$mode" "$verdict" "$detail"
    case $verdict in
        ok) passed=$((passed + 1)) ;;
        drift) passed=$((passed + 1)); drift=$((drift + 1))
               { echo "  $source $label $mode:"; sed 's/^/    /' "$b.drift"; } > "$work/drift.$i.txt" ;;
        *) failed=$((failed + 1))
           [ -s "$b.drift" ] && { echo "  $source $label $mode:"; sed 's/^/    /' "$b.drift"; } > "$work/drift.$i.txt" ;;
    esac
done

# Phase 4: TFLite's reference kernels.  The int8 models (int8 modes, and
# any model with an int8 CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED),
# rewritten in memory by run_tflite.mjs --reference-kernels, on the same
# input; tinyml's output is the one of phase 3 (same model, same input).
rtable=() rpassed=0 rfailed=0 rstart=$SECONDS
rrow() { rtable+=("$(printf '%-8s %-34s %-16s %-5s %s' "$1" "$2" "$3" "$4" "$5")"); }
node "$here/reference_kernels.mjs" "${FILE[@]}" > "$work/refcount.txt"
rjobs=$work/rjobs.txt
: > "$rjobs"
RSEL=()
for i in "${!FILE[@]}"; do
    b=$work/m$i
    [ -s "$b.tml" ] || continue              # tinyml or TFLite failed above
    read -r _ nr nd ns < <(sed -n "$((i + 1))p" "$work/refcount.txt")
    case ${MODE[$i]} in
        int8*) ;;
        *) [ "$nr" = error: ] || [ $((nr + nd + ns)) -gt 0 ] || continue ;;
    esac
    RSEL+=("$i")
    echo "${FILE[$i]} $b.in $b.ref $b.ref.json" >> "$rjobs"
done
# And a check of the rewrite without tinyml: TensorFlow's own int8 models
# on the goldens' inputs must give TFLite Micro's golden outputs byte for
# byte (as shipped, with XNNPACK, 6 of these 12 differ).
GOLD=()
for i in "${RSEL[@]}"; do
    [ "${SRC[$i]}" = shared ] || continue
    g=$shared/goldens/${LABEL[$i]}
    for inp in "$g"/seed*.input.bin; do
        [ -f "$inp" ] && [ -f "${inp%.input.bin}.output.bin" ] || continue
        k=${#GOLD[@]}
        GOLD+=("$i ${inp%.input.bin}")
        echo "${FILE[$i]} $inp $work/g$k.out $work/g$k.json" >> "$rjobs"
    done
done
node "$here/run_tflite.mjs" --batch "$rjobs" --reference-kernels > /dev/null 2>&1
for k in "${!GOLD[@]}"; do
    read -r i stem <<< "${GOLD[$k]}"
    what="golden $(basename "$stem")"
    if [ ! -s "$work/g$k.json" ]; then
        rrow golden "${LABEL[$i]}" "$(basename "$stem")" FAIL "TFLite: $(tail -n 1 "$work/g$k.json.err" 2>/dev/null)"
        rfailed=$((rfailed + 1))
    elif cmp -s "$work/g$k.out" "$stem.output.bin"; then
        rrow golden "${LABEL[$i]}" "$(basename "$stem")" ok "TFLite (reference kernels) = TFLite Micro's $what.output.bin, byte for byte"
        rpassed=$((rpassed + 1))
    else
        rrow golden "${LABEL[$i]}" "$(basename "$stem")" FAIL "TFLite (reference kernels) differs from TFLite Micro's $what.output.bin"
        rfailed=$((rfailed + 1))
    fi
done
for i in "${RSEL[@]}"; do
    source=${SRC[$i]} label=${LABEL[$i]} mode=${MODE[$i]} model=${FILE[$i]}
    b=$work/m$i
    if [ ! -s "$b.ref.json" ]; then
        rrow "$source" "$label" "$mode" FAIL "TFLite: $(tail -n 1 "$b.ref.json.err" 2>/dev/null)"
        rfailed=$((rfailed + 1))
        continue
    fi
    node "$here/compare.mjs" "$b.ref.json" "$b.ref" "$b.tml" "$model" --lsb 0 > "$b.rcmp" 2>&1
    rc=$?
    # "reference":{"rewritten":R,"depthwise":D,"skipped":S} (run_tflite.mjs)
    ops=$(sed -n 's/.*"reference":{"rewritten":\([0-9]*\),"depthwise":\([0-9]*\),"skipped":\([0-9]*\)}.*/\1 reference, \2 depthwise builtin, \3 NOT rewritten/p' "$b.ref.json")
    ops=${ops%, 0 NOT rewritten}
    detail=$(awk '{printf "%s%s[%s] max %s (%s), %s differ", (NR > 1 ? "; " : ""), $2, $3, $4, $5, $6}' "$b.rcmp")
    if [ $rc -eq 0 ]; then
        rrow "$source" "$label" "$mode" ok "$detail; ops: $ops"
        rpassed=$((rpassed + 1))
    else
        rrow "$source" "$label" "$mode" FAIL "$detail; ops: $ops"
        rfailed=$((rfailed + 1))
    fi
done

rend=$SECONDS
printf '%-8s %-34s %-16s %-5s %s\n' source model mode verdict "outputs: dtype[count] max |TFLite - tinyml| (relative or LSB), elements differing"
printf '%s\n' "${table[@]}"
if compgen -G "$work/drift.*.txt" > /dev/null; then
    echo "per-op comparison (alone: the op in a single-op model on tinyml's own input values; chained: in the whole model):"
    cat "$work"/drift.*.txt
fi
echo "$passed passed ($drift by XNNPACK drift of at most 1 LSB per op), $failed failed, $skipped skipped"
echo "reference kernels (TFLite's reference int8 CONV_2D/FULLY_CONNECTED, builtin DEPTHWISE_CONV_2D; 0 LSB required):"
printf '%s\n' "${rtable[@]}"
echo "reference kernels: $rpassed passed, $rfailed failed ($((rend - rstart)) s)"
[ $failed -eq 0 ] && [ $rfailed -eq 0 ]
