#!/usr/bin/env bash
# Every runnable Keras fixture (tests/convert/keras/make_fixtures.py: one
# tiny model per supported layer, .h5 and .keras, with outputs computed by
# an independent float64 numpy implementation) through the whole command:
# `tinyml convert` (import -> passes -> export) then `tinyml run` on the
# fixture's inputs; the outputs must be within 1e-5 relative
# (max |ours - numpy| / max |numpy|).
set -euo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
py=/usr/bin/python3
if ! "$py" -c 'import h5py, numpy' 2>/dev/null; then
    echo "FAIL: $py lacks h5py or numpy"
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$py" "$src/tests/convert/keras/make_fixtures.py" "$out" >/dev/null
cd "$out"
"$py" - "$bin" <<'PYEOF'
import json, subprocess, sys
import numpy as np
bin_ = sys.argv[1]
cases = json.load(open('manifest.json'))['cases']
ran, bad = 0, []
for c in cases:
    if 'error' in c or not c.get('run'):
        continue
    f, name = c['file'], c['name']
    r = subprocess.run([bin_, 'convert', f, '-o', f + '.tflite'],
                       capture_output=True, text=True)
    if r.returncode:
        bad.append('%s: convert exit %d: %s' % (f, r.returncode, r.stderr.strip()))
        continue
    x = b''.join(np.load('%s.in%d.npy' % (name, i)).astype(np.float32).tobytes()
                 for i in range(c['inputs']))
    open('in.bin', 'wb').write(x)
    r = subprocess.run([bin_, 'run', f + '.tflite', '--input', 'in.bin',
                        '--output', 'out.bin'], capture_output=True, text=True)
    if r.returncode:
        bad.append('%s: run exit %d: %s' % (f, r.returncode, r.stderr.strip()))
        continue
    y = np.fromfile('out.bin', np.float32).astype(np.float64)
    ref = np.concatenate([np.load('%s.out%d.npy' % (f, i)).astype(np.float64).ravel()
                          for i in range(c['outputs'])])
    if y.size != ref.size:
        bad.append('%s: %d outputs, want %d' % (f, y.size, ref.size))
        continue
    rel = np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-30)
    ran += 1
    if not rel <= 1e-5:
        bad.append('%s: %.3g relative' % (f, rel))
for b in bad:
    print('FAIL:', b)
if ran < 40:
    print('FAIL: only %d fixtures ran' % ran)
    sys.exit(1)
print('%d fixtures converted and run, %d failed' % (ran, len(bad)))
sys.exit(1 if bad else 0)
PYEOF
