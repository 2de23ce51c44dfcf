#!/usr/bin/env bash
# tinyml fit and tinyml export (host side): figures recomputed from
# boards/code_size.json and `tinyml inspect`, JSON keys, exit codes, the
# one-line errors, user board files, and the C array's bytes.
# Env (set by CTest): TINYML_BIN, TINYML_SHARED, TINYML_SOURCE.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
SHARED=${TINYML_SHARED:?TINYML_SHARED not set}
SRC=${TINYML_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
MODELS=$SHARED/models/mlperf-tiny
CODE=$SRC/boards/code_size.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
command -v jq >/dev/null || { echo "FAIL: jq not installed (scripts/install-deps.sh)"; exit 1; }

# expect CODE WHAT -- CMD...: exit CODE; non-zero: stderr one "tinyml: " line.
expect() {
    local code=$1 what=$2
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "$what: exit $rc, expected $code: $(head -c 300 "$TMP/err")"
        return 1
    fi
    if [ "$code" -eq 2 ] && { [ "$(wc -l <"$TMP/err")" -ne 1 ] || ! grep -q '^tinyml: ' "$TMP/err"; }; then
        fail "$what: stderr is not one 'tinyml: ' line: $(cat "$TMP/err")"
        return 1
    fi
    ok "$what"
}

# ---- fit: every board, figures recomputed independently ----
KWS=$MODELS/kws_ref_model.tflite
expect 0 "fit kws, all boards" -- "$BIN" fit "$KWS" --json
cp "$TMP/out" "$TMP/kws.json"
nboards=$(jq '.boards|length' "$SRC/boards/boards.json")
[ "$(jq '.boards|length' "$TMP/kws.json")" -eq "$nboards" ] && [ "$nboards" -ge 15 ] \
    && ok "fit lists all $nboards boards" || fail "fit lists $(jq '.boards|length' "$TMP/kws.json") of $nboards boards"
keys=$(jq -c '[.boards[]|keys]|unique' "$TMP/kws.json")
[ "$keys" = '[["core","fits","flash_available","flash_needed","name","ram_available","ram_needed"]]' ] \
    && ok "fit JSON keys" || fail "fit JSON keys: $keys"
[ "$(jq -c 'keys' "$TMP/kws.json")" = '["boards","model"]' ] && ok "fit JSON top-level keys" \
    || fail "fit JSON top-level keys: $(jq -c keys "$TMP/kws.json")"
"$BIN" inspect "$KWS" --json > "$TMP/inspect.json"
file_bytes=$(jq .file_bytes "$TMP/inspect.json")
arena=$(jq .arena_bytes "$TMP/inspect.json")
io=$(jq '[.inputs[].bytes, .outputs[].bytes]|add' "$TMP/inspect.json")
# The code figure fit uses for MODEL on cortex-m4: its op set as `tinyml
# export --project` builds it (the exported Makefile's defines, recorded as
# .export.defines), else the op set with every dtype path and the verifier.
# FIELD: "text + data" or "data".
code_figure() {
    local model=$1 field=$2 defs
    "$BIN" export "$MODELS/$model.tflite" --project "$TMP/defs_$model" --board sparkfun_edge >/dev/null \
        || { fail "export $model for its defines"; echo 0; return; }
    defs=$(sed -n 's/^DEFS = .*-DTML_NO_OP_NAMES *//p' "$TMP/defs_$model/Makefile")
    jq --arg m "$model" --arg d "$defs" ".cores[\"cortex-m4\"].op_sets[]|select(.model==\$m)
        |(if .export.defines == \$d then .export else . end)|$field" "$CODE"
}
# Sparkfun Edge (cortex-m4): the KWS op set was measured as a whole.
set_m4=$(code_figure kws_ref_model ".text + .data")
data_m4=$(code_figure kws_ref_model ".data")
interp=$(jq '.cores["cortex-m4"].sizeof_interpreter' "$CODE")
stack=$(jq '.cores["cortex-m4"].stack_bytes' "$CODE")
want_flash=$((file_bytes + set_m4))
want_ram=$((arena + interp + data_m4 + io + stack))
got=$(jq -c '.boards[]|select(.name=="sparkfun_edge")|[.core, .flash_needed, .flash_available, .ram_needed, .ram_available, .fits]' "$TMP/kws.json")
[ "$got" = "[\"cortex-m4\",$want_flash,1048576,$want_ram,393216,true]" ] \
    && ok "fit kws on sparkfun_edge: flash $want_flash, RAM $want_ram" \
    || fail "fit kws on sparkfun_edge: $got, expected flash $want_flash RAM $want_ram"
# microbit is a cortex-m0: the cortex-m0plus build; 16 KB RAM is too little.
got=$(jq -c '.boards[]|select(.name=="microbit")|[.ram_available, .fits]' "$TMP/kws.json")
[ "$got" = "[16384,false]" ] && ok "kws does not fit microbit" || fail "kws on microbit: $got"
expect 1 "fit kws --board microbit: exit 1" -- "$BIN" fit "$KWS" --board microbit
grep -q "KB over" "$TMP/out" && ok "table shows the RAM overflow in KB" || fail "no 'KB over' in: $(cat "$TMP/out")"
expect 0 "fit kws --board nano33 --board pico (aliases)" -- "$BIN" fit "$KWS" --board nano33 --board pico
[ "$(grep -c -E '^(arduino_nano_33_ble_sense|rpi_pico) ' "$TMP/out")" -eq 2 ] && ok "two rows" || fail "rows: $(cat "$TMP/out")"

# ad01_fp32 on the Nano 33: 1.07 MB of weights in 1 MB of flash.
AD=$MODELS/ad01_fp32.tflite
expect 1 "fit ad01_fp32 --board arduino_nano_33_ble_sense: exit 1" -- "$BIN" fit "$AD" --board arduino_nano_33_ble_sense
over=$(awk '$1=="arduino_nano_33_ble_sense" {for (i=1;i<=NF;i++) if ($i=="KB" && $(i+1)=="over") {print $(i-1); exit}}' "$TMP/out")
fb=$(stat -c %s "$AD")
fc=$(code_figure ad01_fp32 ".text + .data")
want=$(awk -v n=$((fb + fc - 1048576)) 'BEGIN {printf "%.1f", n / 1024}')
[ "$over" = "$want" ] && ok "ad01_fp32 overflows the Nano 33's flash by $over KB" || fail "ad01_fp32 overflow '$over', expected $want: $(cat "$TMP/out")"
expect 1 "fit ad01_fp32 --json --board nano33" -- "$BIN" fit "$AD" --json --board nano33
[ "$(jq '.boards[0].fits' "$TMP/out")" = false ] && ok "JSON fits false" || fail "JSON: $(cat "$TMP/out")"
expect 0 "fit vww_96_int8 all boards" -- "$BIN" fit "$MODELS/vww_96_int8.tflite"
# fit picks the exported build's figure when the op set was measured with
# the model's defines, else the upper bound; with a code size file that
# records both, the exported one.
# (Every model with KWS's op set is edited: vww_96_int8 has the same ops and
# defines, so fit may take its figure.)
jq '(.cores["cortex-m4"].op_sets) as $s
    | ($s[]|select(.model=="kws_ref_model").ops) as $ops
    | (.cores["cortex-m4"].op_sets[]|select(.ops==$ops)) |=
      (.export = {"defines": "-DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID -DTML_TRUSTED_MODEL",
                  "text": 12000, "data": 8, "bss": 0} | .text = 30000 | .data = 100)' \
    "$CODE" > "$TMP/cs_trusted.json"
expect 0 "fit kws with an exported figure" -- "$BIN" fit "$KWS" --board sparkfun_edge --json --code-size "$TMP/cs_trusted.json"
[ "$(jq '.boards[0].flash_needed' "$TMP/out")" -eq $((file_bytes + 12008)) ] \
    && ok "fit uses the exported (trusted) build's figure" || fail "fit with export figure: $(cat "$TMP/out")"
jq '(.cores["cortex-m4"].op_sets[]|select(.export.text==12000)).export.defines = "-DTML_NO_HYBRID"' \
    "$TMP/cs_trusted.json" > "$TMP/cs_other.json"
expect 0 "fit kws, export figure for other defines" -- "$BIN" fit "$KWS" --board sparkfun_edge --json --code-size "$TMP/cs_other.json"
[ "$(jq '.boards[0].flash_needed' "$TMP/out")" -eq $((file_bytes + 30100)) ] \
    && ok "other defines: the op set's upper bound" || fail "fit with other defines: $(cat "$TMP/out")"

# Bad input.
expect 2 "fit: unknown board" -- "$BIN" fit "$KWS" --board no_such_board
expect 2 "fit: no model" -- "$BIN" fit --board pico
expect 2 "fit: missing model file" -- "$BIN" fit "$TMP/none.tflite"
echo '{"boards": [{"name": "x", "core": "cortex-m4", "ram_bytes": -1, "flash_bytes": 10}]}' > "$TMP/bad_boards.json"
expect 2 "fit: negative ram_bytes in a board file" -- "$BIN" fit "$KWS" --boards "$TMP/bad_boards.json"
grep -q "ram_bytes" "$TMP/err" && ok "message names the field" || fail "message: $(cat "$TMP/err")"
echo 'not json' > "$TMP/bad2.json"
expect 2 "fit: board file not JSON" -- "$BIN" fit "$KWS" --boards "$TMP/bad2.json"
# A user's board file.
cat > "$TMP/my_boards.json" <<'J'
{"boards": [{"name": "my_m4", "aliases": ["mine"], "core": "cortex-m4", "fpu": "fpv4-sp",
             "ram_bytes": 24000, "flash_bytes": 65536}]}
J
expect 1 "fit with --boards: 64 KB flash is too little for KWS" -- "$BIN" fit "$KWS" --boards "$TMP/my_boards.json" --board mine --json
[ "$(jq -c '.boards[0]|[.name, .flash_available, .fits]' "$TMP/out")" = '["my_m4",65536,false]' ] \
    && ok "user board row" || fail "user board row: $(cat "$TMP/out")"

# ---- export --c-array ----
expect 0 "export --c-array" -- "$BIN" export "$KWS" --c-array "$TMP/carr"
grep -q "^#define TML_MODEL_ARENA_BYTES ${arena}u$" "$TMP/carr/model_data.h" && ok "arena macro = inspect's $arena" \
    || fail "arena macro: $(grep ARENA "$TMP/carr/model_data.h")"
grep -q "^#define TML_MODEL_DATA_LEN ${file_bytes}u$" "$TMP/carr/model_data.h" && ok "length macro" || fail "length macro"
grep -q "const unsigned char tml_model_data\[TML_MODEL_DATA_LEN\]" "$TMP/carr/model_data.c" \
    && grep -q "aligned(16)" "$TMP/carr/model_data.c" && ok "const, 16-byte aligned" || fail "array declaration"
cat > "$TMP/dump.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include "model_data.h"
int main(void)
{
    if ((uintptr_t)tml_model_data % 16 != 0 || tml_model_data_len != TML_MODEL_DATA_LEN)
        return 1;
    return fwrite(tml_model_data, 1, tml_model_data_len, stdout) == tml_model_data_len ? 0 : 1;
}
C
if cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$TMP/carr" "$TMP/dump.c" "$TMP/carr/model_data.c" -o "$TMP/dump" 2>"$TMP/cc.log" \
    && "$TMP/dump" > "$TMP/dumped.bin" && cmp -s "$TMP/dumped.bin" "$KWS"; then
    ok "model_data.c compiles warning-free (C99 pedantic) and holds the model's exact bytes, aligned"
else
    fail "model_data.c: $(cat "$TMP/cc.log")"
fi

# ---- export --project: bad input ----
IN=$SHARED/goldens/kws_ref_model/seed1.input.bin
expect 2 "export: no mode" -- "$BIN" export "$KWS"
expect 2 "export: both modes" -- "$BIN" export "$KWS" --c-array "$TMP/a" --project "$TMP/b" --board pico
expect 2 "export --project without --board" -- "$BIN" export "$KWS" --project "$TMP/p"
expect 2 "export --project: non-Arm board" -- "$BIN" export "$KWS" --project "$TMP/p" --board esp32-s3
grep -q "xtensa" "$TMP/err" && ok "message names the core" || fail "message: $(cat "$TMP/err")"
head -c 100 "$IN" > "$TMP/short.bin"
expect 2 "export: test input of the wrong size" -- "$BIN" export "$KWS" --project "$TMP/p" --board pico --test-input "$TMP/short.bin"
grep -q "100 bytes, but the model's inputs take 490 bytes" "$TMP/err" && ok "size message" || fail "size message: $(cat "$TMP/err")"
expect 2 "export: unknown board" -- "$BIN" export "$KWS" --project "$TMP/p" --board nope

# ---- export --project for a real (non-emulated) board ----
expect 0 "export --project for rpi_pico" -- "$BIN" export "$KWS" --project "$TMP/pico" --board pico --test-input "$IN"
grep -q -- "-mcpu=cortex-m0plus" "$TMP/pico/Makefile" && ok "Makefile targets the Pico's core" || fail "Makefile CPU"
grep -q "LENGTH = 270336" "$TMP/pico/link.ld" && ok "linker script has the Pico's RAM" || fail "link.ld RAM"
[ -f "$TMP/pico/README.md" ] && grep -q "On real hardware" "$TMP/pico/README.md" && ok "README" || fail "README"
kernels=$(cd "$TMP/pico/runtime/kernels" && ls *.c | tr '\n' ' ')
[ "$kernels" = "conv.c conv_common.c depthwise_conv.c fully_connected.c pooling.c reshape.c softmax.c " ] \
    && ok "only the KWS kernels (int8: no hybrid.c): $kernels" || fail "kernels: $kernels"
[ "$(grep -c '^TML_OP(' "$TMP/pico/tml_ops.def")" -eq 6 ] && ok "tml_ops.def lists the 6 KWS ops" || fail "tml_ops.def"
grep -q "^KERNEL_SRC = runtime/kernels/conv.c runtime/kernels/conv_common.c runtime/kernels/depthwise_conv.c runtime/kernels/fully_connected.c runtime/kernels/pooling.c runtime/kernels/reshape.c runtime/kernels/softmax.c$" "$TMP/pico/Makefile" \
    && ok "Makefile compiles exactly those kernels" || fail "Makefile KERNEL_SRC: $(grep KERNEL_SRC "$TMP/pico/Makefile")"
grep -qx "DEFS = -DTML_OPS_FILE='\"tml_ops.def\"' -DTML_NO_OP_NAMES -DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID -DTML_TRUSTED_MODEL" "$TMP/pico/Makefile" \
    && ok "int8 model: Makefile leaves out float32 and hybrid kernels, trusts the exported model" || fail "int8 DEFS: $(grep '^DEFS' "$TMP/pico/Makefile")"
# Verify once: the exporter verified the model, the device build trusts it
# (runtime/model.h); the Makefile and README say so.
grep -q "^# Model verification: -DTML_TRUSTED_MODEL: tinyml export verified model_data.c's bytes" "$TMP/pico/Makefile" \
    && grep -q "^- model verification: once, by \`tinyml export\`.*-DTML_TRUSTED_MODEL.*--verify-on-device" "$TMP/pico/README.md" \
    && ok "Makefile comment and README explain -DTML_TRUSTED_MODEL" || fail "trusted note: $(grep -i verification "$TMP/pico/Makefile" "$TMP/pico/README.md")"
grep -q "no float32 activations and no hybrid op.*-DTML_NO_FLOAT_KERNELS.*-DTML_NO_HYBRID" "$TMP/pico/README.md" \
    && ok "README says which dtype paths are left out" || fail "README dtype note"
# A hybrid model (float32 activations, int8 weights) keeps both, and hybrid.c.
expect 0 "export the hybrid KWS model" -- "$BIN" export "$MODELS/kws_ref_model_float32.tflite" --project "$TMP/hyb" --board pico
grep -qx "DEFS = -DTML_OPS_FILE='\"tml_ops.def\"' -DTML_NO_OP_NAMES -DTML_TRUSTED_MODEL" "$TMP/hyb/Makefile" \
    && grep -q "^KERNEL_SRC = .*runtime/kernels/hybrid.c" "$TMP/hyb/Makefile" \
    && ! grep -q "dtype paths" "$TMP/hyb/README.md" \
    && ok "hybrid model: no dtype defines, hybrid.c compiled" || fail "hybrid DEFS: $(grep -e '^DEFS' -e '^KERNEL_SRC' "$TMP/hyb/Makefile")"
# A float model without hybrid ops: float32 kernels kept, hybrid left out.
expect 0 "export the float VWW model" -- "$BIN" export "$MODELS/vww_96_float.tflite" --project "$TMP/flt" --board mps2-an386
grep -qx "DEFS = -DTML_OPS_FILE='\"tml_ops.def\"' -DTML_NO_OP_NAMES -DTML_NO_HYBRID -DTML_TRUSTED_MODEL" "$TMP/flt/Makefile" \
    && ! grep -q "hybrid.c" "$TMP/flt/Makefile" \
    && grep -q "no hybrid (float32 input, int8 weights) op" "$TMP/flt/README.md" \
    && ok "float model: -DTML_NO_HYBRID, no hybrid.c" || fail "float DEFS: $(grep -e '^DEFS' -e '^KERNEL_SRC' "$TMP/flt/Makefile")"
if command -v arm-none-eabi-gcc >/dev/null; then
    make -C "$TMP/pico" -s >"$TMP/make.log" 2>&1 && ok "rpi_pico project builds" || fail "rpi_pico build: $(tail -3 "$TMP/make.log")"
    make -C "$TMP/flt" -s >"$TMP/make.log" 2>&1 && ! grep -qi warning "$TMP/make.log" \
        && ok "float VWW project builds without hybrid.c, warning-free" || fail "float VWW build: $(tail -3 "$TMP/make.log")"
fi
# Exporting another model into the same folder: its Makefile names only the
# new model's kernels (stale kernel files are not compiled).
expect 0 "export ad01_int8 over the KWS project" -- "$BIN" export "$MODELS/ad01_int8.tflite" --project "$TMP/pico" --board pico
grep -q "^KERNEL_SRC = runtime/kernels/conv_common.c runtime/kernels/fully_connected.c$" "$TMP/pico/Makefile" \
    && ok "re-export: only ad01's kernels compiled (FC needs conv_common.c's prepare steps; int8: no hybrid.c)" \
    || fail "re-export KERNEL_SRC: $(grep KERNEL_SRC "$TMP/pico/Makefile")"
[ "$(grep -c '^TML_OP(' "$TMP/pico/tml_ops.def")" -eq 1 ] && ok "re-export: tml_ops.def has FULLY_CONNECTED only" || fail "re-export tml_ops.def"

# --verify-on-device keeps the verifier in the device build.
expect 0 "export --verify-on-device" -- "$BIN" export "$KWS" --project "$TMP/ver" --board pico --verify-on-device
grep -qx "DEFS = -DTML_OPS_FILE='\"tml_ops.def\"' -DTML_NO_OP_NAMES -DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID" "$TMP/ver/Makefile" \
    && ! grep -q -- "-DTML_TRUSTED_MODEL" <(grep -v '^#' "$TMP/ver/Makefile") \
    && grep -q "^# Model verification: no -DTML_TRUSTED_MODEL (exported with --verify-on-device)" "$TMP/ver/Makefile" \
    && grep -q "^- model verification: on the device too" "$TMP/ver/README.md" \
    && ok "--verify-on-device: no -DTML_TRUSTED_MODEL, Makefile and README say why" \
    || fail "--verify-on-device: $(grep -e '^DEFS' -e 'verification' "$TMP/ver/Makefile" "$TMP/ver/README.md")"
expect 2 "--verify-on-device goes with --project" -- "$BIN" export "$KWS" --c-array "$TMP/c2" --verify-on-device
grep -q "TML_TRUSTED_MODEL" "$TMP/carr/model_data.h" && ok "--c-array header mentions -DTML_TRUSTED_MODEL" \
    || fail "model_data.h does not mention TML_TRUSTED_MODEL"
# The exporter verifies before writing: a model that does not verify
# writes nothing and fails with one line.
/usr/bin/python3 - "$KWS" "$TMP/broken.tflite" "$TMP/noid.tflite" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
root = struct.unpack_from('<I', b, 0)[0]
vt = root - struct.unpack_from('<i', b, root)[0]
ver = root + struct.unpack_from('<H', b, vt + 4)[0]
bad = bytearray(b); struct.pack_into('<I', bad, ver, 2)   # schema version 2
open(sys.argv[2], 'wb').write(bad)
noid = bytearray(b); noid[4:8] = b'\0\0\0\0'           # no "TFL3"
open(sys.argv[3], 'wb').write(noid)
PY
expect 2 "export of a model that does not verify" -- "$BIN" export "$TMP/broken.tflite" --project "$TMP/broken" --board pico
grep -q "version: is 2, expected 3" "$TMP/err" && [ ! -e "$TMP/broken/Makefile" ] \
    && ok "the verifier's message, nothing written" || fail "broken model: $(cat "$TMP/err"); $(ls "$TMP/broken" 2>&1)"
expect 2 "export of a model without the TFL3 identifier (trusted build)" -- "$BIN" export "$TMP/noid.tflite" --project "$TMP/noid" --board pico
grep -q 'noid has no "TFL3" file identifier.*--verify-on-device' "$TMP/err" && [ ! -e "$TMP/noid/Makefile" ] \
    && ok "no identifier: one line naming --verify-on-device" || fail "no identifier: $(cat "$TMP/err")"
expect 0 "the same with --verify-on-device" -- "$BIN" export "$TMP/noid.tflite" --project "$TMP/noid" --board pico --verify-on-device

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
