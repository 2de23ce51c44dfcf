#!/usr/bin/env bash
# Hostile model files through the CLI: never a signal, never a hang, and
# every failure is exactly one "tinyml: " line on stderr.
#
# 1. The malformed corpus of gen_malformed (fuzz/gen_malformed.c, built in
#    $TINYML_BUILD): `tinyml inspect` exits 2 on every bad_* file; maybe_*
#    files (possibly still valid) may also succeed, and are run too.
# 2. Our own seeded mutations of kws_ref_model.tflite (truncations, byte
#    and word overwrites) and of the structure of ad01_int8 and
#    pretrainedResnet_quant: `inspect` and `run --random` exit 0 with empty
#    stderr, or 1/2 with one line.  Some mutations leave a valid model.
# Env (set by CTest): TINYML_BIN, TINYML_SHARED, TINYML_BUILD.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
SHARED=${TINYML_SHARED:?TINYML_SHARED not set}
BUILD=${TINYML_BUILD:-$(dirname "$BIN")}
PY=/usr/bin/python3
KWS=$SHARED/models/mlperf-tiny/kws_ref_model.tflite
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# check FILE ALLOWED_CODES CMD...: run under a timeout; the exit code must
# be one of ALLOWED_CODES; non-zero => one "tinyml: " line on stderr,
# zero => nothing on stderr.
check() {
    local file=$1 allowed=$2
    shift 2
    timeout 20 "$@" >/dev/null 2>"$TMP/err"
    local rc=$?
    case " $allowed " in
    *" $rc "*) ;;
    *)
        if [ $rc -eq 124 ]; then
            fail "$(basename "$file"): $2 hung (timeout)"
        elif [ $rc -gt 128 ]; then
            fail "$(basename "$file"): $2 killed by signal $((rc - 128))"
        else
            fail "$(basename "$file"): $2 exit $rc, allowed: $allowed; $(head -c 200 "$TMP/err")"
        fi
        return
        ;;
    esac
    local lines
    lines=$(wc -l <"$TMP/err")
    if [ $rc -ne 0 ]; then
        if [ "$lines" -ne 1 ] || ! grep -q '^tinyml: ' "$TMP/err"; then
            fail "$(basename "$file"): $2 stderr is not one 'tinyml: ' line: $(head -c 300 "$TMP/err")"
        fi
    elif [ -s "$TMP/err" ]; then
        fail "$(basename "$file"): $2 succeeded but wrote to stderr"
    fi
}

# ---- 1. gen_malformed's corpus ----
GEN=""
for g in "$BUILD/gen_malformed" "$BUILD/fuzz/gen_malformed" "$BUILD/tests/gen_malformed"; do
    [ -x "$g" ] && GEN=$g && break
done
if [ -z "$GEN" ]; then
    fail "gen_malformed not built (looked in $BUILD, $BUILD/fuzz, $BUILD/tests)"
else
    mkdir -p "$TMP/corpus"
    if ! "$GEN" "$KWS" "$TMP/corpus" >"$TMP/gen.log" 2>"$TMP/gen.err"; then
        fail "gen_malformed failed: $(tail -n 3 "$TMP/gen.err")"
    fi
    n=0
    bad=0
    for f in "$TMP/corpus"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        case $(basename "$f") in
        # bad_*: invalid, the verifier must refuse it -> exit 2.
        bad_*) bad=$((bad + 1)); check "$f" "2" "$BIN" inspect "$f" ;;
        # maybe_*: may still be a valid model (a flipped weight byte):
        # it may load, and then run.
        *)
            check "$f" "0 1 2" "$BIN" inspect "$f"
            check "$f" "0 1 2" "$BIN" run "$f" --random
            ;;
        esac
    done
    want=$(tail -n 1 "$TMP/gen.log")
    [ "$n" = "$want" ] || fail "gen_malformed said it wrote '$want' files, found $n"
    [ $bad -gt 0 ] || fail "gen_malformed wrote no bad_* files"
    echo "gen_malformed corpus: $n files, $bad must be refused"
fi

# ---- 2. our own seeded mutations ----
$PY - "$KWS" "$TMP/mut" "$SHARED" <<'PYEOF'
import os, random, struct, sys
src, out, shared = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
os.makedirs(out)
rng = random.Random(20261125)
def save(name, b):
    open(os.path.join(out, name + ".tflite"), "wb").write(b)
# Truncations: the first bytes, then spread over the file.
for n in list(range(0, 33)) + list(range(33, len(data), 977)):
    save("trunc%06d" % n, data[:n])
# Single-byte overwrites at random offsets.
for i in range(300):
    off = rng.randrange(len(data))
    b = bytearray(data)
    b[off] = rng.choice([0x00, 0xff, 0x7f, 0x80, b[off] ^ 1, (b[off] + 1) & 0xff])
    save("byte%03d_%06d" % (i, off), bytes(b))
# 32-bit overwrites at aligned offsets (offsets, lengths, indices, dims).
words = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, len(data), len(data) - 4]
for i in range(300):
    off = rng.randrange(len(data) // 4) * 4
    b = bytearray(data)
    b[off:off + 4] = struct.pack("<I", rng.choice(words))
    save("word%03d_%06d" % (i, off), bytes(b))
# Other models' structure (tables, vectors, quantization, options): 32-bit
# overwrites outside the buffers' data, found with shared/tools/tflite_ref.py's
# flatbuffer helpers, so that no mutation is wasted on a weight.
sys.path.insert(0, os.path.join(shared, "tools"))
from tflite_ref import root, tables, off as field
for stem in ("ad01_int8", "pretrainedResnet_quant"):
    d = open(os.path.join(shared, "models/mlperf-tiny", stem + ".tflite"), "rb").read()
    m = root(bytearray(d))
    spans = []
    for buf in tables(m, 4):
        o = field(buf, 0)
        if o:
            spans.append((buf.Vector(o), buf.Vector(o) + buf.VectorLen(o)))
    def weight(p):
        return any(a <= p < b for a, b in spans)
    cand = [p for p in range(0, len(d) - 3, 4) if not weight(p) and not weight(p + 3)]
    special = words + [2, 3, 0x7f800000, 0xff800000, 0x7fc00000]
    rng = random.Random(stem)
    for i in range(100):
        p = rng.choice(cand)
        b = bytearray(d)
        b[p:p + 4] = struct.pack("<I", rng.choice(special))
        save("%s_struct%03d_%06d" % (stem, i, p), bytes(b))
PYEOF
n=0
for f in "$TMP/mut"/*.tflite; do
    n=$((n + 1))
    check "$f" "0 1 2" "$BIN" inspect "$f"
    check "$f" "0 1 2" "$BIN" run "$f" --random
done
echo "own mutations: $n files"

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
