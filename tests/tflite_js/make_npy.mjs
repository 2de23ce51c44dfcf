#!/usr/bin/env node
// Writes a float32 .npy of N samples of a model input's shape, from the
// goldens' LCG (float32: (state >> 8) * 2^-23 - 1, uniform in [-1, 1)):
// calibration data for converting the shared models, whose golden inputs
// come from the same generator.
//
//   node make_npy.mjs (INFO.json | MODEL.tflite) N SEED OUT.npy [INPUT]
//
// INFO.json is what `run_tflite.mjs --info` printed for the float model;
// a .tflite is read directly.  The sample shape is input INPUT's (default
// 0) shape without its batch dimension.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseModel } from './tflite_fb.mjs';

const [infoPath, nText, seedText, outPath, inputText] = process.argv.slice(2);
const which = Number(inputText || 0);
if (!outPath) {
  process.stderr.write('usage: make_npy.mjs (INFO.json | MODEL.tflite) N SEED OUT.npy\n');
  process.exit(2);
}
let shape;
if (infoPath.endsWith('.tflite')) {
  const m = parseModel(readFileSync(infoPath));
  shape = m.tensors[m.inputs[which]].shape.slice(1);
} else {
  const info = JSON.parse(readFileSync(infoPath, 'utf8').trim().split('\n').pop());
  shape = info.inputs[which].shape.slice(1);
}
const n = Number(nText);
const per = shape.reduce((p, d) => p * d, 1);
let state = Number(seedText) >>> 0;
const data = Buffer.alloc(4 * n * per);
for (let k = 0; k < n * per; k++) {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  data.writeFloatLE(Math.fround((state >>> 8) * 2 ** -23 - 1), 4 * k);
}
// NumPy format 1.0: magic, version, header length, dict padded with spaces
// to a multiple of 64 bytes (including the 10-byte preamble), newline.
const dims = [n, ...shape];
const tuple = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
const total = 10 + header.length + 1;
header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
const pre = Buffer.alloc(10);
pre.write('\x93NUMPY', 0, 'latin1');
pre[6] = 1;
pre[7] = 0;
pre.writeUInt16LE(header.length, 8);
writeFileSync(outPath, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
