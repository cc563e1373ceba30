#!/usr/bin/env node
// Runs an ONNX file once with onnxruntime-node (the project's own runtime; Debian has no Python
// onnxruntime). Used by export_onnx.py for its parity check.
//
//   node triton/ort_run.js MODEL.onnx DIR [OPTIMIZED.onnx]
//
// OPTIMIZED.onnx (optional): where to save the graph as ONNX Runtime optimized it (what it really
// runs: fused int8 kernels, layout transposes), for the tests that check what ORT fuses.
//
// DIR/inputs.json: [{ "name", "type": "float32"|"uint8"|..., "dims": [..], "file": "mel.bin" }]
// (raw little-endian tensor bytes, row-major). Writes DIR/<output>.bin per output and
// DIR/outputs.json: [{ "name", "type", "dims", "file" }]. Exit 1 with one line on stderr on failure.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array,
  float16: Uint16Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float64: Float64Array,
};

function readTensor(dir, spec) {
  const Ctor = ARRAYS[spec.type];
  if (!Ctor) throw new Error(`unsupported input type ${spec.type}`);
  const buf = fs.readFileSync(path.join(dir, spec.file));
  // copy into an aligned buffer: the file's Buffer may sit at an odd offset of Node's pool
  const aligned = new ArrayBuffer(buf.length);
  new Uint8Array(aligned).set(buf);
  return new ort.Tensor(spec.type, new Ctor(aligned), spec.dims);
}

async function main() {
  const [modelPath, dir, optimized] = process.argv.slice(2);
  if (!modelPath || !dir) throw new Error('usage: node ort_run.js MODEL.onnx DIR [OPTIMIZED.onnx]');
  const specs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(optimized ? { optimizedModelFilePath: optimized, logSeverityLevel: 3 } : {}),
  });
  const feeds = {};
  for (const spec of specs) feeds[spec.name] = readTensor(dir, spec);
  const results = await session.run(feeds);
  const written = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = `${name}.bin`;
    const data = t.data;
    fs.writeFileSync(path.join(dir, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    written.push({ name, type: t.type, dims: t.dims.map(Number), file });
  }
  fs.writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(written));
  await session.release();
}

main().catch((err) => {
  process.stderr.write(`ort_run: ${String(err && err.message ? err.message : err).split('\n')[0]}\n`);
  process.exit(1);
});
