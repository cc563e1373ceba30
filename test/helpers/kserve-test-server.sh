#!/usr/bin/env bash
# Compiles and runs the KServe v2 test server (Triton stand-in on CPU) standalone.
#   bash test/helpers/kserve-test-server.sh                  # serves model_repository/wav2lip/1/model.onnx
#   bash test/helpers/kserve-test-server.sh --model tiny     # the tiny contract model (mouth = 255 - face)
#   bash test/helpers/kserve-test-server.sh --port 8001 --threads 2 --delay-ms 0
#   bash test/helpers/kserve-test-server.sh --model tiny --dynamic-batching --queue-delay-ms 2 --exec-ms 40   # batches like Triton
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/tmp/kserve-test-server"   # inside the repo (gitignored) so gateway/proto is found by walking up
cd "$ROOT"
npx tsc --outDir "$OUT" --rootDir "$ROOT" --module commonjs --target ES2022 --esModuleInterop --skipLibCheck \
  --experimentalDecorators --emitDecoratorMetadata --types node test/helpers/kserve-test-server.main.ts
cp test/helpers/kserve-test-server.tiny-model.py "$OUT/test/helpers/"
exec node "$OUT/test/helpers/kserve-test-server.main.js" "$@"
