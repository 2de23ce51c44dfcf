#!/usr/bin/env bash
# The main job on the bundled example, from a fresh Debian machine:
# install what is missing, build, then inspect and run the example model
# the project made itself (examples/models/tiny_int8.tflite).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${JOBS:-2}" >/dev/null

model=examples/models/tiny_int8.tflite
echo "\$ tinyml inspect $model"
./build/tinyml inspect "$model"
echo
echo "\$ tinyml run $model --random --seed 1"
./build/tinyml run "$model" --random --seed 1
echo
echo "\$ tinyml bench $model"
./build/tinyml bench "$model"
