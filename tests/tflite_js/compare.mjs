#!/usr/bin/env node
// Compares two raw output files (all outputs concatenated in model dtype)
// of the same model: A from TensorFlow Lite (the reference), B from tinyml.
//
//   node compare.mjs INFO.json A.bin B.bin [MODEL.tflite] [--lsb N]
//
// INFO.json is what `run_tflite.mjs --info` printed (the outputs' dtypes
// and element counts).  Per output, the project's contracts:
//   float32: max |a - b| / max |a| <= 1e-5 (relative to the largest
//            reference magnitude, as tests/runtime/test_goldens.c);
//   int8/uint8/int16: max |a - b| <= 1 LSB (TFLite's XNNPACK kernels may
//            round differently from the reference kernels).
//   float32 dequantized from int8/uint8/int16 (the output of a DEQUANTIZE,
//            known when MODEL is given: an int8 model with float I/O):
//            max |a - b| <= 1 LSB of the quantized tensor (its scale), as
//            int8 outputs; shown as dtype "float32<-q".
//   int32/bool and others: exact.
// --lsb N: the int8 (and dequantized) tolerance instead of 1 LSB; 0 for
//   TFLite's reference kernels (run_tflite.mjs --reference-kernels).
// Prints one line per output:
//   "<index> <dtype> <count> <max_abs_diff> <rel_or_lsb> <differing> ok|FAIL"
// and exits 0 when all outputs pass, 1 otherwise, 2 on bad input.
import { readFileSync } from 'node:fs';
import { dequantizedScales, parseModel } from './tflite_fb.mjs';

function die(msg) {
  process.stderr.write(`compare: ${msg}\n`);
  process.exit(2);
}

const BYTES = { float32: 4, int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4,
                uint32: 4, float64: 8 };

function reader(dtype, buf) {
  switch (dtype) {
  case 'float32': return (k) => buf.readFloatLE(4 * k);
  case 'float64': return (k) => buf.readDoubleLE(8 * k);
  case 'int8': return (k) => buf.readInt8(k);
  case 'uint8': case 'bool': return (k) => buf.readUInt8(k);
  case 'int16': return (k) => buf.readInt16LE(2 * k);
  case 'int32': return (k) => buf.readInt32LE(4 * k);
  case 'uint32': return (k) => buf.readUInt32LE(4 * k);
  default: die(`unsupported dtype ${dtype}`);
  }
}

const args = process.argv.slice(2);
let lsbTolerance = 1;
const at = args.indexOf('--lsb');
if (at >= 0) {
  const v = args[at + 1];
  if (v === undefined || !/^\d+$/.test(v)) die(`--lsb needs a non-negative integer, got '${v ?? ''}'`);
  lsbTolerance = Number(v);
  args.splice(at, 2);
}
const [infoPath, aPath, bPath, modelPath] = args;
if (!bPath) die('usage: compare.mjs INFO.json A.bin B.bin [MODEL.tflite] [--lsb N]');
let info, a, b, deqScale = [];
try {
  info = JSON.parse(readFileSync(infoPath, 'utf8').trim().split('\n').pop());
  a = readFileSync(aPath);
  b = readFileSync(bPath);
  if (modelPath) deqScale = dequantizedScales(parseModel(readFileSync(modelPath)));
} catch (e) {
  die(e.message);
}
const total = info.outputs.reduce((s, t) => s + t.count * BYTES[t.dtype], 0);
if (a.length !== total || b.length !== total)
  die(`sizes ${a.length} and ${b.length}, expected ${total} bytes`);

let off = 0, allOk = true;
info.outputs.forEach((t, i) => {
  const n = t.count * BYTES[t.dtype];
  const ra = reader(t.dtype, a.subarray(off, off + n));
  const rb = reader(t.dtype, b.subarray(off, off + n));
  off += n;
  let maxDiff = 0, maxRef = 0, differing = 0, nan = false;
  for (let k = 0; k < t.count; k++) {
    const x = ra(k), y = rb(k);
    if (Number.isNaN(x) !== Number.isNaN(y)) nan = true;
    const d = Math.abs(x - y);
    if (d > maxDiff) maxDiff = d;
    if (x !== y) differing++;
    if (Math.abs(x) > maxRef) maxRef = Math.abs(x);
  }
  let measure, ok, dtype = t.dtype;
  const deq = deqScale.length === info.outputs.length ? deqScale[i] : 0;
  if (t.dtype === 'float32' && deq > 0) {
    const lsb = maxDiff / deq;
    measure = `${Math.round(lsb * 100) / 100}LSB`;
    ok = !nan && lsb <= lsbTolerance + 1e-4;
    dtype = 'float32<-q';
  } else if (t.dtype === 'float32' || t.dtype === 'float64') {
    measure = maxRef > 0 ? maxDiff / maxRef : maxDiff;
    ok = !nan && measure <= 1e-5;
    measure = measure.toExponential(2);
  } else if (t.dtype === 'int8' || t.dtype === 'uint8' || t.dtype === 'int16') {
    measure = `${maxDiff}LSB`;
    ok = maxDiff <= lsbTolerance;
  } else {
    measure = `${maxDiff}`;
    ok = maxDiff === 0;
  }
  allOk = allOk && ok;
  const diffText = Number.isInteger(maxDiff) ? String(maxDiff)
                                             : maxDiff.toExponential(2);
  process.stdout.write(`${i} ${dtype} ${t.count} ${diffText} ${measure} ` +
                       `${differing} ${ok ? 'ok' : 'FAIL'}\n`);
});
process.exit(allOk ? 0 : 1);
