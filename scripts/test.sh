#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Node 20: installs what it needs
# (apt packages, npm ci, build, demo model), then runs the Python toolchain tests and the
# unit, medium (real ffmpeg/sharp/onnxruntime) and e2e (HTTP) layers.
source "$(dirname "$0")/lib/ensure-deps.sh"
cd "$REPO_ROOT"
ensure_apt "${APT_RUNTIME[@]}" "${APT_MODEL[@]}" "${APT_TEST[@]}"
ensure_node_modules
ensure_build
ensure_model

export CI="${CI:-true}" # jest: no watch mode, no interactive output
status=0
run() { say "$1"; shift; "$@" || status=1; }
run "python: model toolchain tests" /usr/bin/python3 -m pytest -q -p no:cacheprovider triton/tests
run "jest: unit" npx jest --config test/jest.unit.config.js
run "jest: medium (real ffmpeg, sharp, onnxruntime)" npx jest --config test/jest.medium.config.js
run "jest: e2e (HTTP)" npx jest --config test/jest.e2e.config.js
if [ $status -eq 0 ]; then say "all test layers passed"; else say "some test layers FAILED"; fi
exit $status
