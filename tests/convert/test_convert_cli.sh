#!/usr/bin/env bash
# tinyml convert as a command: usage errors (exit 2, one line on stderr
# starting "tinyml: "), unreadable or non-model input, output == input
# refused, atomic output (an existing file is replaced whole or not at
# all, no temporary left behind), the input never modified, and each
# --quantize mode end to end on ad01.h5 (size lines, reduction, the output
# runs in tinyml run).
set -euo pipefail
src=${TINYML_SOURCE:?}
bin=${TINYML_BIN:?}
shared=${TINYML_SHARED:-$src/../shared}
h5=$shared/models/mlperf-tiny/ad01.h5
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0
fail() { echo "FAIL: $*"; exit 1; }

# expect CODE ERR_SUBSTRING -- ARGS...: exit code, exactly one stderr line
# starting "tinyml: " and containing ERR_SUBSTRING.
expect() {
    local want=$1 msg=$2
    shift 3
    local rc=0
    "$bin" convert "$@" >"$out/stdout" 2>"$out/stderr" || rc=$?
    [ "$rc" = "$want" ] || fail "convert $*: exit $rc, want $want: $(cat "$out/stderr")"
    [ "$(wc -l <"$out/stderr")" = 1 ] || fail "convert $*: stderr is not one line: $(cat "$out/stderr")"
    grep -q '^tinyml: ' "$out/stderr" || fail "convert $*: no 'tinyml: ' prefix: $(cat "$out/stderr")"
    grep -qF -- "$msg" "$out/stderr" || fail "convert $*: stderr lacks '$msg': $(cat "$out/stderr")"
    [ ! -s "$out/stdout" ] || fail "convert $*: printed on stdout: $(cat "$out/stdout")"
    pass=$((pass + 1))
}

# ---- usage errors (no model needed) ----
expect 2 "convert: no INPUT given" -- 
expect 2 "convert: no output given (-o OUT.tflite)" -- m.h5
expect 2 "convert: --quantize needs none, float16, dynamic or int8, got 'int4'" -- m.h5 -o x.tflite --quantize int4
expect 2 "convert: --quantize int8 needs --calibration DATA" -- m.h5 -o x.tflite --quantize int8
expect 2 "convert: --calibration goes with --quantize int8" -- m.h5 -o x.tflite --calibration d.npy
expect 2 "convert: --io goes with --quantize int8" -- m.h5 -o x.tflite --io int8
expect 2 "convert: --samples goes with --quantize int8" -- m.h5 -o x.tflite --quantize dynamic --samples 5
expect 2 "convert: --samples needs an integer in [1, 1000000000], got '0'" -- m.h5 -o x.tflite --quantize int8 --calibration d.npy --samples 0
expect 2 "convert: --io needs float32 or int8, got 'uint8'" -- m.h5 -o x.tflite --quantize int8 --calibration d.npy --io uint8
expect 2 "convert: unknown option '--fast'" -- m.h5 -o x.tflite --fast
expect 2 "convert: unexpected argument 'extra'" -- m.h5 extra -o x.tflite
expect 2 "convert: -o needs a file" -- m.h5 -o

"$bin" convert --help >"$out/help" || fail "--help exit $?"
grep -q '^usage: tinyml convert INPUT -o OUT.tflite' "$out/help" || fail "--help text"
"$bin" --help | grep -q 'tinyml convert INPUT' || fail "tinyml --help lacks convert"
pass=$((pass + 2))

# ---- bad input files ----
expect 2 "$out/missing.h5" -- "$out/missing.h5" -o "$out/x.tflite"
printf 'not a model\n' >"$out/text.h5"
expect 2 "$out/text.h5" -- "$out/text.h5" -o "$out/x.tflite"
[ ! -e "$out/x.tflite" ] || fail "a failed conversion wrote its output"
pass=$((pass + 1))

if [ ! -f "$h5" ]; then
    echo "SKIP (rest): $h5 not found; $pass checks passed"
    exit 0
fi

# ---- the input is never written ----
cp "$h5" "$out/model.h5"
sum=$(sha256sum "$out/model.h5" | cut -d' ' -f1)
expect 2 "is the input file" -- "$out/model.h5" -o "$out/model.h5"
ln -s "$out/model.h5" "$out/link.tflite"
expect 2 "is the input file" -- "$out/model.h5" -o "$out/link.tflite"
[ "$(sha256sum "$out/model.h5" | cut -d' ' -f1)" = "$sum" ] || fail "the input changed"
pass=$((pass + 1))

# ---- atomic output ----
printf 'old contents\n' >"$out/ad01.tflite"
expect 2 "$out/text.h5" -- "$out/text.h5" -o "$out/ad01.tflite"
[ "$(cat "$out/ad01.tflite")" = "old contents" ] || fail "a failed conversion touched the output"
"$bin" convert "$out/model.h5" -o "$out/ad01.tflite" >"$out/float.log"
[ "$(sha256sum "$out/model.h5" | cut -d' ' -f1)" = "$sum" ] || fail "the input changed"
"$bin" run "$out/ad01.tflite" --random >/dev/null || fail "the float output does not run"
[ -z "$(find "$out" -name '*.tmp*')" ] || fail "temporary files left: $(find "$out" -name '*.tmp*')"
size=$(stat -c %s "$out/ad01.tflite")
kb=$("$py" -c "print('%.2f' % ($size / 1024))")
grep -qx "Size of TensorFlow Lite Model: $kb KB" "$out/float.log" || fail "float size line: $(cat "$out/float.log")"
[ "$(wc -l <"$out/float.log")" = 1 ] || fail "float conversion printed more than the size: $(cat "$out/float.log")"
expect 1 "$out/no/such/dir/x.tflite" -- "$out/model.h5" -o "$out/no/such/dir/x.tflite"
pass=$((pass + 3))

# ---- quantized modes: the size, the float size, the reduction ----
check_reduction() {  # check_reduction LOG FILE MIN MAX
    local q f ratio
    q=$(stat -c %s "$2")
    grep -qx "Size of TensorFlow Lite Model: $("$py" -c "print('%.2f' % ($q / 1024))") KB" "$1" ||
        fail "$2: size line: $(cat "$1")"
    grep -qx "Size of the float TensorFlow Lite Model: $kb KB" "$1" || fail "$2: float size line: $(cat "$1")"
    ratio=$("$py" -c "print('%.1f' % ($size / $q))")
    grep -qx "There is ${ratio}x reduction in size" "$1" || fail "$2: reduction line (want ${ratio}x): $(cat "$1")"
    "$py" -c "import sys; sys.exit(0 if $3 <= $size / $q <= $4 else 1)" ||
        fail "$2: reduction $ratio not in [$3, $4]"
    "$bin" run "$2" --random >/dev/null || fail "$2 does not run"
}
"$bin" convert "$out/model.h5" -o "$out/f16.tflite" --quantize float16 >"$out/f16.log"
check_reduction "$out/f16.log" "$out/f16.tflite" 1.9 2.01
"$bin" convert "$out/model.h5" -o "$out/dyn.tflite" --quantize dynamic >"$out/dyn.log"
check_reduction "$out/dyn.log" "$out/dyn.tflite" 3.5 4.0   # "about 4x", as the seed says

# int8 with 120 calibration samples near the golden inputs' distribution.
"$py" - "$shared/goldens/ad01_fp32" "$out/calib.npy" <<'EOF'
import sys, glob, numpy as np
xs = [np.fromfile(p, np.float32) for p in sorted(glob.glob(sys.argv[1] + '/seed*.input.bin'))]
rng = np.random.default_rng(7)
base = np.stack(xs)
pick = base[rng.integers(0, len(xs), 120)]
data = pick + rng.normal(0, 0.1, pick.shape) * base.std()
np.save(sys.argv[2], data.astype(np.float32))
EOF
"$bin" convert "$out/model.h5" -o "$out/int8.tflite" --quantize int8 --calibration "$out/calib.npy" --samples 100 >"$out/int8.log" 2>"$out/int8.err" ||
    fail "int8 conversion: $(cat "$out/int8.err")"
check_reduction "$out/int8.log" "$out/int8.tflite" 3.5 4.0
"$bin" convert "$out/model.h5" -o "$out/int8io.tflite" --quantize int8 --calibration "$out/calib.npy" --io int8 >/dev/null 2>&1 ||
    fail "int8 --io int8 conversion"
"$bin" inspect "$out/int8io.tflite" | grep -q "int8 \[1, 640\]" || fail "--io int8: the input is not int8"
"$bin" run "$out/int8io.tflite" --random >/dev/null || fail "int8 --io int8 output does not run"
[ "$(sha256sum "$out/model.h5" | cut -d' ' -f1)" = "$sum" ] || fail "the input changed"
pass=$((pass + 5))
echo "PASS: $pass checks"
