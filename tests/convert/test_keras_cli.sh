#!/usr/bin/env bash
# The Keras importer through the CLI, as a user runs it:
#   tinyml convert FIXTURE.{h5,keras} -o M.tflite; tinyml run M.tflite
#   --input IN.npy --output OUT.npy; OUT within 1e-5 (relative) of the
# fixture generator's numpy output.  And a malformed file: exit status 2
# and exactly one line on stderr naming the file and the layer.
set -euo pipefail

BIN=${TINYML_BIN:?TINYML_BIN must point at the tinyml binary}
SRC=${TINYML_SOURCE:?}
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "no tinyml binary at $BIN (build the tinyml target first)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" "$SRC/tests/convert/keras/make_fixtures.py" "$WORK/fx" >/dev/null

fail=0
checked=0
for f in conv2d_same.h5 conv2d_same.keras depthwise.keras separable.h5 conv1d_same_s2.h5 \
         batchnorm.h5 act_hard_sigmoid.h5 act_hard_sigmoid.keras act_swish.h5 \
         avgpool1d_same.h5 gap2d.keras gmp2d.h5 zeropad2d.keras permute.h5 \
         rescaling.keras normalization.h5 merge.keras resblock.h5 resblock.keras \
         seq_cnn.keras seq_cnn.k3.h5 seq_legacy.h5 dropout.h5; do
  name=${f%%.*}
  fmt=${f#*.}
  out="$WORK/$name.$fmt.tflite"
  if ! "$BIN" convert "$WORK/fx/$f" -o "$out" >"$WORK/convert.log" 2>&1; then
    echo "FAIL convert $f: $(cat "$WORK/convert.log")"
    fail=1
    continue
  fi
  if ! "$BIN" run "$out" --input "$WORK/fx/$name.in0.npy" --output "$WORK/got.npy" \
       >/dev/null 2>"$WORK/run.log"; then
    echo "FAIL run $f: $(cat "$WORK/run.log")"
    fail=1
    continue
  fi
  if ! "$PY" - "$WORK/got.npy" "$WORK/fx/$name.$fmt.out0.npy" <<'EOF'
import sys
import numpy as np
got, want = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
d = np.abs(got.reshape(want.shape) - want).max() / max(1.0, np.abs(want).max())
if not d <= 1e-5:
    sys.exit("differs from numpy by %g" % d)
EOF
  then
    echo "FAIL $f: output differs from numpy"
    fail=1
  fi
  checked=$((checked + 1))
done

# A malformed file: exit 2 (bad input, tools/README.md), one line on stderr
# naming the layer, no output file.
set +e
"$BIN" convert "$WORK/fx/err_channels_first.h5" -o "$WORK/bad.tflite" >/dev/null 2>"$WORK/err.log"
rc=$?
set -e
lines=$(wc -l <"$WORK/err.log")
if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] ||
   ! grep -q "layer 'conv3' (Conv2D): data_format 'channels_first' is not supported" "$WORK/err.log" ||
   [ -e "$WORK/bad.tflite" ]; then
  echo "FAIL malformed: rc $rc, $lines lines: $(cat "$WORK/err.log")"
  fail=1
fi

echo "$checked converted fixtures match numpy"
[ "$checked" -eq 23 ] || fail=1
exit $fail
