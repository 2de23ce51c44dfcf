#!/usr/bin/env bash
# The KWS TensorFlow SavedModel ($TINYML_SHARED/models/mlperf-tiny/
# kws_ref_model/) through `tinyml convert`, as a user runs it:
#   - every mode (none, float16, dynamic, int8 with 100 calibration
#     samples of the goldens' distribution) converts, exit 0, and runs;
#   - the float conversion, run by our runtime on the three golden inputs,
#     equals a float64 numpy evaluation of the Keras graph read by hand
#     from the SavedModel (savedmodel/keras_ref.py, which shares nothing
#     with the C reader): softmax outputs saturate on these inputs, so the
#     log-probabilities are compared, max |d log p| / max |log p| <= 1e-5;
#   - the dynamic-range conversion, run by our runtime and by the
#     independent numpy executor tools/tflite_ref.py, agree to 1e-5;
#   - TensorFlow's kws_ref_model_float32.tflite (its dynamic-range
#     conversion) and kws_ref_model.tflite hold weights of another training
#     run than the SavedModel: per-channel |correlation| of the first conv
#     filter with the checkpoint's kernel is 1.0 for ours, 0.19 for TF's
#     (so element-wise agreement with TF's files is not expected; both
#     still pick the same class on the golden inputs, checked);
#   - damaged copies (made here, in a temp dir): truncated saved_model.pb,
#     no variables/, a corrupted index block, a corrupted tensor, a config
#     whose shapes disagree with the checkpoint, a SavedModel without Keras
#     metadata -> exit 2, exactly one line on stderr, no output file.
set -euo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
shared=${TINYML_SHARED:-$src/../shared}
export TINYML_SHARED=$shared
sm=$shared/models/mlperf-tiny/kws_ref_model
golden=$shared/goldens/kws_ref_model
py=/usr/bin/python3
ref=$src/tests/convert/savedmodel/keras_ref.py
if [ ! -f "$sm/saved_model.pb" ]; then
    echo "SKIP: $sm not found"
    exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Inputs: the golden int8 inputs dequantized (scale 0.5847029, zero point
# 83, manifest.json) as .npy, and 100 calibration samples from the same
# generator with other seeds.
"$py" - "$golden" "$out" <<'EOF'
import sys, numpy as np
golden, out = sys.argv[1], sys.argv[2]
scale, zp = np.float32(0.5847029089927673), 83
deq = lambda q: ((q.astype(np.float32) - zp) * scale).astype(np.float32).reshape(1, 49, 10, 1)
for s in (1, 2, 3):
    np.save('%s/x%d.npy' % (out, s), deq(np.fromfile('%s/seed%d.input.bin' % (golden, s), np.int8)))
def lcg(seed, n):
    st, q = seed, np.empty(n, np.int8)
    for i in range(n):
        st = (st * 1664525 + 1013904223) & 0xffffffff
        q[i] = (st >> 24) - 128
    return q
np.save(out + '/cal.npy', np.concatenate([deq(lcg(1000 + k, 490)) for k in range(100)]))
EOF

for mode in none float16 dynamic int8; do
    extra=()
    [ "$mode" = int8 ] && extra=(--calibration "$out/cal.npy")
    "$bin" convert "$sm" -o "$out/kws_$mode.tflite" --quantize "$mode" "${extra[@]}" \
        >"$out/convert.log" 2>&1 || fail "convert --quantize $mode: $(cat "$out/convert.log")"
    grep -q "^Size of TensorFlow Lite Model: " "$out/convert.log" || fail "$mode: no size line"
    echo "$mode: $(stat -c %s "$out/kws_$mode.tflite") B"
done
# The saved_model.pb path itself names the SavedModel too; same bytes.
"$bin" convert "$sm/saved_model.pb" -o "$out/again.tflite" >/dev/null
cmp -s "$out/again.tflite" "$out/kws_none.tflite" || fail "converting saved_model.pb differs"

# logp_rel OURS.npy REF.npy: max |d log p| / max |log p|.
logp_rel() {
    "$py" -c "
import sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float64).ravel(); b = np.load(sys.argv[2]).astype(np.float64).ravel()
la, lb = np.log(np.maximum(a, 1e-37)), np.log(np.maximum(b, 1e-37))
print('%.3g' % (np.abs(la - lb).max() / np.abs(lb).max()))" "$1" "$2"
}
# rel OURS.npy REF.npy: max abs diff / max abs reference.
rel() {
    "$py" -c "
import sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float64).ravel(); b = np.load(sys.argv[2]).astype(np.float64).ravel()
print('%.3g' % (np.abs(a - b).max() / np.abs(b).max()))" "$1" "$2"
}
within() { "$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$1" "$2"; }
top1() { "$py" -c "import sys, numpy as np; print(int(np.load(sys.argv[1]).argmax()))" "$1"; }

for s in 1 2 3; do
    x=$out/x$s.npy
    "$py" "$ref" run "$sm" "$x" "$out/keras$s.npy"
    "$bin" run "$out/kws_none.tflite" --input "$x" --output "$out/float$s.npy" >/dev/null
    d=$(logp_rel "$out/float$s.npy" "$out/keras$s.npy")
    echo "seed $s: float vs numpy Keras: log-prob rel $d"
    within "$d" 1e-5 || fail "seed $s: float conversion differs from numpy Keras by $d"

    "$bin" run "$out/kws_dynamic.tflite" --input "$x" --output "$out/dyn$s.npy" >/dev/null
    "$py" "$shared/tools/tflite_ref.py" "$out/kws_dynamic.tflite" "$x" "$out/dynref$s.npy"
    d=$(rel "$out/dyn$s.npy" "$out/dynref$s.npy")
    echo "seed $s: dynamic, our runtime vs tflite_ref.py: rel $d"
    within "$d" 1e-5 || fail "seed $s: dynamic model: runtime vs tflite_ref.py $d"

    "$py" "$shared/tools/tflite_ref.py" "$shared/models/mlperf-tiny/kws_ref_model_float32.tflite" \
        "$x" "$out/tfdyn$s.npy"
    echo "seed $s: dynamic vs TF's dynamic: rel $(rel "$out/dyn$s.npy" "$out/tfdyn$s.npy"), top-1 $(top1 "$out/dyn$s.npy") vs $(top1 "$out/tfdyn$s.npy")"
    [ "$(top1 "$out/dyn$s.npy")" = "$(top1 "$out/tfdyn$s.npy")" ] || fail "seed $s: top-1 differs from TF's dynamic model"
done

for m in "$out/kws_none.tflite" "$out/kws_dynamic.tflite" "$out/kws_int8.tflite" \
         "$shared/models/mlperf-tiny/kws_ref_model_float32.tflite" \
         "$shared/models/mlperf-tiny/kws_ref_model.tflite"; do
    c=$("$py" "$ref" corr "$sm" "$m")
    echo "conv filter |corr| with the checkpoint: $(basename "$m") $c"
    case $m in
    "$out"/*) within 0.999 "$c" || fail "$m: our weights are not the checkpoint's ($c)" ;;
    *) within "$c" 0.5 || fail "$m: TF's weights now match the checkpoint ($c): compare outputs" ;;
    esac
done

# ---- damaged copies: exit 2, one line on stderr, no output ----
# bad NAME EXPECTED_SUBSTRING: converts $out/NAME, checks the failure.
bad() {
    rm -f "$out/bad.tflite"
    set +e
    "$bin" convert "$out/$1" -o "$out/bad.tflite" >/dev/null 2>"$out/err.log"
    local rc=$?
    set -e
    [ "$rc" = 2 ] || fail "$1: exit $rc, expected 2 ($(cat "$out/err.log"))"
    [ "$(wc -l <"$out/err.log")" = 1 ] || fail "$1: stderr is not one line: $(cat "$out/err.log")"
    grep -qF -- "$2" "$out/err.log" || fail "$1: '$2' not in: $(cat "$out/err.log")"
    [ ! -e "$out/bad.tflite" ] || fail "$1: an output file was written"
    echo "$1: $(cat "$out/err.log")"
}
copy() { mkdir -p "$out/$1/variables"; cp "$sm/saved_model.pb" "$out/$1/"; cp "$sm"/variables/* "$out/$1/variables/"; chmod -R u+w "$out/$1"; }

copy trunc
head -c 400000 "$sm/saved_model.pb" >"$out/trunc/saved_model.pb"
bad trunc "saved_model.pb is not a valid SavedModel (truncated or corrupt protobuf)"

copy novars
rm -rf "$out/novars/variables"
bad novars "variables/variables.index: cannot read it (no variables directory?)"

copy badblock
"$py" -c "
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[100] ^= 0x5a; open(p, 'wb').write(b)" \
    "$out/badblock/variables/variables.index"
bad badblock "variables/variables.index: data block at offset 0: checksum mismatch (corrupt table)"

copy badfooter
truncate -s -3 "$out/badfooter/variables/variables.index"
bad badfooter "variables/variables.index: not a table (bad magic number in the footer)"

copy baddata
"$py" -c "
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[::1000] = bytes(x ^ 1 for x in b[::1000]); open(p, 'wb').write(b)" \
    "$out/baddata/variables/variables.data-00000-of-00001"
bad baddata "checksum mismatch (corrupt data file)"

copy shortdata
truncate -s 1000 "$out/shortdata/variables/variables.data-00000-of-00001"
bad shortdata "lie outside its 1000-byte data file"

# The first Conv2D declared with 32 filters (same-length edit of the JSON
# inside the protobuf): its 64-filter kernel no longer fits.
copy shape
"$py" -c "
import sys; p = sys.argv[1]; b = open(p, 'rb').read()
old = b'\"filters\": 64, \"kernel_size\": {\"class_name\": \"__tuple__\", \"items\": [10, 4]}'
assert b.count(old) >= 1, b.count(old)
open(p, 'wb').write(b.replace(old, old.replace(b'64', b'32')))" "$out/shape/saved_model.pb"
bad shape "layer 'conv2d' (Conv2D): weight 'kernel' has shape [10,4,1,64], expected [10,4,1,32]"

copy nokeras
"$py" -c "
import sys; p = sys.argv[1]; b = open(p, 'rb').read()
assert b.count(b'_tf_keras_network') == 1
open(p, 'wb').write(b.replace(b'_tf_keras_network', b'_generic_object__'))" "$out/nokeras/saved_model.pb"
bad nokeras "SavedModel without Keras metadata is not supported yet (graph import)"

mkdir -p "$out/empty"
bad empty "is a directory (a SavedModel?"
echo "ok"
