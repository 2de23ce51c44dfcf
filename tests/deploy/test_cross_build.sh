#!/usr/bin/env bash
# The runtime builds warning-free (-std=c99 -Wall -Wextra -Werror -pedantic)
# with Debian's arm-none-eabi-gcc for cortex-m0plus, cortex-m4 (hard
# float), cortex-m7 and cortex-m33, at -Os, with the default op
# list and with a deployment's (-DTML_OPS_FILE, -DTML_NO_OP_NAMES), and the
# kernels with the exporter's dtype defines (-DTML_NO_FLOAT_KERNELS,
# -DTML_NO_HYBRID); the deployment op_names.c names exactly the listed
# ops; the whole runtime with -DTML_TRUSTED_MODEL (exported projects'
# default: no verifier in model.o) and the kernels with it and the int8
# dtype defines; a host build with both dtype defines links without hybrid.c, runs
# the int8 KWS model, and refuses float and hybrid models in tml_allocate
# with one line naming the define.
# Env (set by CTest): TINYML_SOURCE, TINYML_SHARED.
set -u
SRC=${TINYML_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v arm-none-eabi-gcc >/dev/null || { echo "FAIL: arm-none-eabi-gcc not installed (scripts/install-deps.sh)"; exit 1; }
# The ASan/UBSan build (scripts/test.sh's build-asan) runs the same
# cross-builds again; they do not involve sanitized code, so it skips them.
if grep -q '^TML_SANITIZE:BOOL=ON' "${TINYML_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
    echo "skip: sanitizer build (the plain build runs this test)"
    exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

grep -E '^TML_OP\((CONV_2D|SOFTMAX),' "$SRC/runtime/ops.def" > "$TMP/two_ops.def"
for cpu in "-mcpu=cortex-m0plus -mfloat-abi=soft" \
           "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" \
           "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16" \
           "-mcpu=cortex-m33 -mfloat-abi=hard -mfpu=fpv5-sp-d16"; do
    for opt in -Os; do
        n=0
        for f in "$SRC"/runtime/*.c "$SRC"/runtime/kernels/*.c; do
            arm-none-eabi-gcc $cpu -mthumb $opt -std=c99 -Wall -Wextra -Werror -pedantic \
                -I"$SRC/include" -I"$SRC/runtime" -c "$f" -o "$TMP/x.o" 2>"$TMP/err" \
                || fail "$cpu $opt $(basename "$f"): $(head -3 "$TMP/err")"
            n=$((n + 1))
        done
        for f in registry.c op_names.c; do
            arm-none-eabi-gcc $cpu -mthumb $opt -std=c99 -Wall -Wextra -Werror -pedantic \
                -DTML_OPS_FILE="\"$TMP/two_ops.def\"" -DTML_NO_OP_NAMES \
                -I"$SRC/include" -I"$SRC/runtime" -c "$SRC/runtime/$f" -o "$TMP/$f.o" 2>"$TMP/err" \
                || fail "$cpu $opt deployment $f: $(head -3 "$TMP/err")"
        done
        for f in "$SRC"/runtime/*.c; do
            arm-none-eabi-gcc $cpu -mthumb $opt -std=c99 -Wall -Wextra -Werror -pedantic -DTML_TRUSTED_MODEL \
                -I"$SRC/include" -I"$SRC/runtime" -c "$f" -o "$TMP/trusted_$(basename "$f" .c).o" 2>"$TMP/err" \
                || fail "$cpu $opt -DTML_TRUSTED_MODEL $(basename "$f"): $(head -3 "$TMP/err")"
        done
        for defs in "-DTML_NO_FLOAT_KERNELS" "-DTML_NO_HYBRID" \
                    "-DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID" \
                    "-DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID -DTML_TRUSTED_MODEL"; do
            for f in "$SRC"/runtime/kernels/*.c; do
                arm-none-eabi-gcc $cpu -mthumb $opt -std=c99 -Wall -Wextra -Werror -pedantic $defs \
                    -I"$SRC/include" -I"$SRC/runtime" -c "$f" -o "$TMP/x.o" 2>"$TMP/err" \
                    || fail "$cpu $opt $defs $(basename "$f"): $(head -3 "$TMP/err")"
            done
        done
        echo "ok: $cpu $opt: $n runtime files + deployment registry/op_names; kernels with the dtype defines; runtime with -DTML_TRUSTED_MODEL"
    done
done

# -DTML_TRUSTED_MODEL compiles the verifier out of model.c (runtime/model.h,
# "verify once"); the default build has it.
cpu4="-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16"
verifier='^[0-9a-f]+ [tTrRdD] (walk|check_table|check_tensor|k_fields|k_names)$'
arm-none-eabi-gcc $cpu4 -mthumb -Os -std=c99 -I"$SRC/include" -I"$SRC/runtime" -c "$SRC/runtime/model.c" -o "$TMP/model_v.o"
arm-none-eabi-gcc $cpu4 -mthumb -Os -std=c99 -DTML_TRUSTED_MODEL -I"$SRC/include" -I"$SRC/runtime" -c "$SRC/runtime/model.c" -o "$TMP/model_t.o"
nv=$(arm-none-eabi-nm "$TMP/model_v.o" | grep -cE "$verifier")
nt=$(arm-none-eabi-nm "$TMP/model_t.o" | grep -cE "$verifier")
tv=$(arm-none-eabi-size "$TMP/model_v.o" | awk 'NR==2 {print $1 + $2}')
tt=$(arm-none-eabi-size "$TMP/model_t.o" | awk 'NR==2 {print $1 + $2}')
if [ "$nv" -ge 3 ] && [ "$nt" -eq 0 ] && [ "$tt" -lt "$tv" ]; then
    echo "ok: model.c with -DTML_TRUSTED_MODEL: no verifier ($tt B vs $tv B on cortex-m4)"
else
    fail "model.c verifier symbols: default $nv, trusted $nt; sizes $tv / $tt"
fi

# The deployment op_names.c: the listed ops by name, others UNKNOWN (host).
cat > "$TMP/names.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "tinyml/tinyml.h"
int main(void)
{
    int bad = 0;
    bad |= strcmp(tml_op_name(3), "CONV_2D") != 0;
    bad |= strcmp(tml_op_name(25), "SOFTMAX") != 0;
    bad |= strcmp(tml_op_name(4), "UNKNOWN") != 0;   /* not listed */
    bad |= strcmp(tml_op_name(-1), "UNKNOWN") != 0;
    bad |= strcmp(tml_op_name(100000), "UNKNOWN") != 0;
    return bad;
}
C
if cc -std=c99 -Wall -Wextra -Werror -pedantic -DTML_NO_OP_NAMES -DTML_OPS_FILE="\"$TMP/two_ops.def\"" \
        -I"$SRC/include" -I"$SRC/runtime" "$TMP/names.c" "$SRC/runtime/op_names.c" -o "$TMP/names" 2>"$TMP/err" \
        && "$TMP/names"; then
    echo "ok: -DTML_NO_OP_NAMES names exactly the listed ops"
else
    fail "-DTML_NO_OP_NAMES op names: $(head -3 "$TMP/err")"
fi
small=$(arm-none-eabi-size "$TMP/op_names.c.o" | awk 'NR==2 {print $1 + $2}')
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -O2 -std=c99 -I"$SRC/include" -I"$SRC/runtime" \
    -c "$SRC/runtime/op_names.c" -o "$TMP/full.o"
full=$(arm-none-eabi-size "$TMP/full.o" | awk 'NR==2 {print $1 + $2}')
[ "$small" -lt 512 ] && [ "$full" -gt 2048 ] && echo "ok: op names $full B -> $small B with two ops" \
    || fail "op names: full $full B, deployment $small B"

# Host build with both dtype defines and without hybrid.c (it must link:
# nothing refers to it), then the refusals and an int8 model that runs.
SHARED=${TINYML_SHARED:-$SRC/../shared}
MODELS=$SHARED/models/mlperf-tiny
cat > "$TMP/dtype.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "tinyml/tinyml.h"
static unsigned char arena[4 << 20] __attribute__((aligned(16)));
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    static unsigned char model[2 << 20] __attribute__((aligned(16)));
    size_t n = f ? fread(model, 1, sizeof model, f) : 0;
    tml_interpreter it;
    (void)argc;
    if (f)
        fclose(f);
    if (tml_create(&it, model, n, arena, sizeof arena) != TML_OK ||
        tml_allocate(&it) != TML_OK || tml_invoke(&it) != TML_OK) {
        printf("%s\n", tml_error(&it));
        return 1;
    }
    printf("ok\n");
    return 0;
}
C
if cc -std=c99 -Wall -Wextra -Werror -pedantic -DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID \
        -I"$SRC/include" -I"$SRC/runtime" "$TMP/dtype.c" "$SRC"/runtime/*.c \
        $(ls "$SRC"/runtime/kernels/*.c | grep -v '/hybrid\.c$') -lm -o "$TMP/dtype" 2>"$TMP/err"; then
    echo "ok: host runtime with -DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID builds and links without hybrid.c"
    check_dtype() {  # model expected-line
        local got; got=$("$TMP/dtype" "$MODELS/$1.tflite")
        [ "$got" = "$2" ] && echo "ok: $1: $got" || fail "$1: got '$got', expected '$2'"
    }
    if [ -f "$MODELS/kws_ref_model.tflite" ]; then
        check_dtype kws_ref_model "ok"
        check_dtype kws_ref_model_float32 "op 0 CONV_2D: hybrid (float32 input, int8 filter) kernels are not built in (TML_NO_HYBRID)"
        check_dtype vww_96_float "op 0 CONV_2D: float32 kernels are not built in (TML_NO_FLOAT_KERNELS)"
        check_dtype ad01_fp32 "op 0 FULLY_CONNECTED: float32 kernels are not built in (TML_NO_FLOAT_KERNELS)"
    else
        fail "no models in $MODELS (TINYML_SHARED)"
    fi
else
    fail "host build with the dtype defines: $(head -3 "$TMP/err")"
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
