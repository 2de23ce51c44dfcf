#!/bin/bash
# Acceptance test for the dynamic-range (hybrid) kernels on the real KWS
# DS-CNN (kws_ref_model_float32.tflite: int8 weights, float activations).
# 100 inputs drawn uniformly from the int8 model's input range,
# (q - 83) * 0.5847 with q in -128..127 (fixed seed), are run through
# the independent numpy float reference (shared/tools/tflite_ref.py) and
# through our runtime (hybrid_driver); we require top-1 agreement on at
# least 95 of 100 and a median max-abs softmax difference <= 0.01.
set -euo pipefail

SHARED=${TINYML_SHARED:-$(dirname "$0")/../../../shared}
BUILD=${TINYML_BUILD:?TINYML_BUILD must point at the build directory}
MODEL=$SHARED/models/mlperf-tiny/kws_ref_model_float32.tflite
REF=$SHARED/tools/tflite_ref.py
DRIVER=$BUILD/tests/hybrid_driver
PY=/usr/bin/python3

if [ ! -f "$MODEL" ] || [ ! -f "$REF" ]; then
    echo "SKIP: $MODEL or $REF not found"
    exit 0
fi
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built"; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. inputs (deterministic) and the reference outputs
"$PY" - "$REF" "$MODEL" "$WORK" <<'PYEOF'
import sys, os, importlib.util
import numpy as np
ref_path, model, work = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("tflite_ref", ref_path)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
rng = np.random.default_rng(20261125)
q = rng.integers(-128, 128, size=(100, 1, 49, 10, 1))
x = ((q - 83) * 0.5847029).astype(np.float32)
np.save(os.path.join(work, "inputs.npy"), x)
x.tofile(os.path.join(work, "inputs.f32"))
y = np.stack([ref.run(model, x[i])[0] for i in range(len(x))])
np.save(os.path.join(work, "ref.npy"), y.astype(np.float32))
PYEOF

# 2. our runtime on the same inputs
"$DRIVER" "$MODEL" "$WORK/inputs.f32" 100 "$WORK/ours.f32"

# 3. the acceptance thresholds
"$PY" - "$WORK" <<'PYEOF'
import sys, os
import numpy as np
work = sys.argv[1]
ref = np.load(os.path.join(work, "ref.npy")).reshape(100, -1)
ours = np.fromfile(os.path.join(work, "ours.f32"), dtype=np.float32)
ours = ours.reshape(100, -1)
assert ours.shape == ref.shape, (ours.shape, ref.shape)
assert np.all(np.isfinite(ours)), "non-finite outputs"
agree = int(np.sum(np.argmax(ours, 1) == np.argmax(ref, 1)))
maxabs = np.max(np.abs(ours - ref), axis=1)
median = float(np.median(maxabs))
print("top-1 agreement: %d/100 (need >= 95)" % agree)
print("median max-abs softmax difference: %.6f (need <= 0.01); worst %.6f"
      % (median, float(maxabs.max())))
ok = agree >= 95 and median <= 0.01
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PYEOF
