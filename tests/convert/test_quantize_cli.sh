#!/usr/bin/env bash
# Calibration data through `tinyml convert --quantize int8`, written by
# numpy itself: .npy (N x shape, N x flattened), .npz (numpy.savez by
# input name, positional arr_0, savez_compressed), a directory of .npy
# samples.  The same samples in every container give byte-identical
# models; wrong shapes and dtypes are one-line errors naming expected vs
# got (exit 2).  Model: ad01.h5 (input 'input_1', [1, 640]).
set -euo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
shared=${TINYML_SHARED:-$src/../shared}
h5=$shared/models/mlperf-tiny/ad01.h5
py=/usr/bin/python3
[ -f "$h5" ] || { echo "SKIP: $h5 missing"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$py" - "$out" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]
# 24 samples from the goldens' LCG (float32: (state >> 8) * 2^-23 - 1).
def lcg(seed, n):
    s, v = seed, np.empty(n, np.float32)
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xffffffff
        v[i] = np.float32((s >> 8) * 2.0 ** -23 - 1.0)
    return v
x = np.stack([lcg(100 + k, 640) for k in range(24)])
np.save(os.path.join(d, 'flat.npy'), x)                       # N x 640
np.save(os.path.join(d, 'full.npy'), x.reshape(24, 1, 640))   # N x [1, 640]
np.savez(os.path.join(d, 'named.npz'), input_1=x)
np.savez(os.path.join(d, 'positional.npz'), x)
np.savez_compressed(os.path.join(d, 'compressed.npz'), input_1=x)
os.mkdir(os.path.join(d, 'dir'))
for k in range(24):
    np.save(os.path.join(d, 'dir', 'sample%03d.npy' % k), x[k])
np.save(os.path.join(d, 'wrong_shape.npy'), x.reshape(24, 20, 32))
np.save(os.path.join(d, 'f64.npy'), x.astype(np.float64))
np.save(os.path.join(d, 'i8.npy'), (x * 100).astype(np.int8))
np.savez(os.path.join(d, 'other_name.npz'), extra=x[5:10], input_1=x[:3])
PY

for data in flat.npy full.npy named.npz positional.npz compressed.npz dir; do
    "$bin" convert "$h5" -o "$out/m_${data%.*}.tflite" --quantize int8 \
        --calibration "$out/$data" >"$out/log" 2>&1 || fail "$data: $(cat "$out/log")"
    grep -q '^Size of TensorFlow Lite Model: ' "$out/log" || fail "$data: no size line"
    cmp -s "$out/m_flat.tflite" "$out/m_${data%.*}.tflite" ||
        fail "$data gives a different model than flat.npy"
done
"$bin" run "$out/m_flat.tflite" --random >/dev/null || fail "int8 model does not run"

# --samples 10 of the 24 = the first 10 alone.
"$py" -c "import numpy as np; np.save('$out/first10.npy', np.load('$out/flat.npy')[:10])"
"$bin" convert "$h5" -o "$out/s10.tflite" --quantize int8 --calibration "$out/flat.npy" --samples 10 >/dev/null 2>&1
"$bin" convert "$h5" -o "$out/f10.tflite" --quantize int8 --calibration "$out/first10.npy" >/dev/null 2>&1
cmp -s "$out/s10.tflite" "$out/f10.tflite" || fail "--samples 10 differs from the first 10 samples"
cmp -s "$out/s10.tflite" "$out/m_flat.tflite" && fail "--samples 10 equals all 24 samples"

# A .npz member named after the input wins over member order.
"$py" -c "import numpy as np; np.save('$out/first3.npy', np.load('$out/flat.npy')[:3])"
"$bin" convert "$h5" -o "$out/o3.tflite" --quantize int8 --calibration "$out/other_name.npz" >/dev/null 2>&1
"$bin" convert "$h5" -o "$out/f3.tflite" --quantize int8 --calibration "$out/first3.npy" >/dev/null 2>&1
cmp -s "$out/o3.tflite" "$out/f3.tflite" || fail "other_name.npz: not the 'input_1' member"

# expect ERR_SUBSTRING DATA: exit 2, one stderr line, no output file.
expect() {
    local msg=$1 data=$2 rc=0
    rm -f "$out/bad.tflite"
    "$bin" convert "$h5" -o "$out/bad.tflite" --quantize int8 --calibration "$data" \
        >"$out/stdout" 2>"$out/stderr" || rc=$?
    [ "$rc" = 2 ] || fail "$data: exit $rc, want 2: $(cat "$out/stderr")"
    [ "$(wc -l <"$out/stderr")" = 1 ] || fail "$data: stderr is not one line: $(cat "$out/stderr")"
    grep -qF -- "$msg" "$out/stderr" || fail "$data: stderr lacks '$msg': $(cat "$out/stderr")"
    [ ! -e "$out/bad.tflite" ] || fail "$data: wrote an output"
}
expect "wrong_shape.npy: input 'input_1': expected N x [640] (or 640 flattened) float32, got [24, 20, 32] <f4" "$out/wrong_shape.npy"
expect "f64.npy: input 'input_1': expected float32 (<f4) samples, got <f8" "$out/f64.npy"
expect "i8.npy: input 'input_1': expected float32 (<f4) samples, got |i1" "$out/i8.npy"
expect "missing.npz: No such file or directory" "$out/missing.npz"
echo "not a zip" >"$out/junk.npz"
expect "junk.npz: not a readable .npz (zip): Not a zip archive" "$out/junk.npz"
expect "flat.npy: No such file or directory" "$out/dir/flat.npy"
expect "data.csv: No such file or directory" "$out/data.csv"
touch "$out/empty.csv"
expect "empty.csv: expected a .npy or .npz file or a directory of .npy files" "$out/empty.csv"
mkdir "$out/nothing"
expect "nothing: no .npy files in the directory" "$out/nothing"

# --calibration-method: search is the default (byte-identical model), and
# narrows some ranges on these samples (its model differs from minmax's,
# same size: ranges change no byte count).  percentile (99.99%) clips
# nothing here: each activation has 24 x 128 observed values, and a 0.005%
# tail is less than one of them, so it equals minmax.  search-full (real
# int8 runs per candidate) narrows some ranges too, and its model runs.
"$bin" convert "$h5" -o "$out/se.tflite" --quantize int8 --calibration "$out/flat.npy" \
    --calibration-method search >"$out/log" 2>&1 || fail "search: $(cat "$out/log")"
cmp -s "$out/se.tflite" "$out/m_flat.tflite" || fail "search is not the default"
"$bin" convert "$h5" -o "$out/mm.tflite" --quantize int8 --calibration "$out/flat.npy" \
    --calibration-method minmax >/dev/null 2>&1 || fail "--calibration-method minmax failed"
cmp -s "$out/mm.tflite" "$out/se.tflite" && fail "search changed no range"
[ "$(wc -c <"$out/mm.tflite")" = "$(wc -c <"$out/se.tflite")" ] || fail "search changed the file size"
"$bin" convert "$h5" -o "$out/pc.tflite" --quantize int8 --calibration "$out/flat.npy" \
    --calibration-method percentile >/dev/null 2>&1 || fail "--calibration-method percentile failed"
cmp -s "$out/pc.tflite" "$out/mm.tflite" || fail "percentile clipped less than one value"
"$bin" run "$out/se.tflite" --random >/dev/null || fail "search model does not run"
"$bin" convert "$h5" -o "$out/sf.tflite" --quantize int8 --calibration "$out/flat.npy" \
    --calibration-method search-full >"$out/log" 2>&1 || fail "search-full: $(cat "$out/log")"
cmp -s "$out/sf.tflite" "$out/mm.tflite" && fail "search-full changed no range"
"$bin" run "$out/sf.tflite" --random >/dev/null || fail "search-full model does not run"
usage() {
    local msg=$1 rc=0
    shift
    "$bin" convert "$h5" -o "$out/bad.tflite" "$@" >/dev/null 2>"$out/stderr" || rc=$?
    [ "$rc" = 2 ] || fail "$*: exit $rc, want 2"
    grep -qF -- "$msg" "$out/stderr" || fail "$*: stderr lacks '$msg': $(cat "$out/stderr")"
    [ ! -e "$out/bad.tflite" ] || fail "$*: wrote an output"
}
usage "convert: --calibration-method needs search, minmax, percentile or search-full, got 'kl'" \
    --quantize int8 --calibration "$out/flat.npy" --calibration-method kl
usage "convert: --calibration-method goes with --quantize int8" \
    --quantize dynamic --calibration-method search
"$bin" convert --help | grep -q -- "--calibration-method M" || fail "--help lacks --calibration-method"
echo "PASS: calibration data formats and errors"
