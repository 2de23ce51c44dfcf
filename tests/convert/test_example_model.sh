#!/usr/bin/env bash
# Regenerating the example models gives exactly the checked-in bytes
# (examples/models/*.tflite come from examples/make_example_model.c).
set -euo pipefail
src=${TINYML_SOURCE:?}
gen=${TINYML_BUILD:?}/make_example_model
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$gen" "$out" >/dev/null
for f in tiny_int8.tflite tiny_float.tflite stroke_vertical.npy \
         stroke_horizontal.npy stroke_diagonal.npy stroke_antidiagonal.npy; do
    if ! cmp "$out/$f" "$src/examples/models/$f"; then
        echo "FAIL: $f differs from a fresh make_example_model run"
        exit 1
    fi
done
# A second run in the same process state gives the same bytes again.
"$gen" "$out" >/dev/null
cmp "$out/tiny_int8.tflite" "$src/examples/models/tiny_int8.tflite"
echo "2 passed, 0 failed"
