#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine:
#   1. installs missing packages (scripts/install-deps.sh)
#   2. builds and runs every test (CTest) in build/
#   3. builds again with ASan + UBSan and runs every test in build-asan/
#   4. runs the libFuzzer targets on the model verifier and on the
#      SavedModel tensor-bundle reader briefly
# Tests that need the shared models find them at $TINYML_SHARED
# (default: ../shared next to this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
export TINYML_SHARED="${TINYML_SHARED:-$(cd .. && pwd)/shared}"
JOBS="${JOBS:-2}"

bash scripts/install-deps.sh

echo "== build + tests =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

echo "== ASan + UBSan build + tests =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTML_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
# The deploy tests cross-compile for Cortex-M and run under qemu: no host
# code of ours to sanitize there, and they ran in the pass above.
(cd build-asan && ctest --output-on-failure -j"$JOBS" -E '^deploy_')

echo "== fuzz smoke: model verifier + loader, then the tensor-bundle reader =="
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_TARGET=fuzz_model bash scripts/fuzz_smoke.sh
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_TARGET=fuzz_bundle bash scripts/fuzz_smoke.sh
