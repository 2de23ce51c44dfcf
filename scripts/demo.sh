#!/usr/bin/env bash
# The main job on the bundled example, from a fresh Debian machine:
# installs what is missing, builds, then runs the whole flow on the model
# the project trained itself (examples/digits/model.h5, Keras HDF5):
#   convert (float) -> dynamic-range -> int8 with the representative data,
#   sizes, inspect, run, float vs int8 accuracy (scripts/demo_convert.sh),
#   then fit against every board and the model as a C array.
#   scripts/demo.sh [OUT_DIR]      (default: a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
    out=$1
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
bash scripts/demo_convert.sh "$out"
tinyml=${BUILD_DIR:-build}/tinyml
echo "\$ tinyml fit $out/digits_int8.tflite"
"$tinyml" fit "$out/digits_int8.tflite"
echo
echo "\$ tinyml export $out/digits_int8.tflite --c-array $out/c_array"
"$tinyml" export "$out/digits_int8.tflite" --c-array "$out/c_array"
ls -l "$out/c_array"
