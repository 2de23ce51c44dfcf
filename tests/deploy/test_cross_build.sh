#!/usr/bin/env bash
# The runtime builds warning-free (-std=c99 -Wall -Wextra -Werror -pedantic)
# with Debian's arm-none-eabi-gcc for cortex-m0plus, cortex-m4 (hard
# float), cortex-m7 and cortex-m33, at -Os, with the default op
# list and with a deployment's (-DTML_OPS_FILE, -DTML_NO_OP_NAMES); and
# the deployment op_names.c names exactly the listed ops.
# Env (set by CTest): TINYML_SOURCE.
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
        echo "ok: $cpu $opt: $n runtime files + deployment registry/op_names"
    done
done

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

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
