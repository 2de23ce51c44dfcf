// Minimal TFLite flatbuffer reading and patching for the tflite_js tests
// (schema: tensorflow/compiler/mlir/lite/schema/schema.fbs).  Patches never
// move existing bytes: new int32 vectors are appended at the end and a
// field re-pointed at them (flatbuffer offsets are unsigned and forward,
// and every table lies before the end of the file).
//   Model:    version 0, operator_codes 1, subgraphs 2, description 3,
//             buffers 4
//   SubGraph: tensors 0, inputs 1, outputs 2, operators 3
//   Operator: opcode_index 0, inputs 1, outputs 2
//   OperatorCode: deprecated_builtin_code 0 (int8), custom_code 1,
//             version 2, builtin_code 3 (int32)
//   Tensor:   shape 0, type 1, buffer 2, name 3, quantization 4
//   Buffer:   data 0 (ubyte vector), offset 1, size 2 (ulong; data
//             outside the flatbuffer, for models over 2 GB)
//   QuantizationParameters: min 0, max 1, scale 2 (float), zero_point 3
//             (long)

const NAMES = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE', 9: 'FULLY_CONNECTED',
  14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU', 21: 'RELU6',
  22: 'RESHAPE', 25: 'SOFTMAX', 28: 'TANH', 34: 'PAD', 39: 'TRANSPOSE',
  40: 'MEAN', 41: 'SUB', 82: 'REDUCE_MAX', 98: 'LEAKY_RELU', 111: 'ELU',
  114: 'QUANTIZE', 117: 'HARD_SWISH',
};

export function opName(code) {
  return NAMES[code] || `builtin ${code}`;
}

// Flatbuffer primitives over a Buffer: little-endian reads, the position
// of a table's field (0 when absent, per its vtable), and an offset's target.
export function fbAccess(buf) {
  const u32 = (p) => buf.readUInt32LE(p);
  const i32 = (p) => buf.readInt32LE(p);
  const field = (t, slot) => {
    const vt = t - i32(t);
    const off = 4 + 2 * slot;
    if (off >= buf.readUInt16LE(vt)) return 0;
    const o = buf.readUInt16LE(vt + off);
    return o ? t + o : 0;
  };
  const deref = (p) => p + u32(p);
  return { u32, i32, field, deref };
}

export function parseModel(buf) {
  const { u32, i32, field, deref } = fbAccess(buf);
  const ints = (f) => {
    if (!f) return [];
    const v = deref(f);
    const out = [];
    for (let k = 0; k < u32(v); k++) out.push(i32(v + 4 + 4 * k));
    return out;
  };
  const tables = (f) => {
    if (!f) return [];
    const v = deref(f);
    const out = [];
    for (let k = 0; k < u32(v); k++) out.push(deref(v + 4 + 4 * k));
    return out;
  };
  const floats = (f) => {
    if (!f) return [];
    const v = deref(f);
    const out = [];
    for (let k = 0; k < u32(v); k++) out.push(buf.readFloatLE(v + 4 + 4 * k));
    return out;
  };
  const model = deref(0);
  const codes = tables(field(model, 1)).map((c) => {
    const fb = field(c, 3), fd = field(c, 0);
    const code = fb ? i32(fb) : 0;
    const dep = fd ? buf.readInt8(fd) : 0;
    return Math.max(code, dep);
  });
  const sgs = tables(field(model, 2));
  if (sgs.length < 1) throw new Error('no subgraph');
  const sg = sgs[0];
  const TYPES = ['float32', 'float16', 'int32', 'uint8', 'int64', 'string',
                 'bool', 'int16', 'complex64', 'int8'];
  const tensors = tables(field(sg, 0)).map((t) => {
    const ft = field(t, 1), q = field(t, 4), fb = field(t, 2);
    const qt = q ? deref(q) : 0;
    return { shape: ints(field(t, 0)),
             dtype: TYPES[ft ? buf.readInt8(ft) : 0] || 'other',
             scale: qt ? floats(field(qt, 2)) : [],
             buffer: fb ? u32(fb) : 0, bufferField: fb };
  });
  // Constant data per buffer index (empty when the buffer holds none).
  const buffers = tables(field(model, 4)).map((b) => {
    const fd = field(b, 0), fo = field(b, 1), fs = field(b, 2);
    if (fd) {
      const v = deref(fd);
      return buf.subarray(v + 4, v + 4 + u32(v));
    }
    if (fo && fs) {
      const o = Number(buf.readBigUInt64LE(fo)), n = Number(buf.readBigUInt64LE(fs));
      if (o > 1) return buf.subarray(o, o + n);
    }
    return buf.subarray(0, 0);
  });
  const opsField = field(sg, 3);
  const ops = tables(opsField).map((op, k) => {
    const fi = field(op, 0);
    const idx = fi ? u32(fi) : 0;
    return { index: k, table: op, builtin: codes[idx],
             name: opName(codes[idx]),
             inputs: ints(field(op, 1)), outputs: ints(field(op, 2)) };
  });
  return { buf, sg, opsField, tensors, buffers, inputsField: field(sg, 1),
           outputsField: field(sg, 2), inputs: ints(field(sg, 1)),
           outputs: ints(field(sg, 2)), ops };
}

// Per model output: the scale of the int8/uint8/int16 tensor a float32
// output is dequantized from (a DEQUANTIZE op's input), else 0.
export function dequantizedScales(m) {
  return m.outputs.map((t) => {
    const op = m.ops.find((o) => o.outputs.includes(t));
    if (!op || op.name !== 'DEQUANTIZE' || m.tensors[t].dtype !== 'float32') return 0;
    const src = m.tensors[op.inputs[0]];
    return src && src.scale.length === 1 && src.dtype !== 'float16' ? src.scale[0] : 0;
  });
}

// Returns a copy of the model with subgraph 0's inputs and/or outputs
// replaced, and (when keepOp is a number) only that operator left.
export function patchModel(m, { inputs, outputs, keepOp }) {
  const parts = [m.buf];
  let size = m.buf.length;
  const appended = [];
  for (const [f, list] of [[m.inputsField, inputs], [m.outputsField, outputs]]) {
    if (!list) continue;
    if (!f) throw new Error('subgraph 0 lacks an inputs or outputs field');
    const pad = (4 - (size % 4)) % 4;
    const v = Buffer.alloc(pad + 4 + 4 * list.length);
    v.writeUInt32LE(list.length, pad);
    list.forEach((t, k) => v.writeInt32LE(t, pad + 4 + 4 * k));
    appended.push([f, size + pad]);
    parts.push(v);
    size += v.length;
  }
  const out = Buffer.concat(parts);
  for (const [f, pos] of appended) out.writeUInt32LE(pos - f, f);
  if (typeof keepOp === 'number') {
    // Operators vector in place: length 1, element 0 -> the kept op.  The
    // op tables follow the vector (flatbuffers are built back to front).
    const v = m.opsField + out.readUInt32LE(m.opsField);
    const rel = m.ops[keepOp].table - (v + 4);
    if (rel <= 0) throw new Error('operator table precedes the operators vector');
    out.writeUInt32LE(1, v);
    out.writeUInt32LE(rel, v + 4);
  }
  return out;
}
