#!/usr/bin/env bash
# Prints the int8 quality table: our int8 conversions of the MLPerf Tiny
# Keras models (ResNet, VWW, AD) against TensorFlow's own int8 models, on
# the same generated inputs (see tests/convert/test_quantize_models.c for
# the method).  Columns:
#   agree / mm agree / TF agree   top-1 agreement of int8 with float
#                      (ours with the default calibration, search; ours
#                      with --calibration-method minmax; both vs our float
#                      conversion; TF int8 vs TF float .tflite)
#   SQNR dB / mm dB / TF SQNR  10 log10(sum float^2 / sum (int8 -
#                      float)^2) over all outputs of all evaluation
#                      samples, same three models
#   int8 B, floor B, limit B   our int8 file; constant bytes + 12 B per
#                      quantized channel; floor * 1.03 + 1 KB
#   TF int8 B          TensorFlow's int8 file
#   dyn x, dyn dB      float file / our dynamic-range file; SQNR of its
#                      outputs against our float conversion
#   f16 x, f16 dB      the same for our float16 file
# usage: quant_quality.sh [BUILD_DIR] (default $TINYML_BUILD, else build)
#        TML_QQ_CAL=N TML_QQ_EVAL=M to change the sample counts (100, 100)
#        TML_QQ_METHOD=minmax|percentile|search-full (TML_QQ_PCT=P,
#        default 99.99) to calibrate every row with another
#        --calibration-method in place of the default (search; the
#        measured floors are then not checked)
#        TML_QQ_ONLY="VWW/smooth AD/golden" for some rows only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${TINYML_BUILD:-$here/../../build}}
bin=$build/tests/convert_test_quantize_models
if [ ! -x "$bin" ]; then
  echo "quant_quality: $bin not built (cmake --build $build --target convert_test_quantize_models)" >&2
  exit 2
fi
export TINYML_SHARED=${TINYML_SHARED:-$here/../../../shared}
"$bin" 2>&1 | grep -v '^\[' || true
