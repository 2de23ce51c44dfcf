#!/usr/bin/env bash
# Measures the runtime's code size per Cortex-M core from real cross-builds
# and writes boards/code_size.json (read by `tinyml fit`).
#
#   scripts/measure_code_size.sh [--out FILE] [--tinyml PATH]
#
# Method (the same as baselines.json's TFLite Micro figure): every figure is
# the size of a program that runs one inference through the runtime (the
# exported projects' deploy/main.c, start-up and semihosting, a 16-byte
# dummy model) MINUS the size of the same program without the runtime
# (start-up, semihosting, the dummy model).  arm-none-eabi-gcc -Os
# -ffunction-sections -fdata-sections -Wl,--gc-sections --specs=nano.specs,
# -DTML_NO_OP_NAMES, newlib's memcpy/memset/libm included when used.
#   core:        the runtime with an empty op list (verifier, interpreter,
#                planner, quantization helpers): the upper bound for
#                applications that load models at run time
#   core_trusted: the same built with -DTML_TRUSTED_MODEL (no verifier,
#                runtime/model.h "verify once")
#   kernels.OP:  what adding OP alone to the op list adds to `core`
#   op_sets:     the op set of each model in $TINYML_SHARED/models (and of
#                the bundled examples: examples/models, the digits demo's
#                float and int8 conversions), linked
#                and measured as a whole (the figure `tinyml fit` uses when
#                the model's op set is listed; otherwise it adds up core +
#                kernels, an upper bound since kernels share helpers)
#     .export:   the same op set built as `tinyml export --project` builds
#                it for that model: with the Makefile's dtype defines
#                (-DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID for int8 models,
#                -DTML_NO_HYBRID for float models without hybrid ops;
#                "defines" says which), i.e. the code an exported project
#                really has.  The op set's own figures keep every dtype
#                path (an upper bound for any model with that op set).
#                Exported projects trust the model the exporter verified
#                (-DTML_TRUSTED_MODEL, in "defines"), so .export has no
#                verifier; `tinyml fit` uses it when the model's defines
#                are the same, else the op set's figure.
#     .export_verified: the same with the verifier (`tinyml export
#                --verify-on-device`: the defines without -DTML_TRUSTED_MODEL)
#   sizeof_interpreter: sizeof(tml_interpreter) on the core
#   stack_bytes: the largest stack high-water mark of those models' runs
#                under qemu-system-arm (painted stack, deploy/startup.c),
#                rounded up to 256 B; cortex-m33 (not emulated here) takes
#                the cortex-m4 figure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/boards/code_size.json"
TINYML="${TINYML_BIN:-$ROOT/build/tinyml}"
SHARED="${TINYML_SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --tinyml) TINYML="$2"; shift 2 ;;
    *) echo "usage: $0 [--out FILE] [--tinyml PATH]" >&2; exit 2 ;;
  esac
done
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm jq; do
  command -v "$tool" >/dev/null || { echo "measure_code_size: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$TINYML" ] || { echo "measure_code_size: $TINYML not built" >&2; exit 2; }

W="$(mktemp -d)"
[ -n "${KEEP_WORK:-}" ] && echo "work dir: $W" >&2 || trap 'rm -rf "$W"' EXIT

CORES=(cortex-m0plus cortex-m4 cortex-m7 cortex-m33)
cpu_flags() {
  case "$1" in
    cortex-m0plus) echo "-mcpu=cortex-m0plus -mfloat-abi=soft" ;;
    cortex-m4) echo "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    cortex-m7) echo "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16" ;;
    cortex-m33) echo "-mcpu=cortex-m33 -mfloat-abi=hard -mfpu=fpv5-sp-d16" ;;
  esac
}
qemu_machine() {
  case "$1" in
    cortex-m0plus|cortex-m4) echo mps2-an386 ;;
    cortex-m7) echo mps2-an500 ;;
    *) echo "" ;;
  esac
}

# ---- shared inputs: the model's op lists, a dummy model, a linker script ----
mkdir -p "$W/gen"
sed -e 's/@FLASH_ORIGIN@/0x00000000/;s/@FLASH_BYTES@/4M/' \
    -e 's/@RAM_ORIGIN@/0x20000000/;s/@RAM_BYTES@/4M/;s/@STACK_BYTES@/4096/' \
    -e 's/@BOARD@/mps2 (measure_code_size.sh)/' "$ROOT/deploy/link.ld.in" > "$W/gen/link.ld"
printf '#define TML_HAVE_TEST_INPUT 0\n#define TML_HAVE_TEST_OUTPUT 0\n' > "$W/gen/test_data.h"
: > "$W/gen/test_data.c"
write_model() {  # dir file arena
  mkdir -p "$1"
  local len; len=$(stat -c %s "$2")
  cat > "$1/model_data.h" <<H
#define TML_MODEL_DATA_LEN $len
#define TML_MODEL_ARENA_BYTES $3
#define TML_MODEL_NAME "$(basename "$2" .tflite)"
#define TML_BOARD_NAME "qemu"
extern const unsigned char tml_model_data[];
H
  printf '.section .rodata.tml_model,"a"\n.balign 16\n.global tml_model_data\ntml_model_data:\n.incbin "%s"\n' "$2" > "$1/model_data.S"
}
head -c 16 /dev/zero > "$W/gen/dummy.bin"
write_model "$W/dummy" "$W/gen/dummy.bin" 16

# Op sets: "name op op ..." lines (the KWS set first: the TFLM comparison).
: > "$W/opsets"
# The shared MLPerf Tiny models, the bundled examples, and the digits
# example converted as the README's demo converts it (float and int8), so
# that `tinyml fit` has the exported figure for the demo's models too.
"$TINYML" convert "$ROOT/examples/digits/model.h5" -o "$W/gen/digits_float.tflite" >/dev/null
"$TINYML" convert "$ROOT/examples/digits/model.h5" -o "$W/gen/digits_int8.tflite" \
    --quantize int8 --calibration "$ROOT/examples/digits/calibration.npy" >/dev/null
for m in "$SHARED"/models/mlperf-tiny/*.tflite "$ROOT"/examples/models/*.tflite \
         "$W/gen/digits_float.tflite" "$W/gen/digits_int8.tflite"; do
  [ -f "$m" ] || continue
  echo "$m" > "$W/path.$(basename "$m" .tflite)"
  info=$("$TINYML" inspect "$m" --json)
  echo "$(basename "$m" .tflite) $(jq -r '.ops|keys_unsorted|join(" ")' <<<"$info")" >> "$W/opsets"
  echo "$(jq -r '.arena_bytes' <<<"$info")" > "$W/arena.$(basename "$m" .tflite)"
  # The dtype defines the exporter chooses for this model (its Makefile).
  "$TINYML" export "$m" --project "$W/export" --board mps2-an386 >/dev/null
  sed -n 's/^DEFS = .*-DTML_NO_OP_NAMES *//p' "$W/export/Makefile" \
    > "$W/defs.$(basename "$m" .tflite)"
  # --verify-on-device: the same without -DTML_TRUSTED_MODEL.
  sed -e 's/ *-DTML_TRUSTED_MODEL//' "$W/defs.$(basename "$m" .tflite)" \
    > "$W/vdefs.$(basename "$m" .tflite)"
done
echo "-DTML_TRUSTED_MODEL" > "$W/coredefs"
[ -s "$W/opsets" ] || { echo "measure_code_size: no models in $SHARED/models/mlperf-tiny" >&2; exit 2; }
ALL_OPS=$(sed -n 's/^TML_OP(\([A-Z0-9_]*\),.*/\1/p' "$ROOT/runtime/ops.def")

ops_def() {  # file op...
  local f="$1"; shift
  : > "$f"
  for op in "$@"; do grep "^TML_OP($op," "$ROOT/runtime/ops.def" >> "$f"; done
}

RUNTIME_SRC=$(ls "$ROOT"/runtime/*.c "$ROOT"/runtime/kernels/*.c | grep -v -e '/registry\.c$' -e '/op_names\.c$')
COMMON="-mthumb -Os -std=c99 -ffunction-sections -fdata-sections -DTML_NO_OP_NAMES -I$ROOT/include -I$ROOT/runtime -I$ROOT/deploy"
LINK="-mthumb -nostartfiles -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs -T $W/gen/link.ld"

size_of() {  # elf -> "text data bss"
  arm-none-eabi-size "$1" | awk 'NR==2 {print $1, $2, $3}'
}

# link core model_dir elf op...   (no ops: the runtime with an empty list)
link_program() {
  local core="$1" mdir="$2" elf="$3"; shift 3
  local cpu; cpu=$(cpu_flags "$core")
  local d="$W/$core" rt="${RT:-rt}"
  local tag; tag=$(basename "$elf" .elf)
  mkdir -p "$d/$tag"
  ops_def "$d/$tag/tml_ops.def" "$@"
  arm-none-eabi-gcc $cpu $COMMON -w -DTML_OPS_FILE="\"$d/$tag/tml_ops.def\"" \
    -c "$ROOT/runtime/registry.c" -o "$d/$tag/registry.o"
  arm-none-eabi-gcc $cpu $COMMON -w -DTML_OPS_FILE="\"$d/$tag/tml_ops.def\"" \
    -c "$ROOT/runtime/op_names.c" -o "$d/$tag/op_names.o"
  arm-none-eabi-gcc $cpu $COMMON -I"$mdir" -I"$W/gen" -c "$ROOT/deploy/main.c" -o "$d/$tag/main.o"
  arm-none-eabi-gcc $cpu -c "$mdir/model_data.S" -o "$d/$tag/model.o"
  arm-none-eabi-gcc $cpu $LINK "$d/$tag/main.o" "$d/$tag/model.o" "$d/$tag/registry.o" \
    "$d/$tag/op_names.o" "$d/$rt"/*.o "$d/startup.o" "$d/semihost.o" -lm -o "$elf"
}

json_core() {  # core -> JSON object on stdout
  local core="$1" cpu; cpu=$(cpu_flags "$core")
  local d="$W/$core"
  mkdir -p "$d/rt"
  for src in $RUNTIME_SRC; do
    arm-none-eabi-gcc $cpu $COMMON -c "$src" -o "$d/rt/$(basename "$src" .c).o"
  done
  # The runtime once more per distinct set of exporter dtype defines.
  local defs
  for defs in $(cat "$W"/defs.* "$W"/vdefs.* "$W/coredefs" | sort -u | tr ' ' '@'); do
    defs=${defs//@/ }
    local vdir="$d/rt$(tr -d ' ' <<<"$defs")"
    [ -d "$vdir" ] && continue
    mkdir -p "$vdir"
    for src in $RUNTIME_SRC; do
      arm-none-eabi-gcc $cpu $COMMON $defs -c "$src" -o "$vdir/$(basename "$src" .c).o"
    done
  done
  arm-none-eabi-gcc $cpu $COMMON -c "$ROOT/deploy/startup.c" -o "$d/startup.o"
  arm-none-eabi-gcc $cpu $COMMON -c "$ROOT/deploy/semihost.c" -o "$d/semihost.o"
  # Baseline: start-up, semihosting, dummy model, a main without the runtime.
  printf '#include "semihost.h"\nextern const unsigned char tml_model_data[];\nint main(void) { sh_write0("x\\n"); return tml_model_data[0]; }\n' > "$d/base.c"
  arm-none-eabi-gcc $cpu $COMMON -c "$d/base.c" -o "$d/base.o"
  arm-none-eabi-gcc $cpu -c "$W/dummy/model_data.S" -o "$d/dummy.o"
  arm-none-eabi-gcc $cpu $LINK "$d/base.o" "$d/dummy.o" "$d/startup.o" "$d/semihost.o" -lm -o "$d/base.elf"
  read -r bt bd bb < <(size_of "$d/base.elf")
  link_program "$core" "$W/dummy" "$d/none.elf"
  read -r nt nd nb < <(size_of "$d/none.elf")
  RT="rt-DTML_TRUSTED_MODEL" link_program "$core" "$W/dummy" "$d/none_trusted.elf"
  read -r ntt ntd ntb < <(size_of "$d/none_trusted.elf")
  # sizeof(tml_interpreter) on this core.
  printf '#include "tinyml/tinyml.h"\nconst char tml_probe[sizeof(tml_interpreter)] = {0};\n' > "$d/probe.c"
  arm-none-eabi-gcc $cpu $COMMON -c "$d/probe.c" -o "$d/probe.o"
  local interp; interp=$((16#$(arm-none-eabi-nm -S "$d/probe.o" | awk '$4=="tml_probe" {print $2}')))
  local kernels="" sep=""
  for op in $ALL_OPS; do
    link_program "$core" "$W/dummy" "$d/op_$op.elf" "$op"
    read -r t dd b < <(size_of "$d/op_$op.elf")
    kernels+="$sep\"$op\": {\"text\": $((t - nt)), \"data\": $((dd - nd)), \"bss\": $((b - nb))}"
    sep=", "
  done
  local sets="" stack=0 machine; machine=$(qemu_machine "$core")
  sep=""
  while read -r name ops; do
    link_program "$core" "$W/dummy" "$d/set_$name.elf" $ops
    read -r t dd b < <(size_of "$d/set_$name.elf")
    local ops_json; ops_json=$(printf '%s\n' $ops | jq -R . | jq -sc .)
    local defs; defs=$(cat "$W/defs.$name")
    RT="rt$(tr -d ' ' <<<"$defs")" link_program "$core" "$W/dummy" "$d/exp_$name.elf" $ops
    read -r et ed eb < <(size_of "$d/exp_$name.elf")
    local export_json="{\"defines\": \"$defs\", \"text\": $((et - bt)), \"data\": $((ed - bd)), \"bss\": $((eb - bb))}"
    local vdefs; vdefs=$(cat "$W/vdefs.$name")
    RT="rt$(tr -d ' ' <<<"$vdefs")" link_program "$core" "$W/dummy" "$d/expv_$name.elf" $ops
    read -r vt vd vb < <(size_of "$d/expv_$name.elf")
    local verified_json="{\"defines\": \"$vdefs\", \"text\": $((vt - bt)), \"data\": $((vd - bd)), \"bss\": $((vb - bb))}"
    sets+="$sep{\"model\": \"$name\", \"ops\": $ops_json, \"text\": $((t - bt)), \"data\": $((dd - bd)), \"bss\": $((b - bb)), \"export\": $export_json, \"export_verified\": $verified_json}"
    sep=", "
    if [ -n "$machine" ]; then
      # The real model, seed-1 random input: the stack high-water mark.
      write_model "$W/model_$name" "$(cat "$W/path.$name")" "$(cat "$W/arena.$name")"
      link_program "$core" "$W/model_$name" "$d/run_$name.elf" $ops
      local used
      used=$(timeout 300 qemu-system-arm -M "$machine" -display none -monitor none -serial null \
               -chardev stdio,id=sh0 -semihosting-config enable=on,target=native,chardev=sh0 \
               -kernel "$d/run_$name.elf" </dev/null \
             | sed -n 's/^stack bytes used: //p')
      [ -n "$used" ] || { echo "measure_code_size: $name on $core: no stack figure (run failed)" >&2; exit 1; }
      [ "$used" -gt "$stack" ] && stack=$used
    fi
  done < "$W/opsets"
  echo "$stack" > "$W/stack.$core"
  if [ "$stack" -eq 0 ] && [ -f "$W/stack.cortex-m4" ]; then stack=$(cat "$W/stack.cortex-m4"); fi
  stack=$(( (stack + 255) / 256 * 256 ))
  cat <<J
{"flags": "$cpu -mthumb -Os -ffunction-sections -fdata-sections -Wl,--gc-sections --specs=nano.specs -DTML_NO_OP_NAMES",
 "baseline": {"text": $bt, "data": $bd, "bss": $bb},
 "core": {"text": $((nt - bt)), "data": $((nd - bd)), "bss": $((nb - bb))},
 "core_trusted": {"text": $((ntt - bt)), "data": $((ntd - bd)), "bss": $((ntb - bb))},
 "sizeof_interpreter": $interp,
 "stack_bytes": $stack,
 "kernels": {$kernels},
 "op_sets": [$sets]}
J
}

{
  echo "{\"format\": \"tinyml code size v1\","
  echo " \"compiler\": \"$(arm-none-eabi-gcc --version | head -1)\","
  echo " \"method\": \"scripts/measure_code_size.sh: size of a program running one inference through the runtime (deploy/main.c) minus the same program without the runtime; text/data/bss in bytes\","
  echo " \"cores\": {"
  sep=""
  for core in "${CORES[@]}"; do
    echo "$sep\"$core\": $(json_core "$core")"
    sep=","
  done
  echo "}}"
} > "$W/out.json"
jq . "$W/out.json" > "$W/pretty.json"
mkdir -p "$(dirname "$OUT")"
mv "$W/pretty.json" "$OUT"
echo "wrote $OUT"
