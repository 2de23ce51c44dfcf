#!/usr/bin/env node
// Explains a difference between TensorFlow Lite (wasm) and tinyml on one
// model and input, operator by operator:
//
//   node drift.mjs MODEL IN.bin TINYML_BIN WORK_DIR
//
// 1. Every op output becomes a model output (tflite_fb.mjs) and both
//    runtimes run the model: the "chained" difference of each op, which
//    includes whatever earlier ops contributed.
// 2. Each op runs ALONE in both runtimes (a single-op model whose inputs are
//    the op's non-constant inputs), fed tinyml's own values of those
//    inputs: the op's own difference, on identical inputs.
// Prints one line per op, then a summary line.  Exit 0 when every op alone
// is within the contract (int8/uint8/int16: 1 LSB; float32: 1e-5
// relative, exact for others), 1 otherwise, 2 on bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel, patchModel } from './tflite_fb.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [modelPath, inPath, tinyml, work] = process.argv.slice(2);
if (!work) {
  process.stderr.write('usage: drift.mjs MODEL IN.bin TINYML_BIN WORK_DIR\n');
  process.exit(2);
}
mkdirSync(work, { recursive: true });
const BYTES = { float32: 4, int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4 };
const m = parseModel(readFileSync(modelPath));

// Which tensors carry activations: graph inputs and op outputs.
const live = new Set(m.inputs);
for (const op of m.ops) for (const t of op.outputs) live.add(t);

function runBoth(model, input, tag) {
  const f = join(work, tag);
  writeFileSync(`${f}.tflite`, model);
  writeFileSync(`${f}.in`, input);
  const r = spawnSync(process.execPath,
      [join(here, 'run_tflite.mjs'), `${f}.tflite`, `${f}.in`, `${f}.tfl`, '--info']);
  if (r.status !== 0) throw new Error(`TFLite: ${r.stderr.toString().trim()}`);
  const info = JSON.parse(r.stdout.toString().trim().split('\n').pop());
  const t = spawnSync(tinyml, ['run', `${f}.tflite`, '--input', `${f}.in`,
                               '--output', `${f}.tml`]);
  if (t.status !== 0) throw new Error(`tinyml: ${t.stderr.toString().trim()}`);
  return { info, tfl: readFileSync(`${f}.tfl`), tml: readFileSync(`${f}.tml`) };
}

function read(dtype, b, k) {
  switch (dtype) {
  case 'float32': return b.readFloatLE(4 * k);
  case 'int8': return b.readInt8(k);
  case 'uint8': case 'bool': return b[k];
  case 'int16': return b.readInt16LE(2 * k);
  default: return b.readInt32LE(4 * k);
  }
}

// Per output: {dtype, maxDiff, measure text, differing, ok, bytes of tinyml}.
function compare(res) {
  let off = 0;
  return res.info.outputs.map((t) => {
    const n = t.count * BYTES[t.dtype];
    const a = res.tfl.subarray(off, off + n), b = res.tml.subarray(off, off + n);
    off += n;
    let maxDiff = 0, maxRef = 0, differing = 0;
    for (let k = 0; k < t.count; k++) {
      const x = read(t.dtype, a, k), y = read(t.dtype, b, k);
      maxDiff = Math.max(maxDiff, Math.abs(x - y));
      maxRef = Math.max(maxRef, Math.abs(x));
      if (x !== y) differing++;
    }
    let text, ok;
    if (t.dtype === 'float32') {
      const rel = maxRef ? maxDiff / maxRef : maxDiff;
      text = `rel ${rel.toExponential(2)}`;
      ok = rel <= 1e-5;
    } else if (t.dtype === 'int8' || t.dtype === 'uint8' || t.dtype === 'int16') {
      text = `${maxDiff} LSB`;
      ok = maxDiff <= 1;
    } else {
      text = `${maxDiff}`;
      ok = maxDiff === 0;
    }
    return { dtype: t.dtype, count: t.count, text, differing, ok, tml: b };
  });
}

const input = readFileSync(inPath);
// 1. chained
const exposedOuts = [];
for (const op of m.ops) for (const t of op.outputs) if (t >= 0) exposedOuts.push(t);
const chained = runBoth(patchModel(m, { outputs: exposedOuts }), input, 'chained');
const chainedCmp = compare(chained);
const valueOf = new Map();      // tensor -> tinyml's bytes
exposedOuts.forEach((t, k) => valueOf.set(t, chainedCmp[k].tml));
{
  let off = 0;
  chained.info.inputs.forEach((t, k) => {
    const n = t.count * BYTES[t.dtype];
    valueOf.set(m.inputs[k], input.subarray(off, off + n));
    off += n;
  });
}

// 2. alone
let allOk = true, worstChained = 0;
const ownDiffs = [];
let k = 0;
for (const op of m.ops) {
  const ins = op.inputs.filter((t) => t >= 0 && live.has(t));
  const outs = op.outputs.filter((t) => t >= 0);
  const chainedText = outs.map((t) => {
    const c = chainedCmp[exposedOuts.indexOf(t)];
    if (c.dtype !== 'float32') worstChained = Math.max(worstChained, parseInt(c.text, 10));
    return `${c.text} (${c.differing}/${c.count})`;
  }).join(', ');
  let aloneText;
  try {
    const single = patchModel(m, { inputs: ins, outputs: outs, keepOp: op.index });
    const res = runBoth(single, Buffer.concat(ins.map((t) => valueOf.get(t))),
                        `op${op.index}`);
    const c = compare(res);
    aloneText = c.map((x) => `${x.text} (${x.differing}/${x.count})`).join(', ');
    const ok = c.every((x) => x.ok);
    if (c.some((x) => x.differing)) ownDiffs.push(`${op.name} op ${op.index}: ${aloneText}`);
    if (!ok) aloneText += '  <- beyond the contract';
    allOk = allOk && ok;
  } catch (e) {
    aloneText = `not run alone: ${String(e.message).split('\n')[0]}`;
    allOk = false;
  }
  process.stdout.write(`op ${String(op.index).padStart(3)} ${op.name.padEnd(18)} ` +
                       `alone: ${aloneText}; chained: ${chainedText}\n`);
  k++;
}
const own = ownDiffs.length
    ? `${ownDiffs.length} of ${m.ops.length} ops differ alone (${allOk ? 'each within the contract' : 'NOT all within the contract'})`
    : `no op differs alone (of ${m.ops.length})`;
process.stdout.write(`${own}; chained up to ${worstChained} LSB\n`);
process.exit(allOk ? 0 : 1);
