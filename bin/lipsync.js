#!/usr/bin/env node
// Entry point of the `lipsync` CLI: runs the compiled TypeScript in dist/ (npm run build).
'use strict';
const path = require('path');
const fs = require('fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'lipsync.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('error: the gateway is not built yet; run `npm run build` (or `bash scripts/demo.sh`) first\n');
  process.exit(1);
}
require(entry)
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`error INTERNAL: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
