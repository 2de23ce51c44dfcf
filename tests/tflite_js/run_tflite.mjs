#!/usr/bin/env node
// Runs one inference of a .tflite model in TensorFlow Lite itself: the
// interpreter compiled to WebAssembly that ships inside the npm package
// @tensorflow/tfjs-tflite (0.0.1-alpha.10, pinned in package-lock.json).
//
//   node run_tflite.mjs MODEL IN.bin OUT.bin [--random SEED] [--variant V]
//                       [--info] [--reference-kernels]
//   node run_tflite.mjs --batch JOBS [--variant V] [--reference-kernels]
//
// IN.bin:  all inputs, raw, concatenated in model dtype (tinyml's .bin
//          convention, as the goldens' seedN.input.bin); with --random SEED
//          the script first WRITES IN.bin from the goldens' 32-bit LCG
//          (same bytes as `tinyml run --random --seed SEED`), then runs it.
// OUT.bin: all outputs, raw, concatenated in model dtype.
// --variant: which build of the interpreter to load from the package's
//          wasm/ directory: "plain" (default, tflite_web_api_cc.wasm) or
//          "simd" (tflite_web_api_cc_simd.wasm).  The threaded builds need
//          browser workers and are not supported here.
// --info:  prints the inputs and outputs (id, dtype, shape, name) as JSON
//          on stdout.
// --batch JOBS: many models with the interpreter loaded once (loading the
//          3.5 MB wasm is most of a run's second); JOBS has one line per
//          model: "MODEL IN.bin OUT.bin INFO.json [SEED]" (SEED as
//          --random); the --info JSON goes to INFO.json, or a one-line
//          error to INFO.json.err; exit 1 when any job failed.
// --reference-kernels: runs the model rewritten by reference_kernels.mjs
//          so that TFLite computes int8 CONV_2D and FULLY_CONNECTED with its
//          reference kernels and int8 DEPTHWISE_CONV_2D with its builtin
//          kernel instead of XNNPACK (same math, same integer results as
//          the reference kernels); IN.bin, OUT.bin and --info stay those of
//          the model as given (the constant filters and biases the rewrite
//          turns into inputs are fed here); --info adds "reference":
//          {rewritten, depthwise, skipped} op counts.
//
// The package is a browser package: its client (wasm/tflite_web_api_client
// .js) fetches the wasm over HTTP.  We skip the client and call the
// emscripten module factory of wasm/tflite_web_api_cc*.js directly with the
// wasm bytes (Module.wasmBinary), then use the embind classes the client
// uses: TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, len, options),
// runner.GetInputs()/GetOutputs() (vectors of TensorInfo whose data() is a
// typed array over the wasm heap) and runner.Infer().
//
// Note: this interpreter applies TFLite's default XNNPACK delegate (it
// prints "Created TensorFlow Lite XNNPACK delegate for CPU"); there is no
// option to turn it off in this build.  XNNPACK (and the builtin int8
// CONV_2D / FULLY_CONNECTED, through ruy) may round int8 results
// differently from the reference kernels by 1 LSB per op; see
// --reference-kernels.
//
// Exit codes: 0 success, 1 TFLite failed to load or run the model, 2 bad
// usage or bad input.  Errors are one line on stderr: "run_tflite: ...".
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceKernelsModel } from './reference_kernels.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

function die(code, msg) {
  process.stderr.write(`run_tflite: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = { pos: [], seed: null, variant: 'plain', info: false, batch: null,
              reference: false };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (s === '--random') {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 4294967295)
        die(2, `--random needs an integer in [0, 4294967295], got '${v ?? ''}'`);
      a.seed = Number(v);
    } else if (s === '--variant') {
      a.variant = argv[++i];
      if (a.variant !== 'plain' && a.variant !== 'simd')
        die(2, `--variant is plain or simd, got '${a.variant ?? ''}'`);
    } else if (s === '--batch') {
      a.batch = argv[++i];
      if (a.batch === undefined) die(2, '--batch needs FILE');
    } else if (s === '--info') {
      a.info = true;
    } else if (s === '--reference-kernels') {
      a.reference = true;
    } else if (s.startsWith('--')) {
      die(2, `unknown option '${s}'`);
    } else {
      a.pos.push(s);
    }
  }
  if (a.batch ? a.pos.length !== 0 : a.pos.length !== 3)
    die(2, 'usage: run_tflite.mjs (MODEL IN.bin OUT.bin [--random SEED] ' +
        '[--info] | --batch FILE) [--variant plain|simd] [--reference-kernels]');
  return a;
}

const BYTES = { float32: 4, int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4,
                uint32: 4, float64: 8 };

// The goldens' input generator (tools/lib/host_interp.h): state = seed;
// before each value state = state * 1664525 + 1013904223 (mod 2^32);
// int8: (state >> 24) - 128; float32: (state >> 8) * 2^-23 - 1.
function fillRandom(infos, seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const parts = [];
  for (const t of infos) {
    const buf = Buffer.alloc(t.count * BYTES[t.dtype]);
    for (let k = 0; k < t.count; k++) {
      const s = next();
      if (t.dtype === 'int8') buf.writeInt8((s >>> 24) - 128, k);
      else if (t.dtype === 'float32')
        buf.writeFloatLE(Math.fround((s >>> 8) * 2 ** -23 - 1), 4 * k);
      else throw new Fail(2, `--random: input '${t.name}' is ${t.dtype} (int8 and ` +
               'float32 only, as the goldens)');
    }
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

function writeAtomic(path, bytes) {
  const tmp = `${path}.tmp.${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function vectorToArray(v) {
  const out = [];
  for (let i = 0; i < v.size(); i++) out.push(v.get(i));
  v.delete();
  return out;
}

function describe(t) {
  const shape = t.shape === '' ? [] : t.shape.split(',').map(Number);
  const count = shape.reduce((p, d) => p * d, 1);
  return { id: t.id, name: t.name, dtype: t.dataType, shape, count };
}

// Copies raw bytes into / out of a tensor through its typed-array view.
function tensorBytes(t) {
  const d = t.data();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

class Fail extends Error {
  constructor(code, msg) { super(msg); this.code = code; }
}

async function loadTFLite(variant) {
  const base = variant === 'simd' ? 'tflite_web_api_cc_simd'
                                  : 'tflite_web_api_cc';
  let wasmDir;
  try {
    wasmDir = join(dirname(require.resolve(
        '@tensorflow/tfjs-tflite/package.json')), 'wasm');
  } catch (e) {
    throw new Fail(2, `@tensorflow/tfjs-tflite is not installed in ${here} ` +
                   '(run ensure_deps.sh or npm ci)');
  }
  const factory = require(join(wasmDir, `${base}.js`));
  const log = [];
  const mod = await factory({
    wasmBinary: readFileSync(join(wasmDir, `${base}.wasm`)),
    print: (s) => log.push(s),
    printErr: (s) => log.push(s),
  });
  return { mod, log };
}

// One model, one inference.  Returns the {inputs, outputs} description.
function runOne(tfl, modelPath, inPath, outPath, seed, reference) {
  const { mod, log } = tfl;
  log.length = 0;
  const flat = () => log.join(' | ').replace(/\s+/g, ' ').trim();
  let model;
  try {
    model = readFileSync(modelPath);
  } catch (e) {
    throw new Fail(2, `${modelPath}: ${e.message}`);
  }
  // With --reference-kernels the interpreter gets the rewritten model,
  // whose inputs are the model's own followed by the constants made inputs.
  let extra = null, ops = null;
  if (reference) {
    let r;
    try {
      r = referenceKernelsModel(model);
    } catch (e) {
      throw new Fail(1, `${modelPath}: --reference-kernels: ${e.message}`);
    }
    model = r.model;
    extra = r.extra;
    ops = { rewritten: r.ops.rewritten.length, depthwise: r.ops.depthwise.length,
            skipped: r.ops.skipped.length, count: r.count };
  }
  const ptr = mod._malloc(model.length);
  mod.HEAPU8.set(model, ptr);
  const status = mod.TFLiteWebModelRunner.CreateFromBufferAndOptions(
      ptr, model.length,
      { numThreads: -1, enableProfiling: false, maxProfilingBufferEntries: 1024 });
  if (!status.ok()) {
    const why = String(status.errorMessage()).replace(/\s+/g, ' ').trim();
    status.delete();
    mod._free(ptr);
    throw new Fail(1, `${modelPath}: TFLite refused the model: ${why}` +
                   (flat() ? ` (${flat()})` : ''));
  }
  const runner = status.value();
  status.delete();
  const allInputs = vectorToArray(runner.GetInputs());
  const outputs = vectorToArray(runner.GetOutputs());
  const own = extra ? allInputs.length - ops.count : allInputs.length;
  const inputs = allInputs.slice(0, own);
  const release = () => {
    for (const t of [...allInputs, ...outputs]) t.delete();
    runner.delete();
    mod._free(ptr);
  };
  try {
    const info = { inputs: inputs.map(describe), outputs: outputs.map(describe) };
    if (ops) {
      const { count, ...rest } = ops;
      info.reference = rest;
    }
    for (const t of [...info.inputs, ...info.outputs])
      if (!(t.dtype in BYTES)) throw new Fail(1, `tensor '${t.name}': dtype ${t.dtype}`);
    let input;
    if (seed !== null) {
      input = fillRandom(info.inputs, seed);
      writeAtomic(inPath, input);
    } else {
      try {
        input = readFileSync(inPath);
      } catch (e) {
        throw new Fail(2, `${inPath}: ${e.message}`);
      }
    }
    const want = info.inputs.reduce((s, t) => s + t.count * BYTES[t.dtype], 0);
    if (input.length !== want)
      throw new Fail(2, `${inPath}: ${input.length} bytes, expected ${want} ` +
                     `(all ${info.inputs.length} inputs concatenated in model dtype)`);
    let off = 0;
    for (const t of inputs) {
      const dst = tensorBytes(t);
      dst.set(input.subarray(off, off + dst.length));
      off += dst.length;
    }
    if (extra) {
      off = 0;
      for (const t of allInputs.slice(own)) {
        const dst = tensorBytes(t);
        if (off + dst.length > extra.length)
          throw new Fail(1, `${modelPath}: --reference-kernels: constants do not fill input '${t.name}'`);
        dst.set(extra.subarray(off, off + dst.length));
        off += dst.length;
      }
      if (off !== extra.length)
        throw new Fail(1, `${modelPath}: --reference-kernels: ${extra.length - off} constant bytes left over`);
    }
    if (!runner.Infer())
      throw new Fail(1, `${modelPath}: Infer failed${flat() ? `: ${flat()}` : ''}`);
    // data() again after Infer: the heap may have grown and moved.
    writeAtomic(outPath, Buffer.concat(outputs.map((t) => Buffer.from(tensorBytes(t)))));
    return info;
  } finally {
    release();
  }
}

// --batch FILE: one job per line, "MODEL IN OUT INFO.json [SEED]", with
// the interpreter loaded once; a failing job writes its one-line error to
// INFO.json.err instead of INFO.json and the others still run.
async function runBatch(a) {
  const tfl = await loadTFLite(a.variant);
  const lines = readFileSync(a.batch, 'utf8').split('\n').filter((l) => l.trim());
  let failures = 0;
  for (const line of lines) {
    const [model, inPath, outPath, infoPath, seed] = line.trim().split(/\s+/);
    try {
      const info = runOne(tfl, model, inPath, outPath,
                          seed === undefined ? null : Number(seed), a.reference);
      writeAtomic(infoPath, JSON.stringify({ ...info, variant: a.variant }) + '\n');
    } catch (e) {
      failures++;
      writeAtomic(`${infoPath}.err`, `run_tflite: ${String(e.message).split('\n')[0]}\n`);
    }
  }
  return failures ? 1 : 0;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.batch) return runBatch(a);
  const [modelPath, inPath, outPath] = a.pos;
  const tfl = await loadTFLite(a.variant);
  const info = runOne(tfl, modelPath, inPath, outPath, a.seed, a.reference);
  if (a.info)
    process.stdout.write(JSON.stringify({ ...info, variant: a.variant }) + '\n');
  return 0;
}

// Node 20 sometimes never exits after this script has finished (seen with
// vww_96_int8 in about 1 run of 3, idle at 0% CPU, even after an explicit
// process.exit; not with --single-threaded, which keeps V8's wasm
// compilation on the main thread).  So the script re-runs itself under
// --single-threaded when it was started without it.
if (!process.execArgv.includes('--single-threaded')) {
  const r = spawnSync(process.execPath,
                      ['--single-threaded', ...process.execArgv,
                       fileURLToPath(import.meta.url),
                       ...process.argv.slice(2)],
                      { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
} else {
  main().then((code) => process.exit(code),
              (e) => die(e instanceof Fail ? e.code : 1,
                         String(e && e.message || e).split('\n')[0]));
}
