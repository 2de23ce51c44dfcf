// node reference_kernels.mjs MODEL...: prints, per model, "MODEL R D S":
// how many ops the rewrite below changes (R int8 CONV_2D/FULLY_CONNECTED
// made reference, D int8 DEPTHWISE_CONV_2D with their constants made
// inputs, S int8 CONV_2D/FULLY_CONNECTED left as they were: one output
// channel, or a filter that is not constant int8), or "MODEL error: ..."
// when it cannot rewrite the model.
//
// Rewrites a TFLite model so that TensorFlow Lite's wasm interpreter runs
// no op in XNNPACK, and its REFERENCE int8 kernels for CONV_2D and
// FULLY_CONNECTED, with the same math, to compare with TFLite Micro /
// tinyml bit for bit.
//
// Why a rewrite: that interpreter gives an int8 CONV_2D / FULLY_CONNECTED
// to (1) the XNNPACK delegate, which it applies by default, or, when
// XNNPACK declines it, (2) the builtin "optimized" kernel, whose int8 GEMM
// runs in ruy.  Both requantize with ONE rounding (XNNPACK in fp32, ruy's
// MultiplyByQuantizedMultiplier as a 64-bit product with one rounding
// shift), where the reference kernels (TFLite Micro's, and tinyml's) use
// gemmlowp's two roundings.  The builtin CONV_2D switches to its reference
// kernel when the convolution is grouped ("Grouped convolution is right now
// only supported on reference kernel", tensorflow/lite/kernels/conv.cc), so:
//   CONV_2D x * W -> y  becomes  CONCATENATION(x, ..., x) -> xg  (G copies
//       along channels) and CONV_2D xg * W -> y: groups = G, and output
//       channel o reads group o / (O / G) of xg, which is x itself, so every
//       output is the same integer sum of the same products.
//   FULLY_CONNECTED x * W -> y  becomes  RESHAPE x -> [B,1,1,Cin],
//       CONCATENATION -> [B,1,1,G*Cin], CONV_2D 1x1 (W viewed as
//       [O,1,1,Cin]) -> [B,1,1,O], RESHAPE -> y.
// G is the smallest divisor > 1 of the output channels O (none when O = 1:
// that op is left as it was, in ruy, and listed in `skipped`, as one whose
// filter is not constant int8).
// An already grouped CONV_2D is left as it is (it is on the reference
// path).
//
// XNNPACK out, twice over:
// - XNNPACK takes a quantized CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
//   only when its filter and bias are static read-only tensors
//   (CheckTensorStaticAllocation in tensorflow/lite/delegates/xnnpack/
//   xnnpack_delegate.cc: "expected static read-only tensor"), so those of
//   every rewritten op and every int8 DEPTHWISE_CONV_2D become subgraph
//   inputs without data (buffer index 0), fed by the caller with the
//   original constant bytes (`extra`, in the order of the appended
//   inputs).  The builtin DEPTHWISE_CONV_2D requantizes with two roundings.
// - The other ops XNNPACK takes (ADD, MUL, LEAKY_RELU, CONCATENATION, ...)
//   are taken from it by the guard below: one dynamic tensor in the graph,
//   and TFLite undoes the whole delegation.
//
// Requantization multipliers: the reference CONV_2D computes each as
// double(s_in) * double(s_w) / double(s_out).  TFLite Micro's per-tensor
// FULLY_CONNECTED uses double(float(s_in * s_w)) / double(s_out) (the
// product rounded to float first), so for a per-tensor FC the copies of x
// are declared with scale float(s_in * s_w) and the filter view with scale
// 1 (same zero points; RESHAPE and an all-equal-parameters CONCATENATION
// copy bytes): the same multiplier to the last bit.
//
// The flatbuffer is not re-serialized: the new Model, SubGraph, vectors
// and tables are written in front of the original bytes (offsets are
// relative and point forward, so new objects may point at old ones; the
// original is placed at a multiple of 16 so its alignment holds), and the
// only in-place change is the buffer index of the tensors made inputs.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fbAccess, parseModel } from './tflite_fb.mjs';

const CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4,
      FULLY_CONNECTED = 9, RESHAPE = 22;
const OPT_CONV = 1, OPT_CONCAT = 10, OPT_RESHAPE = 17;
const TYPE_CODE = { float32: 0, int32: 2, uint8: 3, int64: 4, bool: 6, int16: 7,
                    int8: 9 };

// --- reading the original flatbuffer --------------------------------------
function reader(buf) {
  const { u32, i32, field, deref } = fbAccess(buf);
  const ref = (t, slot) => { const f = field(t, slot); return f ? deref(f) : 0; };
  const vecTables = (v) => {
    const out = [];
    for (let k = 0; k < u32(v); k++) out.push(deref(v + 4 + 4 * k));
    return out;
  };
  return { u32, i32, field, deref, ref, vecTables };
}

// --- writing the new objects -----------------------------------------------
// Objects are laid out in creation order after the root offset and the
// file identifier (8 bytes);
// every reference from a new object must point forward (to a later new
// object or into the original bytes), which creation order guarantees
// when parents are created before children.  Old targets are positions
// in the original buffer.
class Prefix {
  constructor() { this.objs = []; }
  // bytes: Buffer; anchor: the referenced position inside it; refs:
  // [{at, to}] 32-bit offsets to fill, `to` a holder {obj} (a new object)
  // or {old} (a position in the original), filled in any time before
  // finish(); align8At: when set, the object is placed so that
  // (start + align8At) is a multiple of 8 (int64 vector elements).
  add(bytes, anchor, refs, align8At) {
    const o = { bytes, anchor, refs, align8At, pos: -1 };
    this.objs.push(o);
    return o;
  }
  vector(elemSize, items, write, align8) {
    const b = Buffer.alloc(4 + elemSize * items.length);
    b.writeUInt32LE(items.length, 0);
    const refs = [];
    items.forEach((x, k) => write(b, 4 + elemSize * k, x, refs));
    return this.add(b, 0, refs, align8 ? 4 : undefined);
  }
  ints(list) {
    return this.vector(4, list, (b, at, x) => b.writeInt32LE(x, at));
  }
  floats(list) {
    return this.vector(4, list, (b, at, x) => b.writeFloatLE(x, at));
  }
  longs(list) {
    return this.vector(8, list, (b, at, x) => b.writeBigInt64LE(BigInt(x), at), true);
  }
  // items: holders ({obj} or {old}) of tables
  tables(items) {
    return this.vector(4, items, (b, at, x, refs) => refs.push({ at, to: x }));
  }
  string(s) {
    const t = Buffer.from(s, 'utf8');
    const b = Buffer.alloc(4 + t.length + 1);
    b.writeUInt32LE(t.length, 0);
    t.copy(b, 4);
    return this.add(b, 0, []);
  }
  // fields: [{slot, kind: 'i8'|'u8'|'i32'|'u32'|'f32', value} |
  //          {slot, kind: 'ref', to: holder}]
  // Each field gets a 4-byte-aligned place after the table's soffset; the
  // vtable comes right before the table.
  table(fields) {
    const slots = fields.length ? Math.max(...fields.map((f) => f.slot)) + 1 : 0;
    const vtSize = 4 + 2 * slots;
    const vtPad = (4 - (vtSize % 4)) % 4;
    const tStart = vtSize + vtPad;
    const b = Buffer.alloc(tStart + 4 + 4 * fields.length);
    b.writeUInt16LE(vtSize, 0);
    b.writeUInt16LE(4 + 4 * fields.length, 2);
    b.writeInt32LE(tStart, tStart);      // vtable = table - soffset
    const refs = [];
    fields.forEach((f, k) => {
      const off = 4 + 4 * k;
      b.writeUInt16LE(off, 4 + 2 * f.slot);
      const at = tStart + off;
      switch (f.kind) {
      case 'i8': b.writeInt8(f.value, at); break;
      case 'u8': b.writeUInt8(f.value, at); break;
      case 'i32': b.writeInt32LE(f.value, at); break;
      case 'u32': b.writeUInt32LE(f.value, at); break;
      case 'f32': b.writeFloatLE(f.value, at); break;
      default: refs.push({ at, to: f.to });
      }
    });
    return this.add(b, tStart, refs);
  }
  // Lays the objects out; returns the new file: root offset, the file
  // identifier of the original (bytes 4-7, "TFL3", which TFLite's verifier
  // checks), the objects, padding, the original bytes.
  finish(root, original) {
    let pos = 8;
    for (const o of this.objs) {
      pos += (4 - (pos % 4)) % 4;
      if (o.align8At !== undefined && (pos + o.align8At) % 8) pos += 4;
      o.pos = pos;
      pos += o.bytes.length;
    }
    const base = pos + ((16 - (pos % 16)) % 16);
    const out = Buffer.alloc(base + original.length);
    original.copy(out, base);
    out.writeUInt32LE(root.pos + root.anchor, 0);
    original.copy(out, 4, 4, 8);
    for (const o of this.objs) {
      o.bytes.copy(out, o.pos);
      for (const r of o.refs) {
        const from = o.pos + r.at;
        const h = r.to;
        if (!h || (!h.obj && h.old === undefined)) throw new Error('internal: unset reference');
        const to = h.obj ? h.obj.pos + h.obj.anchor : base + h.old;
        if (to <= from) throw new Error('internal: backward flatbuffer offset');
        out.writeUInt32LE(to - from, from);
      }
    }
    return { out, base };
  }
}

function smallestDivisor(n) {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return d;
  return n > 1 ? n : 0;
}

// Returns {model, extra, count (inputs appended), ops: {rewritten,
// depthwise, skipped} (op indices)}, or throws when the model cannot be
// rewritten.
export function referenceKernelsModel(buf) {
  const m = parseModel(buf);
  const r = reader(buf);
  const modelT = r.deref(0);
  const sgTables = r.vecTables(r.ref(modelT, 2));
  const sg = sgTables[0];
  const tensorTables = r.vecTables(r.ref(sg, 0));
  const codeTables = r.vecTables(r.ref(modelT, 1));
  for (const b of r.vecTables(r.ref(modelT, 4)))
    if (r.field(b, 1) && Number(buf.readBigUInt64LE(r.field(b, 1))) > 1)
      throw new Error('buffers outside the flatbuffer are not supported');

  const p = new Prefix();
  // opcode_index of an existing op (field absent = 0)
  const opcodeOf = (op) => { const f = r.field(op.table, 0); return f ? r.u32(f) : 0; };
  // The operator code of a builtin: an existing one, else a new one.
  const newCodes = [];
  const codeIndex = (builtin, version) => {
    const k = m.ops.find((o) => o.builtin === builtin);
    if (k) return opcodeOf(k);
    let j = newCodes.findIndex((c) => c.builtin === builtin);
    if (j < 0) { newCodes.push({ builtin, version }); j = newCodes.length - 1; }
    return codeTables.length + j;
  };

  // {shape, type (default int8), quant: {old} | {scale, zp} | none, name}
  const newTensors = [];
  const addTensor = (t) => { newTensors.push(t); return m.tensors.length + newTensors.length - 1; };
  const quantOf = (t) => {
    const q = r.ref(tensorTables[t], 4);
    if (!q) throw new Error(`tensor ${t} has no quantization parameters`);
    return q;
  };
  const zeroPointOf = (t) => {
    const q = quantOf(t);
    const f = q && r.field(q, 3);
    if (!f) return 0;
    const v = r.deref(f);
    return Number(buf.readBigInt64LE(v + 4));
  };

  const extraTensors = [];               // tensors made inputs, with their bytes
  const extraBytes = [];
  const inPlace = [];                    // buffer fields to zero
  const makeInput = (t, bytes) => {
    if (t < 0 || extraTensors.includes(t) || m.inputs.includes(t)) return;
    extraTensors.push(t);
    extraBytes.push(bytes);
  };
  const makeOldInput = (t) => {
    if (t < 0) return;
    const info = m.tensors[t];
    if (!info.buffer || m.buffers[info.buffer].length === 0) return;
    if (!extraTensors.includes(t)) inPlace.push(info.bufferField);
    makeInput(t, m.buffers[info.buffer]);
  };

  // The new operator list: {old: table} kept as it is, or one of {concat},
  // {reshape}, {conv} (an old CONV_2D with new inputs), {fcconv}.
  const plan = [];
  const ops = { rewritten: [], depthwise: [], skipped: [] };
  for (const op of m.ops) {
    const x = m.tensors[op.inputs[0]];
    const int8 = x && x.dtype === 'int8';
    if (int8 && op.builtin === DEPTHWISE_CONV_2D) {
      op.inputs.slice(1).forEach(makeOldInput);
      ops.depthwise.push(op.index);
      plan.push({ old: op.table });
      continue;
    }
    if (!int8 || (op.builtin !== CONV_2D && op.builtin !== FULLY_CONNECTED)) {
      plan.push({ old: op.table });
      continue;
    }
    const w = m.tensors[op.inputs[1]];
    const O = w.shape[0];
    if (op.builtin === CONV_2D && x.shape[3] !== w.shape[3]) {
      // Already grouped: already the reference kernel, once XNNPACK is out.
      op.inputs.slice(1).forEach(makeOldInput);
      ops.rewritten.push(op.index);
      plan.push({ old: op.table });
      continue;
    }
    const G = smallestDivisor(O);
    if (!G || w.dtype !== 'int8' || !m.buffers[w.buffer] || !m.buffers[w.buffer].length) {
      ops.skipped.push(op.index);
      plan.push({ old: op.table });
      continue;
    }
    ops.rewritten.push(op.index);
    const bias = op.inputs.length > 2 ? op.inputs[2] : -1;
    makeOldInput(bias);
    const tag = `ref${op.index}`;
    if (op.builtin === CONV_2D) {
      makeOldInput(op.inputs[1]);
      const xg = addTensor({ shape: [...x.shape.slice(0, 3), G * x.shape[3]],
                             quant: { old: quantOf(op.inputs[0]) }, name: `${tag}/xg` });
      plan.push({ concat: { inputs: Array(G).fill(op.inputs[0]), output: xg } });
      plan.push({ conv: { op, inputs: [xg, op.inputs[1], ...(bias >= 0 ? [bias] : [])] } });
      continue;
    }
    // FULLY_CONNECTED -> RESHAPE, CONCATENATION, CONV_2D 1x1, RESHAPE.
    const Cin = w.shape[1];
    const count = x.shape.reduce((a, d) => a * d, 1);
    const B = count / Cin;
    const y = op.outputs[0];
    const perTensor = w.scale.length === 1;
    const sx = x.scale[0], zx = zeroPointOf(op.inputs[0]);
    const qx = perTensor ? { scale: [Math.fround(sx * w.scale[0])], zp: [zx] }
                         : { old: quantOf(op.inputs[0]) };
    const qw = perTensor ? { scale: [1], zp: [0] } : { old: quantOf(op.inputs[1]) };
    const x4 = addTensor({ shape: [B, 1, 1, Cin], quant: qx, name: `${tag}/x4` });
    const xg = addTensor({ shape: [B, 1, 1, G * Cin], quant: qx, name: `${tag}/xg` });
    const w4 = addTensor({ shape: [O, 1, 1, Cin], quant: qw, name: `${tag}/w4` });
    const y4 = addTensor({ shape: [B, 1, 1, O], quant: { old: quantOf(y) }, name: `${tag}/y4` });
    makeInput(w4, m.buffers[w.buffer]);
    const fcOpt = r.ref(op.table, 4);
    const actField = fcOpt && r.field(fcOpt, 0);
    const act = actField ? buf.readInt8(actField) : 0;
    plan.push({ reshape: { input: op.inputs[0], output: x4, shape: [B, 1, 1, Cin] } });
    plan.push({ concat: { inputs: Array(G).fill(x4), output: xg } });
    plan.push({ fcconv: { inputs: [xg, w4, ...(bias >= 0 ? [bias] : [])], output: y4, act } });
    plan.push({ reshape: { input: y4, output: y, shape: m.tensors[y].shape } });
  }

  // The guard: RESHAPE(input 0, shape) -> an unused tensor, where shape is
  // one more subgraph input (fed with input 0's own shape).  A shape that
  // is not constant makes the output a dynamic tensor, and TFLite then
  // undoes every delegate that does not allow them, XNNPACK included
  // ("Cannot allow dynamic tensors due to previous delegation, resetting
  // to original execution plan", tensorflow/lite/core/subgraph.cc): every
  // op runs in TFLite's builtin kernels.
  if (m.inputs.length) {
    const x0 = m.inputs[0], xi = m.tensors[x0];
    const hasQuant = !!r.ref(tensorTables[x0], 4);
    const shapeT = addTensor({ shape: [xi.shape.length], type: 'int32', name: 'ref/guard_shape' });
    const sink = addTensor({ shape: xi.shape, type: xi.dtype, name: 'ref/guard',
                             quant: hasQuant ? { old: quantOf(x0) } : null });
    const bytes = Buffer.alloc(4 * xi.shape.length);
    xi.shape.forEach((d, k) => bytes.writeInt32LE(d, 4 * k));
    makeInput(shapeT, bytes);
    plan.push({ reshape: { inputs: [x0, shapeT], output: sink, shape: xi.shape } });
  }

  // Objects, parents first (references must point forward).
  const old = (pos) => ({ old: pos });
  const hCodes = {}, hSgs = {}, hSg0 = {};
  const root = p.table([
    { slot: 0, kind: 'u32', value: r.field(modelT, 0) ? r.u32(r.field(modelT, 0)) : 3 },
    { slot: 1, kind: 'ref', to: hCodes },
    { slot: 2, kind: 'ref', to: hSgs },
    ...[3, 4, 5, 6, 7, 8, 9].filter((s) => r.field(modelT, s))
        .map((s) => ({ slot: s, kind: 'ref', to: old(r.ref(modelT, s)) })),
  ]);
  // Operator codes: plan the new ones first (codeIndex registers them).
  const opcodes = plan.map((s) => {
    if (s.concat) return codeIndex(CONCATENATION, 2);
    if (s.reshape) return codeIndex(RESHAPE, 1);
    if (s.fcconv) return codeIndex(CONV_2D, 3);
    if (s.conv) return opcodeOf(s.conv.op);
    return -1;
  });
  const hNewCodes = newCodes.map(() => ({}));
  hCodes.obj = p.tables([...codeTables.map((t) => old(t)), ...hNewCodes]);
  newCodes.forEach((c, k) => {
    hNewCodes[k].obj = p.table([
      { slot: 0, kind: 'i8', value: Math.min(c.builtin, 127) },
      { slot: 2, kind: 'i32', value: c.version },
      { slot: 3, kind: 'i32', value: c.builtin },
    ]);
  });
  hSgs.obj = p.tables([hSg0, ...sgTables.slice(1).map((t) => old(t))]);
  const hTensors = {}, hInputs = {}, hOps = {};
  hSg0.obj = p.table([
    { slot: 0, kind: 'ref', to: hTensors },
    { slot: 1, kind: 'ref', to: hInputs },
    { slot: 2, kind: 'ref', to: old(r.ref(sg, 2)) },
    { slot: 3, kind: 'ref', to: hOps },
    ...(r.field(sg, 4) ? [{ slot: 4, kind: 'ref', to: old(r.ref(sg, 4)) }] : []),
  ]);
  const hNewTensors = newTensors.map(() => ({}));
  hTensors.obj = p.tables([...tensorTables.map((t) => old(t)), ...hNewTensors]);
  hInputs.obj = p.ints([...m.inputs, ...extraTensors]);
  const hOpList = plan.map((s) => (s.old ? old(s.old) : {}));
  hOps.obj = p.tables(hOpList);
  newTensors.forEach((t, k) => {
    const hShape = {}, hName = {};
    const hQuant = !t.quant ? null : t.quant.old ? old(t.quant.old) : {};
    hNewTensors[k].obj = p.table([
      { slot: 0, kind: 'ref', to: hShape },
      { slot: 1, kind: 'i8', value: TYPE_CODE[t.type || 'int8'] },
      { slot: 3, kind: 'ref', to: hName },
      ...(hQuant ? [{ slot: 4, kind: 'ref', to: hQuant }] : []),
    ]);
    hShape.obj = p.ints(t.shape);
    hName.obj = p.string(t.name);
    if (hQuant && !t.quant.old) {
      const hScale = {}, hZp = {};
      hQuant.obj = p.table([{ slot: 2, kind: 'ref', to: hScale },
                            { slot: 3, kind: 'ref', to: hZp }]);
      hScale.obj = p.floats(t.quant.scale);
      hZp.obj = p.longs(t.quant.zp);
    }
  });
  plan.forEach((s, k) => {
    if (s.old) return;
    const hIn = {}, hOpt = {};
    const hOut = s.conv ? old(r.ref(s.conv.op.table, 2)) : {};
    const optType = s.concat ? OPT_CONCAT : s.reshape ? OPT_RESHAPE : OPT_CONV;
    if (s.conv) Object.assign(hOpt, old(r.ref(s.conv.op.table, 4)));
    hOpList[k].obj = p.table([
      { slot: 0, kind: 'u32', value: opcodes[k] },
      { slot: 1, kind: 'ref', to: hIn },
      { slot: 2, kind: 'ref', to: hOut },
      { slot: 3, kind: 'u8', value: optType },
      { slot: 4, kind: 'ref', to: hOpt },
    ]);
    const spec = s.concat || s.reshape || s.conv || s.fcconv;
    hIn.obj = p.ints(spec.inputs || [spec.input]);
    if (!s.conv) hOut.obj = p.ints([spec.output]);
    if (s.concat) {
      hOpt.obj = p.table([{ slot: 0, kind: 'i32', value: 3 }]);
    } else if (s.reshape) {
      const hShape = {};
      hOpt.obj = p.table([{ slot: 0, kind: 'ref', to: hShape }]);
      hShape.obj = p.ints(s.reshape.shape);
    } else if (s.fcconv) {
      hOpt.obj = p.table([
        { slot: 0, kind: 'i8', value: 1 },                // padding VALID
        { slot: 1, kind: 'i32', value: 1 }, { slot: 2, kind: 'i32', value: 1 },
        { slot: 3, kind: 'i8', value: s.fcconv.act },
        { slot: 4, kind: 'i32', value: 1 }, { slot: 5, kind: 'i32', value: 1 },
      ]);
    }
  });
  const { out, base } = p.finish(root, buf);
  for (const f of inPlace) out.writeUInt32LE(0, base + f);
  return { model: out, extra: Buffer.concat(extraBytes), count: extraTensors.length, ops };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of process.argv.slice(2)) {
    try {
      const { ops } = referenceKernelsModel(readFileSync(path));
      process.stdout.write(`${path} ${ops.rewritten.length} ${ops.depthwise.length} ` +
                           `${ops.skipped.length}\n`);
    } catch (e) {
      process.stdout.write(`${path} error: ${String(e.message).split('\n')[0]}\n`);
    }
  }
}
