#!/usr/bin/env bash
# Makes tests/tflite_js/node_modules ready: `npm ci` (exact versions from
# package-lock.json) when @tensorflow/tfjs-tflite is missing.  Needs node and
# npm (scripts/install-deps.sh installs them) and, the first time, the npm
# registry.  Prints one line and exits 1 when it cannot.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "tflite_js: $tool not found (scripts/install-deps.sh installs nodejs and npm)"
        exit 1
    fi
done
wasm=$here/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc.wasm
if [ -f "$wasm" ]; then
    exit 0
fi
# Two test runs may start at once: one installs, the other waits for it.
exec 9>"$here/.npm-ci.lock"
flock 9
if [ ! -f "$wasm" ]; then
    if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        echo "tflite_js: npm ci failed in $here (is the npm registry reachable?)"
        exit 1
    fi
fi
