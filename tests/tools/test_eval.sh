#!/usr/bin/env bash
# tinyml eval: top-1 accuracy and agreement on labelled sets.
#   - the stroke examples (examples/models): 4 hand-made samples, labels
#     0..3, float and int8 models (float32 data quantized for int8);
#   - the bundled digits model (examples/digits), when `tinyml convert` can
#     convert it: the float conversion against the numpy model's own
#     predictions (test_probs.npy as one-hot rows) must agree on all 360
#     test images, against the labels it must reach exactly the numpy
#     model's 357 of 360; the int8 conversion must agree with it on >= 98%;
#   - each bad input is exit 2 with one "tinyml: " line (exact messages).
# Env (set by CTest): TINYML_BIN, TINYML_SOURCE.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
SRC=${TINYML_SOURCE:?TINYML_SOURCE not set}
PY=/usr/bin/python3
EX=$SRC/examples/models
DIG=$SRC/examples/digits
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0 passes=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; passes=$((passes + 1)); }

# expect CODE DESCRIPTION -- CMD...: exit code CODE; a non-zero CODE has
# exactly one stderr line starting with "tinyml: ".  Output in $TMP/out,
# $TMP/err.
expect() {
    local code=$1 what=$2
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "$what: exit $rc, expected $code; stderr: $(head -c 300 "$TMP/err")"
        return 1
    fi
    if [ "$code" -ne 0 ] && { [ "$(wc -l <"$TMP/err")" -ne 1 ] ||
                              ! grep -q '^tinyml: ' "$TMP/err"; }; then
        fail "$what: stderr is not one 'tinyml: ' line: $(cat "$TMP/err")"
        return 1
    fi
    return 0
}

# has FILE LINE DESCRIPTION: FILE contains exactly that line.
has() {
    if grep -qxF -- "$2" "$1"; then ok "$3"; else
        fail "$3: no line '$2' in: $(cat "$1")"
    fi
}

# ---- data sets made here ----
"$PY" - "$EX" "$TMP" <<'PYEOF' || { echo "FAIL: $PY with numpy needed"; exit 1; }
import sys
import numpy as np
ex, tmp = sys.argv[1], sys.argv[2]
names = ["vertical", "horizontal", "diagonal", "antidiagonal"]
x = np.concatenate([np.load("%s/stroke_%s.npy" % (ex, n)) for n in names])
np.save(tmp + "/strokes.npy", x.astype(np.float32))            # (4, 8, 8, 1)
np.save(tmp + "/strokes_flat.npy", x.reshape(4, 64).astype(np.float32))
np.save(tmp + "/labels.npy", np.arange(4, dtype=np.int32))
np.save(tmp + "/labels_u8.npy", np.arange(4, dtype=np.uint8))
np.save(tmp + "/labels_wrong.npy", np.array([0, 1, 3, 2], np.int8))
np.save(tmp + "/labels_onehot.npy", np.eye(4, dtype=np.float32))
np.save(tmp + "/labels_range.npy", np.array([0, 1, 2, 4], np.int32))
np.save(tmp + "/labels_3.npy", np.arange(3, dtype=np.int32))
np.save(tmp + "/labels_i64.npy", np.arange(4, dtype=np.int64))
nan = x.astype(np.float32).copy(); nan[2, 3, 4, 0] = np.nan
np.save(tmp + "/strokes_nan.npy", nan)
np.save(tmp + "/strokes_f64.npy", x.astype(np.float64))
np.save(tmp + "/strokes_7x8.npy", x[:, :7].astype(np.float32))
np.save(tmp + "/strokes_i8.npy", np.clip(np.round(x / (1 / 255.0)) - 128, -128, 127).astype(np.int8))
np.save(tmp + "/empty.npy", np.zeros((0, 8, 8, 1), np.float32))
PYEOF

# ---- stroke models: everything is classified right ----
if expect 0 "float strokes" -- "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels.npy"; then
    has "$TMP/out" "accuracy: 100.00% (4 of 4)" "tiny_float: 4 of 4"
    has "$TMP/out" "model: $EX/tiny_float.tflite (float32 input [1, 8, 8, 1], 4 classes)" "model line"
    has "$TMP/out" "data: $TMP/strokes.npy: 4 samples, <f4 [4, 8, 8, 1]" "data line"
fi
if expect 0 "int8 strokes, float32 data quantized" -- "$BIN" eval "$EX/tiny_int8.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels_u8.npy" --compare "$EX/tiny_float.tflite"; then
    has "$TMP/out" "accuracy: 100.00% (4 of 4)" "tiny_int8: 4 of 4 (uint8 labels)"
    grep -q "^model: .*(int8 input \[1, 8, 8, 1\], float32 data quantized with scale [0-9.e-]* zero point -\?[0-9]*, 4 classes)$" "$TMP/out" &&
        ok "int8 input quantization reported" || fail "quantization line: $(head -1 "$TMP/out")"
    has "$TMP/out" "compare: $EX/tiny_float.tflite (float32 input [1, 8, 8, 1])" "compare line"
    has "$TMP/out" "  accuracy: 100.00% (4 of 4)" "compared model 4 of 4"
    has "$TMP/out" "  top-1 agreement: 100.00% (4 of 4)" "agreement 4 of 4"
fi
# Wrong labels on two samples: 2 of 4; the agreement stays 4 of 4.
if expect 0 "two labels swapped" -- "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels_wrong.npy" --compare "$EX/tiny_int8.tflite"; then
    has "$TMP/out" "accuracy: 50.00% (2 of 4)" "swapped labels: 2 of 4"
    has "$TMP/out" "  top-1 agreement: 100.00% (4 of 4)" "agreement unaffected by labels"
fi
expect 0 "flat data, one-hot labels" -- "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes_flat.npy" --labels "$TMP/labels_onehot.npy" &&
    has "$TMP/out" "accuracy: 100.00% (4 of 4)" "[N, 64] data and one-hot rows"
# numpy's default integer dtype (int64) works as labels.
expect 0 "int64 labels" -- "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels_i64.npy" &&
    has "$TMP/out" "accuracy: 100.00% (4 of 4)" "int64 labels 0..3"
expect 0 "int8 data for an int8 input" -- "$BIN" eval "$EX/tiny_int8.tflite" --data "$TMP/strokes_i8.npy" --labels "$TMP/labels.npy" &&
    has "$TMP/out" "accuracy: 100.00% (4 of 4)" "int8 data used as is"

# ---- bad input: exit 2, one exact line ----
bad() { # DESCRIPTION EXPECTED_LINE -- CMD...
    local what=$1 want=$2
    shift 3
    expect 2 "$what" -- "$@" || return
    if [ "$(cat "$TMP/err")" = "$want" ]; then ok "$what"; else
        fail "$what: got '$(cat "$TMP/err")', expected '$want'"
    fi
}
U="(usage: tinyml eval MODEL --data X.npy --labels Y.npy [--compare OTHER.tflite])"
bad "no labels" "tinyml: eval: --labels Y.npy is required $U" -- "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy"
bad "no data" "tinyml: eval: --data X.npy is required $U" -- "$BIN" eval "$EX/tiny_float.tflite" --labels "$TMP/labels.npy"
bad "no model" "tinyml: eval: no MODEL given $U" -- "$BIN" eval --data "$TMP/strokes.npy" --labels "$TMP/labels.npy"
bad "unknown option" "tinyml: eval: unknown option '--top5' $U" -- "$BIN" eval "$EX/tiny_float.tflite" --top5
bad "label out of range" "tinyml: $TMP/labels_range.npy: label 3 is 4, outside [0, 4) (the model has 4 classes)" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels_range.npy"
bad "label count" "tinyml: $TMP/labels_3.npy: <i4 [3]: expected 4 integer labels (int8/uint8/int16/int32/int64 [4]) or float32 one-hot rows [4, 4]" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels_3.npy"
bad "NaN for an int8 input" "tinyml: $TMP/strokes_nan.npy: sample 2 element 28 is NaN: cannot quantize it" -- \
    "$BIN" eval "$EX/tiny_int8.tflite" --data "$TMP/strokes_nan.npy" --labels "$TMP/labels.npy"
bad "float64 data" "tinyml: $TMP/strokes_f64.npy: header: unsupported dtype '<f8' (supported: <f4 <f2 <i4 <i2 |i1 <i1 |u1 <u1 <i8)" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes_f64.npy" --labels "$TMP/labels.npy"
bad "int8 data for a float input" "tinyml: $TMP/strokes_i8.npy: dtype |i1 does not match $EX/tiny_float.tflite input 'input' (float32)" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes_i8.npy" --labels "$TMP/labels.npy"
bad "wrong sample shape" "tinyml: $TMP/strokes_7x8.npy: shape [4, 7, 8, 1] is not N samples of $EX/tiny_float.tflite input 'input' [1, 8, 8, 1] (leading 1s optional) or [N, 64]" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/strokes_7x8.npy" --labels "$TMP/labels.npy"
bad "no samples" "tinyml: $TMP/empty.npy: no samples (shape [N, ...] with N >= 1 expected)" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/empty.npy" --labels "$TMP/labels.npy"
bad "missing data file" "tinyml: $TMP/nope.npy: No such file or directory" -- \
    "$BIN" eval "$EX/tiny_float.tflite" --data "$TMP/nope.npy" --labels "$TMP/labels.npy"
printf 'not a model' > "$TMP/junk.tflite"
expect 2 "malformed model" -- "$BIN" eval "$TMP/junk.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels.npy" && ok "malformed model: exit 2, one line"
expect 2 "malformed compare model" -- "$BIN" eval "$EX/tiny_float.tflite" --compare "$TMP/junk.tflite" --data "$TMP/strokes.npy" --labels "$TMP/labels.npy" && ok "malformed --compare model: exit 2, one line"

# ---- the bundled labelled set is what scripts/train_example.py makes ----
# Same bytes when regenerated, and model.h5 in Keras 2.4's HDF5 layout
# (attribute types as in ../shared's pretrainedResnet.h5, saved by Keras).
SHARED=${TINYML_SHARED:-$SRC/../shared}
if "$PY" "$SRC/scripts/train_example.py" "$TMP/digits" > "$TMP/train.out" 2>&1; then
    for f in model.h5 calibration.npy test_x.npy test_y.npy test_probs.npy train_log.txt; do
        if cmp -s "$TMP/digits/$f" "$DIG/$f"; then ok "regenerated $f is the checked-in file"
        else fail "regenerated $f differs from examples/digits/$f"; fi
    done
    has "$TMP/train.out" "inference (moving statistics): train accuracy 0.9979 (1437), test accuracy 0.9917 (357 of 360)" "trained float accuracy 99.17% on the test set"
else
    fail "train_example.py: $(tail -n 1 "$TMP/train.out")"
fi
"$PY" - "$DIG" "$SHARED/models/mlperf-tiny/pretrainedResnet.h5" > "$TMP/layout.out" 2>&1 <<'PYEOF'
import json, sys
import h5py, numpy as np
dig, ref_path = sys.argv[1], sys.argv[2]
f = h5py.File(dig + "/model.h5", "r")
def kind(obj, name):
    t = obj.attrs.get_id(name).get_type()
    if isinstance(t, h5py.h5t.TypeStringID):
        return ("vlen" if t.is_variable_str() else "fixed", t.get_cset())
    return (type(t).__name__,)
if ref_path and __import__("os").path.exists(ref_path):
    ref = h5py.File(ref_path, "r")
    for obj, robj in ((f, ref), (f["model_weights"], ref["model_weights"])):
        for name in obj.attrs:
            assert kind(obj, name) == kind(robj, name), (name, kind(obj, name), kind(robj, name))
    assert kind(f["model_weights/flatten"], "weight_names") == kind(ref["model_weights/flatten"], "weight_names")
    assert kind(f["model_weights/conv2d"], "weight_names")[0] == "fixed"
cfg = json.loads(f.attrs["model_config"])
assert cfg["class_name"] == "Functional"
layers = [l["name"] for l in cfg["config"]["layers"]]
assert [n.decode() for n in f["model_weights"].attrs["layer_names"]] == layers
shapes = {}
for l in layers:
    g = f["model_weights"][l]
    for w in g.attrs["weight_names"]:
        d = g[w.decode()]
        assert d.dtype == np.float32 and d.chunks is None, w
        shapes[w.decode()] = d.shape
assert shapes == {"conv2d/kernel:0": (3, 3, 1, 16), "conv2d/bias:0": (16,),
                  "batch_normalization/gamma:0": (16,), "batch_normalization/beta:0": (16,),
                  "batch_normalization/moving_mean:0": (16,),
                  "batch_normalization/moving_variance:0": (16,),
                  "dense/kernel:0": (256, 64), "dense/bias:0": (64,),
                  "dense_1/kernel:0": (64, 10), "dense_1/bias:0": (10,)}, shapes
x, y, c = (np.load(dig + n) for n in ("/test_x.npy", "/test_y.npy", "/calibration.npy"))
assert x.shape == (360, 8, 8, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
assert y.shape == (360,) and y.dtype == np.int32 and set(y) == set(range(10))
assert c.shape == (300, 8, 8, 1) and c.dtype == np.float32
print("layout ok")
PYEOF
has "$TMP/layout.out" "layout ok" "model.h5 in Keras 2.4 layout; 360 labelled test images, 300 calibration samples"

# ---- the bundled digits model, through tinyml convert ----
if "$BIN" convert "$DIG/model.h5" -o "$TMP/digits.tflite" >/dev/null 2>"$TMP/conv.err"; then
    if expect 0 "digits float vs the numpy model" -- "$BIN" eval "$TMP/digits.tflite" --data "$DIG/test_x.npy" --labels "$DIG/test_probs.npy"; then
        has "$TMP/out" "accuracy: 100.00% (360 of 360)" "float conversion picks the numpy model's class on all 360"
    fi
    if expect 0 "digits float accuracy" -- "$BIN" eval "$TMP/digits.tflite" --data "$DIG/test_x.npy" --labels "$DIG/test_y.npy"; then
        has "$TMP/out" "accuracy: 99.17% (357 of 360)" "float accuracy = the numpy model's (train_log.txt)"
    fi
    if "$BIN" convert "$DIG/model.h5" -o "$TMP/digits_int8.tflite" --quantize int8 --io int8 \
            --calibration "$DIG/calibration.npy" >/dev/null 2>"$TMP/conv.err"; then
        if expect 0 "digits float vs int8" -- "$BIN" eval "$TMP/digits.tflite" --data "$DIG/test_x.npy" --labels "$DIG/test_y.npy" --compare "$TMP/digits_int8.tflite"; then
            agree=$(sed -n 's/^  top-1 agreement: .* (\([0-9]*\) of 360)$/\1/p' "$TMP/out")
            if [ -n "$agree" ] && [ "$agree" -ge 353 ]; then
                ok "int8 agrees with float on $agree of 360 (>= 98%)"
            else
                fail "int8 agreement: $(cat "$TMP/out")"
            fi
        fi
    else
        echo "note: int8 conversion not available: $(tail -n 1 "$TMP/conv.err")"
    fi
else
    echo "note: tinyml convert cannot convert the digits model (yet): $(tail -n 1 "$TMP/conv.err")"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
