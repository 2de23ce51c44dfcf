#!/usr/bin/env bash
# boards/code_size.json (read by `tinyml fit`) must match a fresh run of
# scripts/measure_code_size.sh: sizeof(tml_interpreter) exactly, every
# code size within 5% or 512 bytes (whichever is larger: other changes to
# the runtime move the figures a little between regenerations), the stack
# within 256 bytes; each op set's "export" figure (the build `tinyml export`
# makes for that model, with its dtype defines) likewise, with the same
# defines, and never above the op set's all-dtypes figure; exported builds
# trust the model (-DTML_TRUSTED_MODEL, runtime/model.h "verify once"):
# "export_verified" (the same without it) and "core_trusted" likewise, and
# the trusted figures below the verifying ones.  Regenerate with:  scripts/measure_code_size.sh
# Env (set by CTest): TINYML_BIN, TINYML_SHARED, TINYML_SOURCE.
set -u
BIN=${TINYML_BIN:?TINYML_BIN not set}
export TINYML_SHARED=${TINYML_SHARED:?TINYML_SHARED not set}
SRC=${TINYML_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
# The ASan/UBSan build (scripts/test.sh's build-asan) runs the same
# cross-builds again; they do not involve sanitized code, so it skips them.
if grep -q '^TML_SANITIZE:BOOL=ON' "${TINYML_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
    echo "skip: sanitizer build (the plain build runs this test)"
    exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if ! bash "$SRC/scripts/measure_code_size.sh" --tinyml "$BIN" --out "$TMP/fresh.json" >"$TMP/log" 2>&1; then
    echo "FAIL: measure_code_size.sh: $(tail -5 "$TMP/log")"
    exit 1
fi
/usr/bin/python3 - "$SRC/boards/code_size.json" "$TMP/fresh.json" <<'PY'
import json, sys
old = json.load(open(sys.argv[1]))
new = json.load(open(sys.argv[2]))
bad = 0
def check(what, a, b, tol):
    global bad
    if abs(a - b) > tol:
        print(f"FAIL: {what}: recorded {a}, measured {b} (tolerance {tol}); "
              "run scripts/measure_code_size.sh")
        bad += 1
def size_tol(v):
    return max(512, 0.05 * v)
for core, o in old["cores"].items():
    n = new["cores"].get(core)
    if n is None:
        print(f"FAIL: {core}: not measured any more"); bad += 1; continue
    check(f"{core} sizeof_interpreter", o["sizeof_interpreter"], n["sizeof_interpreter"], 0)
    check(f"{core} stack_bytes", o["stack_bytes"], n["stack_bytes"], 256)
    check(f"{core} core text+data", o["core"]["text"] + o["core"]["data"],
          n["core"]["text"] + n["core"]["data"], size_tol(o["core"]["text"]))
    ct = n.get("core_trusted")
    if ct is None or ct["text"] >= n["core"]["text"]:
        print(f"FAIL: {core}: core_trusted {ct} not below core {n['core']}"); bad += 1
    elif "core_trusted" in o:
        check(f"{core} core_trusted text+data",
              o["core_trusted"]["text"] + o["core_trusted"]["data"],
              ct["text"] + ct["data"], size_tol(o["core_trusted"]["text"]))
    else:
        print(f"FAIL: {core}: no core_trusted recorded"); bad += 1
    for op, k in o["kernels"].items():
        if op in n["kernels"]:
            check(f"{core} kernel {op}", k["text"] + k["data"],
                  n["kernels"][op]["text"] + n["kernels"][op]["data"], size_tol(k["text"]))
    missing = set(n["kernels"]) - set(o["kernels"])
    if missing:
        print(f"FAIL: {core}: ops without a recorded size: {sorted(missing)}"); bad += 1
    fresh_sets = {s["model"]: s for s in n["op_sets"]}
    for s in o["op_sets"]:
        f = fresh_sets.get(s["model"])
        if f is None:
            continue
        if sorted(f["ops"]) != sorted(s["ops"]):
            print(f"FAIL: {core} {s['model']}: op set changed"); bad += 1; continue
        check(f"{core} op set of {s['model']}", s["text"] + s["data"],
              f["text"] + f["data"], size_tol(s["text"]))
        e, fe = s.get("export"), f.get("export")
        if e is None or fe is None:
            print(f"FAIL: {core} {s['model']}: no export figure"); bad += 1; continue
        if e["defines"] != fe["defines"]:
            print(f"FAIL: {core} {s['model']}: export defines "
                  f"'{e['defines']}', now '{fe['defines']}'"); bad += 1
        check(f"{core} export build of {s['model']}", e["text"] + e["data"],
              fe["text"] + fe["data"], size_tol(e["text"]))
        if fe["text"] + fe["data"] > f["text"] + f["data"]:
            print(f"FAIL: {core} {s['model']}: export build larger than "
                  "the op set with every dtype path"); bad += 1
        ev, fv = s.get("export_verified"), f.get("export_verified")
        if ev is None or fv is None:
            print(f"FAIL: {core} {s['model']}: no export_verified figure"); bad += 1; continue
        if "-DTML_TRUSTED_MODEL" not in fe["defines"].split() or \
           fv["defines"].split() != [d for d in fe["defines"].split() if d != "-DTML_TRUSTED_MODEL"]:
            print(f"FAIL: {core} {s['model']}: export defines '{fe['defines']}', "
                  f"export_verified '{fv['defines']}'"); bad += 1
        if ev["defines"] != fv["defines"]:
            print(f"FAIL: {core} {s['model']}: export_verified defines "
                  f"'{ev['defines']}', now '{fv['defines']}'"); bad += 1
        check(f"{core} verifying export build of {s['model']}",
              ev["text"] + ev["data"], fv["text"] + fv["data"], size_tol(ev["text"]))
        if fe["text"] >= fv["text"]:
            print(f"FAIL: {core} {s['model']}: trusted export build not "
                  "below the verifying one"); bad += 1
print(f"{bad} failure(s)")
sys.exit(1 if bad else 0)
PY
