#!/usr/bin/env bash
# Installs what tinyml needs to build and test on Debian (12+), as root or
# with sudo.  Idempotent: does nothing when every package is present.
#   build:  gcc, cmake, pkg-config, cJSON
#           protobuf-c (TensorFlow SavedModel import: protoc-c + library)
#   tests:  cmocka, valgrind, clang + compiler-rt (libFuzzer, sanitizers),
#           Debian's python3 with numpy and flatbuffers (/usr/bin/python3:
#           the reference executor in ../shared/tools and test scripts;
#           h5py + sklearn for scripts/train_example.py), node + npm
#           (tests/tflite_js: TensorFlow Lite's wasm interpreter from npm)
#   deploy: arm-none-eabi-gcc + newlib (Cortex-M builds), qemu-system-arm
#           (tests/deploy runs exported projects on emulated boards), jq
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libcjson-dev libcmocka-dev
  valgrind clang libclang-rt-14-dev
  python3 python3-numpy python3-flatbuffers
  libhdf5-dev python3-h5py
  libzip-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm jq
  python3-sklearn nodejs
  protobuf-c-compiler libprotobuf-c-dev
)
# Debian's npm, unless npm is already there (NodeSource's nodejs package
# provides npm itself and conflicts with Debian's).
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
