#!/usr/bin/env node
// Per-operator comparison of TensorFlow Lite (wasm, XNNPACK) with the
// goldens' per-op outputs of TFLite Micro's reference kernels (which tinyml
// matches bit for bit), for one model of ../shared/goldens:
//
//   node ops_compare.mjs MODEL.tflite GOLDEN_DIR WORK_DIR [--reference-kernels]
//
// Exposes every op output (expose_tensors.mjs), runs seed1.input.bin
// through run_tflite.mjs, and prints one line per op:
//   op NNN tensor MMM dtype count: max diff (LSB or relative), differing
//   elements, and whether every earlier op matched exactly (then the op saw
//   identical inputs and the difference is the kernel's own).
// --reference-kernels: TFLite runs the model as run_tflite.mjs
//   --reference-kernels does (no XNNPACK, reference int8 CONV_2D and
//   FULLY_CONNECTED); on ../shared's int8 models every op then matches.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const reference = args.includes('--reference-kernels');
const [model, gold, work] = args.filter((a) => a !== '--reference-kernels');
if (!work) {
  process.stderr.write('usage: ops_compare.mjs MODEL GOLDEN_DIR WORK_DIR [--reference-kernels]\n');
  process.exit(2);
}
const exposed = join(work, 'exposed.tflite');
const list = JSON.parse(execFileSync(process.execPath,
    [join(here, 'expose_tensors.mjs'), model, exposed]).toString());
const info = JSON.parse(execFileSync(process.execPath,
    [join(here, 'run_tflite.mjs'), exposed, join(gold, 'seed1.input.bin'),
     join(work, 'exposed.out'), '--info', ...(reference ? ['--reference-kernels'] : [])])
    .toString().trim().split('\n').pop());
const out = readFileSync(join(work, 'exposed.out'));
const BYTES = { float32: 4, int8: 1, uint8: 1, int16: 2, int32: 4, bool: 1 };
let off = 0, clean = true;
info.outputs.forEach((t, k) => {
  const n = t.count * BYTES[t.dtype];
  const mine = out.subarray(off, off + n);
  off += n;
  const e = list[k];
  if (e.op < 0) return;
  const name = `op${String(e.op).padStart(3, '0')}.t${String(e.tensor).padStart(3, '0')}.bin`;
  const gpath = join(gold, 'seed1.ops', name);
  if (!existsSync(gpath)) {
    process.stdout.write(`${name}: no golden\n`);
    return;
  }
  const g = readFileSync(gpath);
  if (g.length !== n) {
    process.stdout.write(`${name}: size ${n} vs golden ${g.length}\n`);
    return;
  }
  let maxDiff = 0, maxRef = 0, differing = 0;
  for (let i = 0; i < t.count; i++) {
    let a, b;
    if (t.dtype === 'float32') { a = mine.readFloatLE(4 * i); b = g.readFloatLE(4 * i); }
    else if (t.dtype === 'int8') { a = mine.readInt8(i); b = g.readInt8(i); }
    else if (t.dtype === 'uint8') { a = mine[i]; b = g[i]; }
    else if (t.dtype === 'int16') { a = mine.readInt16LE(2 * i); b = g.readInt16LE(2 * i); }
    else { a = mine.readInt32LE(4 * i); b = g.readInt32LE(4 * i); }
    maxDiff = Math.max(maxDiff, Math.abs(a - b));
    maxRef = Math.max(maxRef, Math.abs(b));
    if (a !== b) differing++;
  }
  const what = t.dtype === 'float32'
      ? `rel ${(maxRef ? maxDiff / maxRef : maxDiff).toExponential(2)}`
      : `${maxDiff} LSB`;
  process.stdout.write(`${name} ${t.dtype}[${t.count}] ${t.name.slice(0, 48)}: ` +
                       `${what}, ${differing} differ` +
                       `${differing && clean ? '  <- first difference (identical inputs)' : ''}\n`);
  if (differing) clean = false;
});
