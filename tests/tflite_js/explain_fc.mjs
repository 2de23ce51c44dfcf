#!/usr/bin/env node
// Why TFLite's XNNPACK and the reference kernels differ by 1 LSB on an int8
// FULLY_CONNECTED: recomputes one op from its inputs with both
// requantization schemes and says which one each runtime's output matches.
//
//   node explain_fc.mjs MODEL.tflite OP IN.bin TFLITE_OUT.bin TINYML_OUT.bin
//
// IN.bin is the op's int8 input (e.g. drift.mjs's WORK/op<N>.in), the two
// outputs its results in each runtime (WORK/op<N>.tfl, WORK/op<N>.tml).
//   reference (TFLite Micro, tinyml): the multiplier M = s_in * s_w / s_out
//     as a Q31 value and a shift; out = RDBPOT(SRDHM(acc << left, q), right)
//     -- gemmlowp's two roundings, the first of which keeps only `right`
//     fractional bits;
//   XNNPACK (fp32 requantization): out = round-to-nearest-even(acc *
//     float(s_in * s_w / s_out)) -- one rounding.
// Prints every unit where the runtimes differ, then how many of all units
// each scheme reproduces.
import { readFileSync } from 'node:fs';
import { fbAccess } from './tflite_fb.mjs';

const [modelPath, opText, inPath, tflPath, tmlPath] = process.argv.slice(2);
if (!tmlPath) {
  process.stderr.write('usage: explain_fc.mjs MODEL OP IN.bin TFLITE_OUT.bin TINYML_OUT.bin\n');
  process.exit(2);
}
const buf = readFileSync(modelPath);
const input = readFileSync(inPath), tfl = readFileSync(tflPath),
      tml = readFileSync(tmlPath);
const { u32, i32, field, deref } = fbAccess(buf);
const vec = (f) => { const v = deref(f); return { n: u32(v), p: v + 4 }; };
const tables = (f) => {
  if (!f) return [];
  const { n, p } = vec(f);
  return Array.from({ length: n }, (_, k) => deref(p + 4 * k));
};
const ints = (f) => {
  if (!f) return [];
  const { n, p } = vec(f);
  return Array.from({ length: n }, (_, k) => i32(p + 4 * k));
};
const model = deref(0);
const sg = tables(field(model, 2))[0];
const buffers = tables(field(model, 4));
const tensors = tables(field(sg, 0));
const op = tables(field(sg, 3))[Number(opText)];

// Tensor: shape 0, buffer 2, quantization 4 (scale 2, zero_point 3).
function tensor(t) {
  const T = tensors[t];
  const q = field(T, 4) ? deref(field(T, 4)) : 0;
  const scale = [], zp = [];
  if (q && field(q, 2)) {
    const { n, p } = vec(field(q, 2));
    for (let k = 0; k < n; k++) scale.push(buf.readFloatLE(p + 4 * k));
  }
  if (q && field(q, 3)) {
    const { n, p } = vec(field(q, 3));
    for (let k = 0; k < n; k++) zp.push(Number(buf.readBigInt64LE(p + 8 * k)));
  }
  const b = buffers[u32(field(T, 2))];
  let data = null;
  if (b && field(b, 0)) {
    const { n, p } = vec(field(b, 0));
    data = buf.subarray(p, p + n);
  }
  return { shape: ints(field(T, 0)), scale, zp: zp.length ? zp : [0], data };
}
const [xi, wi, bi] = ints(field(op, 1));
const [oi] = ints(field(op, 2));
const X = tensor(xi), W = tensor(wi), B = bi >= 0 ? tensor(bi) : { data: null },
      O = tensor(oi);
// Operator: builtin_options 4; FullyConnectedOptions:
// fused_activation_function 0 (NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3).
const opt = field(op, 4) ? deref(field(op, 4)) : 0;
const act = opt && field(opt, 0) ? buf.readInt8(field(opt, 0)) : 0;
const zo = O.zp[0], so = O.scale[0];
let lo = -128, hi = 127;
if (act === 1) lo = Math.max(lo, zo);
if (act === 3) { lo = Math.max(lo, zo); hi = Math.min(hi, zo + Math.round(6 / so)); }
if (act === 2) { lo = Math.max(lo, zo + Math.round(-1 / so)); hi = Math.min(hi, zo + Math.round(1 / so)); }

function quantizeMultiplier(m) {
  let e = Math.floor(Math.log2(m)) + 1;
  let q = Math.round(m / 2 ** e * 2 ** 31);
  if (q === 2 ** 31) { q /= 2; e++; }
  return [q, e];
}
function srdhm(a, b) {
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n));
}
function rdbpot(x, e) {
  const mask = (1 << e) - 1, rem = x & mask;
  return (x >> e) + (rem > (mask >> 1) + (x < 0 ? 1 : 0) ? 1 : 0);
}
const roundEven = (v) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
};

const units = W.shape[0], depth = W.shape[1];
let refOk = 0, xnnOk = 0, differ = 0;
for (let u = 0; u < units; u++) {
  let acc = B.data ? B.data.readInt32LE(4 * u) : 0;
  for (let k = 0; k < depth; k++)
    acc += (input.readInt8(k) - X.zp[0]) * W.data.readInt8(u * depth + k);
  const sw = W.scale.length > 1 ? W.scale[u] : W.scale[0];
  const [q, shift] = quantizeMultiplier(X.scale[0] * sw / so);
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const inter = srdhm(acc * 2 ** left, q);
  const ref = Math.min(hi, Math.max(lo, rdbpot(inter, right) + zo));
  const exact = acc * Math.fround(Math.fround(X.scale[0] * sw) / so);
  const xnn = Math.min(hi, Math.max(lo, roundEven(Math.fround(exact)) + zo));
  const a = tfl.readInt8(u), b = tml.readInt8(u);
  refOk += ref === b;
  xnnOk += xnn === a;
  if (a !== b) {
    differ++;
    process.stdout.write(`unit ${u}: acc ${acc} x scale = ${exact.toFixed(4)}; ` +
        `reference: SRDHM -> ${inter} (${right} fractional bits) -> ` +
        `${ref - zo} -> ${ref} (tinyml ${b}); fp32: ${xnn} (TFLite ${a})\n`);
  }
}
process.stdout.write(`${units} units, ${differ} differ; the reference scheme ` +
    `reproduces tinyml on ${refOk}, the fp32 scheme TFLite on ${xnnOk}\n`);
