#!/usr/bin/env bash
# Cortex-M benchmark: per core, the code size (text/data/bss) of runtime +
# kernels for each model's op set at -Os, and instructions per invoke
# counted deterministically under qemu-system-arm with the instruction-
# counting plugin ($TINYML_SHARED/tools/qemu_insncount.c): the same
# exported project built to invoke once and twice, the difference is one
# invoke.  TFLite Micro's figures from baselines.json are printed beside.
#
#   bench/cortex_m.sh [--tinyml PATH] [--models "kws_ref_model ad01_int8 ..."]
#
# Needs arm-none-eabi-gcc, qemu-system-arm, jq, gcc (scripts/install-deps.sh)
# and a built tinyml (default build/tinyml).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TINYML="${TINYML_BIN:-$ROOT/build/tinyml}"
SHARED="${TINYML_SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
MODELS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tinyml) TINYML="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    *) echo "usage: $0 [--tinyml PATH] [--models \"NAME ...\"]" >&2; exit 2 ;;
  esac
done
export TINYML_SOURCE="$ROOT" TINYML_SHARED="$SHARED"
[ -x "$TINYML" ] || { echo "cortex_m.sh: $TINYML not built" >&2; exit 2; }
if [ -z "$MODELS" ]; then
  MODELS=$(cd "$SHARED/goldens" && ls -d */ | tr -d / | tr '\n' ' ')
fi
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
BASE="$SHARED/baselines.json"

echo "== code size: runtime + kernels per model op set (scripts/measure_code_size.sh method) =="
bash "$ROOT/scripts/measure_code_size.sh" --tinyml "$TINYML" --out "$W/cs.json" >/dev/null
echo "$(jq -r .compiler "$W/cs.json"); -Os -ffunction-sections -fdata-sections -Wl,--gc-sections --specs=nano.specs"
echo "(text/data/bss: every dtype path; export: as \`tinyml export --project\` builds it for that model, with its dtype defines)"
printf '%-14s %-24s %8s %6s %6s %8s  %s\n' core "op set of" text data bss "export" "export defines"
for core in cortex-m0plus cortex-m4 cortex-m7 cortex-m33; do
  jq -r --arg c "$core" '.cores[$c] | ("(runtime, no kernels)\t" + (.core.text|tostring) + "\t" + (.core.data|tostring) + "\t" + (.core.bss|tostring) + "\t-\t"),
      (.op_sets[] | (.model + "\t" + (.text|tostring) + "\t" + (.data|tostring) + "\t" + (.bss|tostring) + "\t" + (.export.text|tostring) + "\t" + .export.defines))' "$W/cs.json" |
  while IFS=$'\t' read -r name t d b e defs; do printf '%-14s %-24s %8s %6s %6s %8s  %s\n' "$core" "$name" "$t" "$d" "$b" "$e" "$defs"; done
done

kws_all=$(jq '.cores["cortex-m4"].op_sets[]|select(.model=="kws_ref_model")|.text' "$W/cs.json")
kws_text=$(jq '.cores["cortex-m4"].op_sets[]|select(.model=="kws_ref_model")|.export.text' "$W/cs.json")
tflm_code=$(jq '.tflm_cortex_m4f_code.bytes' "$BASE")
echo
echo "== Cortex-M4F, KWS op set (CONV_2D DEPTHWISE_CONV_2D AVERAGE_POOL_2D RESHAPE FULLY_CONNECTED SOFTMAX), text =="
echo "tinyml:      $kws_text B (program running one KWS inference minus the same program without the runtime; the exported project's build: $(jq -r '.cores["cortex-m4"].op_sets[]|select(.model=="kws_ref_model")|.export.defines' "$W/cs.json"))"
echo "             $kws_all B with every dtype path (float32, hybrid) built in"
echo "TFLite Micro: $tflm_code B (baselines.json tflm_cortex_m4f_code, same method)"
echo "target:      $((tflm_code / 2)) B (half of TFLite Micro): $( [ "$kws_text" -le $((tflm_code / 2)) ] && echo met || echo "NOT met, over by $((kws_text - tflm_code / 2)) B")"
awk -v a="$kws_text" -v b="$tflm_code" 'BEGIN {printf "ratio tinyml / TFLite Micro: %.2f\n", a / b}'

# Where the bytes go: the KWS project for the M4, objects compiled one by
# one so the link map names them.
"$TINYML" export "$SHARED/models/mlperf-tiny/kws_ref_model.tflite" --project "$W/kws" --board mps2-an386 >/dev/null
(
  cd "$W/kws"
  CPU="-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16 -mthumb"
  # The project's own defines (its Makefile's DEFS: the dtype ones too).
  DTYPE_DEFS=$(sed -n 's/^DEFS = .*-DTML_NO_OP_NAMES//p' Makefile)
  CF="$CPU -Os -std=c99 -ffunction-sections -fdata-sections -I. -Iinclude -Iruntime -DTML_OPS_FILE=\"tml_ops.def\" -DTML_NO_OP_NAMES $DTYPE_DEFS"
  objs=()
  for src in main.c test_data.c startup.c semihost.c runtime/*.c runtime/kernels/*.c; do
    o="obj_$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    arm-none-eabi-gcc $CF -c "$src" -o "$o"
    objs+=("$o")
  done
  arm-none-eabi-gcc $CPU -nostartfiles -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs -T link.ld \
    -Wl,-Map=kws.map "${objs[@]}" -lm -o kws_nomodel.elf -Wl,--defsym=tml_model_data=0 2>/dev/null || true
)
echo
echo "-- bytes (text + rodata) per object in the KWS Cortex-M4 program (link map; model and start-up excluded) --"
awk '
  /^Linker script and memory map/ { live = 1; next }
  !live { next }
  /^ \.(text|rodata|data)[^ ]*$/ { pending = 1; next }
  pending && $1 ~ /^0x/ && NF >= 3 { add($2, $3); pending = 0; next }
  /^ \.(text|rodata|data)[^ ]* +0x/ && NF >= 4 { add($3, $4); next }
  { pending = 0 }
  function hex(h,   i, v) { v = 0; h = tolower(h); sub(/^0x/, "", h)
    for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
    return v }
  function add(size, file) { n = hex(size); if (n == 0) return;
    sub(/.*\//, "", file); sub(/^obj_/, "", file); bytes[file] += n }
  END { for (f in bytes) printf "%8d  %s\n", bytes[f], f }' "$W/kws/kws.map" | sort -rn | head -25
echo "-- largest symbols (arm-none-eabi-nm --size-sort) --"
arm-none-eabi-nm --size-sort -S -C "$W/kws/kws_nomodel.elf" 2>/dev/null | awk '$3 ~ /^[TtRrDd]$/' | tail -20 |
  while read -r addr size kind sym; do printf '%8d  %s %s\n' "$((16#$size))" "$kind" "$sym"; done | sort -rn

echo
echo "== instructions per invoke (qemu TCG plugin; invoke twice minus once) =="
gcc -shared -fPIC -O2 -o "$W/libinsncount.so" "$SHARED/tools/qemu_insncount.c"
count() {  # elf machine -> instructions
  qemu-system-arm -M "$2" -display none -monitor none -serial null \
    -chardev file,id=sh0,path="$W/sh.log" -semihosting-config enable=on,target=native,chardev=sh0 \
    -plugin "$W/libinsncount.so,out=$W/count" -d plugin -kernel "$1" </dev/null >/dev/null 2>&1 || true
  grep -q '^PASS$' "$W/sh.log" || { echo "cortex_m.sh: $1 did not PASS: $(tr '\n' ' ' < "$W/sh.log")" >&2; echo fail; return; }
  sed -n 's/^insns: //p' "$W/count"
}
printf '%-24s %-14s %-12s %14s %10s %10s\n' model core machine "instr/invoke" "arena(32b)" stack
for name in $MODELS; do
  model="$SHARED/models/mlperf-tiny/$name.tflite"
  gold="$SHARED/goldens/$name"
  [ -f "$model" ] && [ -f "$gold/seed1.input.bin" ] || continue
  dir="$W/p_$name"
  "$TINYML" export "$model" --project "$dir" --board mps2-an386 \
    --test-input "$gold/seed1.input.bin" --test-output "$gold/seed1.output.bin" >/dev/null
  for spec in "cortex-m0plus|mps2-an386|-mcpu=cortex-m0plus -mfloat-abi=soft" \
              "cortex-m4|mps2-an386|-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" \
              "cortex-m7|mps2-an500|-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16"; do
    IFS='|' read -r core machine cpu <<<"$spec"
    make -C "$dir" -s ELF="$core-1.elf" CPU="$cpu" EXTRA_CFLAGS=-DTML_INVOKES=1 >/dev/null
    make -C "$dir" -s ELF="$core-2.elf" CPU="$cpu" EXTRA_CFLAGS=-DTML_INVOKES=2 >/dev/null
    one=$(count "$dir/$core-1.elf" "$machine")
    arena=$(sed -n 's/^arena bytes used: //p' "$W/sh.log")
    stack=$(sed -n 's/^stack bytes used: //p' "$W/sh.log")
    two=$(count "$dir/$core-2.elf" "$machine")
    if [ "$one" = fail ] || [ "$two" = fail ]; then
      printf '%-24s %-14s %-12s %14s\n' "$name" "$core" "$machine" "FAILED"
    else
      printf '%-24s %-14s %-12s %14s %10s %10s\n' "$name" "$core" "$machine" "$((two - one))" "$arena" "$stack"
    fi
  done
done
echo
echo "TFLite Micro, KWS on Cortex-M4F (mps2-an386, same plugin, baselines.json tflm_cortex_m4f_kws_invoke):"
echo "  reference kernels: $(jq '.tflm_cortex_m4f_kws_invoke.reference_kernels_instructions' "$BASE") instructions per invoke"
echo "  CMSIS-NN kernels:  $(jq '.tflm_cortex_m4f_kws_invoke.cmsis_nn_kernels_instructions' "$BASE") instructions per invoke"
echo "  arena (32-bit):    $(jq -c '.tflm_cortex_m4f_kws_invoke.arena_used_bytes_32bit' "$BASE")"
