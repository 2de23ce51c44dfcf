#!/usr/bin/env bash
# The issue's conversion benchmark: vww_96.h5 -> int8 with 100 calibration
# samples through `tinyml convert` (default calibration: the budgeted
# search), wall time, CPU time and peak memory printed (target: under 2 s
# and 200 MB on the 2-core machine; wall time counts other processes'
# load, CPU time does not).  As every test here, it asserts no timing; it
# asserts the peak memory (under 200 MB) and that the int8 model runs.
set -euo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
shared=${TINYML_SHARED:-$src/../shared}
py=/usr/bin/python3
h5=$shared/models/mlperf-tiny/vww_96.h5
if [ ! -f "$h5" ] || [ ! -x /usr/bin/time ]; then
    echo "SKIP: $h5 or /usr/bin/time missing"
    exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# 100 samples around the golden inputs (float32 [96, 96, 3] each).
"$py" - "$shared/goldens/vww_96_float" "$out/calib.npy" <<'PYEOF'
import sys, glob, numpy as np
xs = np.stack([np.fromfile(p, np.float32)
               for p in sorted(glob.glob(sys.argv[1] + '/seed*.input.bin'))])
rng = np.random.default_rng(11)
pick = xs[rng.integers(0, len(xs), 100)]
data = pick + rng.normal(0, 0.1, pick.shape) * xs.std()
np.save(sys.argv[2], data.reshape(100, 96, 96, 3).astype(np.float32))
PYEOF
/usr/bin/time -f '%e %M %U %S' -o "$out/time" "$bin" convert "$h5" -o "$out/vww_int8.tflite" \
    --quantize int8 --calibration "$out/calib.npy" --samples 100 >"$out/log" ||
    { echo "FAIL: convert exit $?"; cat "$out/log"; exit 1; }
read -r secs kb usr sys <"$out/time"
cat "$out/log"
echo "vww_96.h5 -> int8, 100 calibration samples: wall ${secs} s (CPU ${usr} s user + ${sys} s system), peak memory $((kb / 1024)) MB (target < 2 s, < 200 MB)"
[ "$kb" -lt $((200 * 1024)) ] || { echo "FAIL: peak memory $((kb / 1024)) MB >= 200 MB"; exit 1; }
"$bin" run "$out/vww_int8.tflite" --random >/dev/null || { echo "FAIL: the int8 model does not run"; exit 1; }
echo PASS
