#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Node 22 or 24: installs what it needs
# (apt packages, npm ci, build, demo model), then runs the Python toolchain tests and the
# unit, medium (real ffmpeg/sharp/onnxruntime) and e2e (HTTP) layers; on an older node, unit and
# medium once more under Node 24 (fetched from the npm registry once, cached in ~/.cache).
source "$(dirname "$0")/lib/ensure-deps.sh"
cd "$REPO_ROOT"
ensure_apt "${APT_RUNTIME[@]}" "${APT_MODEL[@]}" "${APT_TEST[@]}"
ensure_node_modules
ensure_build
ensure_model

export CI="${CI:-true}" # jest: no watch mode, no interactive output
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
run() { say "$1"; shift; "$@" || status=1; }
run "lint: eslint (type-checked) + prettier --check" npm run --silent lint
run "python: model toolchain tests" /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$results/python.xml" triton/tests
for layer in unit medium e2e; do
  run "jest: $layer" npx jest --config "test/jest.$layer.config.js" --json --outputFile="$results/$layer.json"
done
# the unit and medium layers again under Node 24 when this machine's node is older (CI checks both)
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  ensure_node24
  for layer in unit medium; do
    run "jest under Node $("$NODE24" -v): $layer" env PATH="$(dirname "$NODE24"):$PATH" "$NODE24" node_modules/jest/bin/jest.js \
      --config "test/jest.$layer.config.js" --json --outputFile="$results/$layer-node24.json"
  done
fi

# one closing line over every layer: "tests: N passed, N failed"
node -e '
  const fs = require("fs"), dir = process.argv[1];
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(`${dir}/${f}`, "utf8");
    if (f.endsWith(".json")) { const r = JSON.parse(text); passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0); }
    else { const m = /<testsuite[^>]*\btests="(\d+)"[^>]*/.exec(text) || []; const t = Number(m[1] || 0);
      const n = (k) => Number((new RegExp(`\\b${k}="(\\d+)"`).exec(m[0] || "") || [])[1] || 0);
      passed += t - n("failures") - n("errors") - n("skipped"); failed += n("failures") + n("errors"); }
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$results" || status=1
if [ $status -eq 0 ]; then say "all test layers passed"; else say "some test layers FAILED"; fi
exit $status
