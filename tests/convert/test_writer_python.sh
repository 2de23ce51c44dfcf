#!/usr/bin/env bash
# Models written by tinyml's TFLite writer, read back by an independent
# reader: the flatbuffers Python runtime (tflite_dump.py) and the numpy
# reference executor $TINYML_SHARED/tools/tflite_ref.py.
set -euo pipefail
src=${TINYML_SOURCE:?}
shared=${TINYML_SHARED:-$src/../shared}
py=/usr/bin/python3
if ! "$py" -c 'import flatbuffers, numpy' 2>/dev/null; then
    echo "FAIL: $py lacks flatbuffers or numpy"
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"${TINYML_BUILD:?}/make_example_model" "$out" >/dev/null
pass=0

expect() {  # expect FILE LINE: the dump of FILE has exactly LINE
    if ! grep -qxF -- "$2" "$out/$1.dump"; then
        echo "FAIL: $1: missing line: $2"
        echo "--- dump:"; cat "$out/$1.dump"
        exit 1
    fi
    pass=$((pass + 1))
}

"$py" "$src/tests/convert/tflite_dump.py" "$out/tiny_int8.tflite" >"$out/int8.dump"
"$py" "$src/tests/convert/tflite_dump.py" "$out/tiny_float.tflite" >"$out/float.dump"

expect int8 "identifier TFL3"
expect int8 "size_mod16 0"
expect int8 "version 3"
expect int8 'description tinyml example: 8x8 stroke classifier (| - \ /), int8'
expect int8 "opcode 0 deprecated 3 builtin 3 version 3"
expect int8 "opcode 1 deprecated 17 builtin 17 version 2"
expect int8 "opcode 2 deprecated 22 builtin 22 version 1"
expect int8 "opcode 3 deprecated 9 builtin 9 version 4"
expect int8 "opcode 4 deprecated 25 builtin 25 version 2"
expect int8 "buffer 0 bytes 0 align16 n/a sum 0"
expect int8 "buffer 1 bytes 36 align16 True sum 6138"
# The conv filter, OHWI: '|' '-' '\' '/' detectors, each channel symmetric
# with its own scale (max |w| -> 127; -0.9 / (1.8 / 127) rounds to -63).
expect int8 "buffer 1 int8 [-64, 127, -64, -64, 127, -64, -64, 127, -64, -64, -64, -64, 127, 127, 127, -64, -64, -64, 127, -64, -64, -64, 127, -64, -64, -64, 127, -63, -63, 127, -63, 127, -63, 127, -63, -63]"
# The conv bias: int32 -8096 = round(-0.5 / (1/255 * 2/127)) in every channel
# (each detector's gain cancels between its bias and its weight scale).
expect int8 "buffer 2 int8 [96, -32, -1, -1, 96, -32, -1, -1, 96, -32, -1, -1, 96, -32, -1, -1]"
expect int8 "subgraphs 1"
expect int8 "subgraph name main"
expect int8 "tensor 0 conv/filter type 9 shape [4, 3, 3, 1] buffer 1 scales ['0.0157480314', '0.0125984251', '0.0196850393', '0.0141732283'] zps [0, 0, 0, 0] qdim 0"
expect int8 "tensor 2 flatten/shape type 2 shape [2] buffer 3 scales None zps None qdim None"
expect int8 "tensor 5 input type 9 shape [1, 8, 8, 1] buffer 0 scales ['0.00392156886'] zps [-128] qdim 0"
expect int8 "tensor 10 softmax type 9 shape [1, 4] buffer 0 scales ['0.00390625'] zps [-128] qdim 0"
expect int8 "op 0 opcode 0 in [5, 0, 1] out [6] options_type 1 options_fields [False, True, True, True, False, False, False, False]"
expect int8 "op 2 opcode 2 in [7, 2] out [8] options_type 17 options_fields [True, False, False, False, False, False, False, False]"
expect int8 "inputs [5]"
expect int8 "outputs [10]"
expect float "opcode 0 deprecated 3 builtin 3 version 1"
expect float "tensor 0 conv/filter type 0 shape [4, 3, 3, 1] buffer 1 scales None zps None qdim None"

# Every writer feature (tests/convert/test_tflite_writer.c build_model and
# a custom op), read by the flatbuffers runtime.
"$TINYML_BUILD/tests/convert_test_tflite_writer" --write "$out/features.tflite"
"$py" "$src/tests/convert/tflite_dump.py" "$out/features.tflite" >"$out/features.dump"
expect features "identifier TFL3"
expect features "size_mod16 0"
expect features "description writer test"
expect features "opcode 0 deprecated 3 builtin 3 version 3"
expect features "opcode 1 deprecated 22 builtin 22 version 1"
# Past 126 the deprecated byte holds PLACEHOLDER_FOR_GREATER_OP_CODES.
expect features "opcode 2 deprecated 127 builtin 150 version 1"
expect features "opcode 3 deprecated 32 builtin 32 version 2"
expect features "buffer 1 int8 [1, -2, 3, -4, 5, -6]"
expect features "buffer 2 int8 [100, 0, 0, 0, 56, -1, -1, -1]"
expect features "tensor 0 x type 9 shape [1, 2, 2, 3] buffer 0 scales ['0.100000001'] zps [-5] qdim 0"
expect features "tensor 1 w type 9 shape [2, 1, 1, 3] buffer 1 scales ['0.25', '0.5'] zps [0, 0] qdim 0"
expect features "tensor 2 b type 2 shape [2] buffer 2 scales ['0.0250000004', '0.0500000007'] zps [0, 0] qdim 0"
expect features "op 0 opcode 0 in [0, 1, 2] out [3] options_type 1 options_fields [True, True, True, True, False, True, False, False]"
expect features "op 0 options padding=1 stride_w=1 stride_h=2 act=3 dilation_w=1 dilation_h=3"
expect features "op 1 opcode 1 in [3, -1] out [4] options_type 17 options_fields [True, False, False, False, False, False, False, False]"
expect features "op 1 options new_shape=[1, 8]"
expect features "op 2 opcode 2 in [4] out [4] options_type 0 options_fields None"
expect features "op 3 opcode 0 in [0, 1, 2] out [3] options_type 1 options_fields [True, True, True, True, False, True, False, False]"
expect features "op 4 custom MyOp custom_options [7, 8, 9]"
expect features "inputs [0]"
expect features "outputs [4]"
expect int8 "op 1 options padding=1 stride_w=2 stride_h=2 filter_w=2 filter_h=2 act=0"
expect int8 "op 4 options beta=1"

# Both models through the numpy reference: a vertical stroke is class 0,
# a horizontal one class 1, with the float probabilities of the design.
if [ ! -f "$shared/tools/tflite_ref.py" ]; then
    echo "SKIP: no $shared/tools/tflite_ref.py (set TINYML_SHARED)"
    echo "$pass passed, 0 failed"
    exit 0
fi
"$py" - "$shared/tools/tflite_ref.py" "$out" <<'PY'
import importlib.util, sys, numpy as np
spec = importlib.util.spec_from_file_location('tflite_ref', sys.argv[1])
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
for k, col in ((0, None), (1, None)):
    x = np.zeros((1, 8, 8, 1), np.float32)
    if k == 0: x[0, :, 3, 0] = 1
    else: x[0, 4, :, 0] = 1
    pf = ref.run(sys.argv[2] + '/tiny_float.tflite', x)[0].ravel()
    # tflite_ref keeps activations float and dequantizes int8 weights.
    pq = ref.run(sys.argv[2] + '/tiny_int8.tflite', x)[0].ravel()
    assert pf.argmax() == k and pq.argmax() == k, (k, pf, pq)
    assert pf[k] > 0.99, pf
    assert np.abs(pf - pq).max() < 0.01, (pf, pq)
print('reference ok')
PY
pass=$((pass + 1))
echo "$pass passed, 0 failed"
