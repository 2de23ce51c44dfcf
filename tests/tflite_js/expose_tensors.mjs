#!/usr/bin/env node
// Makes every operator output of subgraph 0 a model output, so that
// run_tflite.mjs (and `tinyml run`) return the intermediate results too.
//
//   node expose_tensors.mjs MODEL.tflite OUT.tflite
//
// Prints the new output list as JSON, [{op, name, tensor}] in execution
// order (TFLite runs operators in their stored order), then the model's
// original outputs that no op produces (op -1).  See tflite_fb.mjs for how
// the file is patched without moving any byte.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseModel, patchModel } from './tflite_fb.mjs';

const [inPath, outPath] = process.argv.slice(2);
if (!outPath) {
  process.stderr.write('usage: expose_tensors.mjs MODEL.tflite OUT.tflite\n');
  process.exit(2);
}
const m = parseModel(readFileSync(inPath));
const list = [];
const seen = new Set();
for (const op of m.ops)
  for (const t of op.outputs)
    if (t >= 0 && !seen.has(t)) {
      seen.add(t);
      list.push({ op: op.index, name: op.name, tensor: t });
    }
for (const t of m.outputs)
  if (!seen.has(t)) {
    seen.add(t);
    list.push({ op: -1, name: 'input', tensor: t });
  }
writeFileSync(outPath, patchModel(m, { outputs: list.map((e) => e.tensor) }));
process.stdout.write(JSON.stringify(list) + '\n');
