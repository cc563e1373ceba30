#!/usr/bin/env node
// Activation ranges for post-training quantization, computed with onnxruntime-node (Debian has no
// Python onnxruntime). The model must list every tensor to calibrate as a graph output.
//
//   node triton/ort_calibrate.js MODEL.onnx DIR
//
// DIR/inputs.json: { "batch": B, "inputs": [{ "name", "type", "dims": [N, ...], "file" }],
// "histograms": optional { "<output name>": [lo, hi] }, "bins": optional K } (raw little-endian
// row-major bytes, all with the same N). Runs the inputs B frames at a time and writes
// DIR/ranges.json: { "<output name>": [min, max] } over all frames, or, when "histograms" is given,
// DIR/histograms.json: { "<output name>": [K counts over [lo, hi], values outside counted in the end
// bins] }. Only these summaries are kept, so memory stays one batch of activations whatever N is.
// Exit 1 with one line on stderr on failure.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ARRAYS = { float32: Float32Array, uint8: Uint8Array };

function readAll(dir, spec) {
  const Ctor = ARRAYS[spec.type];
  if (!Ctor) throw new Error(`unsupported input type ${spec.type}`);
  const buf = fs.readFileSync(path.join(dir, spec.file));
  const aligned = new ArrayBuffer(buf.length); // the Buffer may sit at an odd offset of Node's pool
  new Uint8Array(aligned).set(buf);
  return new Ctor(aligned);
}

async function main() {
  const [modelPath, dir] = process.argv.slice(2);
  if (!modelPath || !dir) throw new Error('usage: node ort_calibrate.js MODEL.onnx DIR');
  const { batch, inputs, histograms, bins = 2048 } = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const n = inputs[0].dims[0];
  const data = inputs.map((spec) => ({ spec, all: readAll(dir, spec), per: spec.dims.slice(1).reduce((a, b) => a * b, 1) }));
  const ranges = {};
  const counts = {};
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const feeds = {};
    for (const { spec, all, per } of data) {
      feeds[spec.name] = new ort.Tensor(spec.type, all.slice(start * per, (start + count) * per), [count, ...spec.dims.slice(1)]);
    }
    const results = await session.run(feeds);
    for (const name of session.outputNames) {
      const values = results[name].data;
      if (histograms) {
        const [lo, hi] = histograms[name];
        const c = (counts[name] ??= new Float64Array(bins));
        const k = bins / Math.max(hi - lo, 1e-12);
        for (let i = 0; i < values.length; i++) {
          const b = Math.floor((values[i] - lo) * k);
          c[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
        }
        continue;
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const prev = ranges[name];
      ranges[name] = prev ? [Math.min(prev[0], lo), Math.max(prev[1], hi)] : [lo, hi];
    }
  }
  if (histograms) {
    const out = {};
    for (const [name, c] of Object.entries(counts)) out[name] = Array.from(c);
    fs.writeFileSync(path.join(dir, 'histograms.json'), JSON.stringify(out));
  } else {
    fs.writeFileSync(path.join(dir, 'ranges.json'), JSON.stringify(ranges));
  }
  await session.release();
}

main().catch((err) => {
  process.stderr.write(`ort_calibrate: ${String(err && err.message ? err.message : err).split('\n')[0]}\n`);
  process.exit(1);
});
