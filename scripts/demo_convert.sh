#!/usr/bin/env bash
# The seed's whole flow on the bundled trained example (examples/digits: a
# CNN the project trained itself on scikit-learn's digits, Keras HDF5
# layout; scripts/train_example.py), from a fresh Debian machine:
#   install what is missing, build, then
#   1. convert the Keras model to TFLite (float32)
#   2. dynamic-range quantization (int8 weights, float activations)
#   3. full-integer int8 with the representative data (300 samples)
#   4. inspect the int8 model
#   5. one run on a random input (the goldens' LCG, seed 1), one on the
#      first test image
#   6. float vs int8 accuracy on the 360 labelled test images
#   7. the sizes
#   8. when node is available: each model in TensorFlow Lite itself (its
#      wasm interpreter from npm, tests/tflite_js) on the same random
#      input as tinyml, and the largest difference
# Outputs go to OUT_DIR (default: a temporary directory, removed at the
# end; pass a directory to keep the models).
#   scripts/demo_convert.sh [OUT_DIR]
# Env: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo),
# JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j"${JOBS:-2}" >/dev/null

if [ $# -ge 1 ]; then
    out=$1
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
tinyml=$build/tinyml
ex=examples/digits
show() { echo "\$ tinyml $*"; "$tinyml" "$@"; echo; }

show convert "$ex/model.h5" -o "$out/digits.tflite"
show convert "$ex/model.h5" -o "$out/digits_dynamic.tflite" \
    --quantize dynamic
show convert "$ex/model.h5" -o "$out/digits_int8.tflite" \
    --quantize int8 --calibration "$ex/calibration.npy" --io int8
show inspect "$out/digits_int8.tflite"
show run "$out/digits_int8.tflite" --random --seed 1
label=$(/usr/bin/python3 -c 'import sys, numpy as np
x, y = np.load(sys.argv[1] + "/test_x.npy"), np.load(sys.argv[1] + "/test_y.npy")
np.save(sys.argv[2], x[0]); print(int(y[0]))' "$ex" "$out/test0.npy")
echo "(test image 0 of examples/digits/test_x.npy is a $label)"
show run "$out/digits_int8.tflite" --input "$out/test0.npy"
show eval "$out/digits.tflite" --data "$ex/test_x.npy" \
    --labels "$ex/test_y.npy" --compare "$out/digits_int8.tflite"
show eval "$out/digits.tflite" --data "$ex/test_x.npy" \
    --labels "$ex/test_y.npy" --compare "$out/digits_dynamic.tflite"

echo "sizes:"
printf '  %-22s %8s bytes\n' model.h5 "$(stat -c %s "$ex/model.h5")"
float=$(stat -c %s "$out/digits.tflite")
printf '  %-22s %8s bytes\n' digits.tflite "$float"
for m in digits_dynamic digits_int8; do
    size=$(stat -c %s "$out/$m.tflite")
    awk -v m="$m.tflite" -v s="$size" -v f="$float" \
        'BEGIN { printf "  %-22s %8d bytes  (%.1fx smaller than the float model)\n", m, s, f / s }'
done

js=tests/tflite_js
if bash "$js/ensure_deps.sh" >/dev/null 2>&1; then
    echo
    echo "TensorFlow Lite itself (wasm, @tensorflow/tfjs-tflite) vs tinyml, same random input:"
    for m in digits digits_dynamic digits_int8; do
        f=$out/$m.tflite
        node "$js/run_tflite.mjs" "$f" "$out/$m.in" "$out/$m.tfl" --random 1 --info > "$out/$m.json"
        "$tinyml" run "$f" --input "$out/$m.in" --output "$out/$m.tml" > /dev/null
        printf '  %-22s ' "$m.tflite"
        node "$js/compare.mjs" "$out/$m.json" "$out/$m.tfl" "$out/$m.tml" "$f" |
            awk '{ printf "%s[%s]: max difference %s (%s), %s\n", $2, $3, $4, $5, $7 }'
    done
else
    echo
    echo "(TensorFlow Lite comparison skipped: node/npm or the npm registry unavailable)"
fi
