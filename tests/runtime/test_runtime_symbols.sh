#!/usr/bin/env bash
# The runtime library may use nothing from the host but a few libc/libm
# functions every embedded toolchain has: no malloc, no stdio, no exit.
set -euo pipefail
lib="$TINYML_BUILD/libtinyml_runtime.a"
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }

defined=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
undefined=$(nm -u "$lib" 2>/dev/null | awk 'NF>=2 && $1=="U" {print $2}' | sort -u)
external=$(comm -23 <(echo "$undefined") <(echo "$defined"))

allowed='^(memcpy|memset|memmove|memcmp|expf|tanhf|logf|sqrtf|floorf|ceilf|fabsf|roundf|exp|log|frexp|ldexp)$'
# Instrumentation and compiler support symbols (sanitizer builds, PIC).
tooling='^(__asan|__ubsan|__sanitizer|__stack_chk|_GLOBAL_OFFSET_TABLE_|__tsan|__msan|__lsan)'

bad=$(echo "$external" | grep -Ev "$allowed" | grep -Ev "$tooling" | grep -v '^$' || true)
if [ -n "$bad" ]; then
  echo "runtime uses host symbols it must not:"
  echo "$bad"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "runtime external symbols: $(echo "$external" | grep -Ev "$tooling" | tr '\n' ' ')"
echo "1 passed, 0 failed"
