#!/usr/bin/env bash
# Entrypoint of triton/Dockerfile: prepares the serving repository for the `wav2lip` model, building
# the TensorRT engine on first start when it is missing or stale, then execs tritonserver.
#
#   MODEL_SOURCE     the repo's model_repository, mounted read-only (needs wav2lip/1/model.onnx)
#   ENGINE_DIR       persistent, writable engine cache (model.plan + stamp), a named volume
#   RUN_REPOSITORY   generated repository tritonserver serves (config + links)
#   WAV2LIP_BACKEND  tensorrt (default) | onnx (Triton's ONNX Runtime backend, no engine build)
# Extra arguments are passed to tritonserver.
set -euo pipefail

MODEL_SOURCE="${MODEL_SOURCE:-/models}"
ENGINE_DIR="${ENGINE_DIR:-/engines}"
RUN_REPOSITORY="${RUN_REPOSITORY:-/var/run/wav2lip/model_repository}"
BACKEND="${WAV2LIP_BACKEND:-tensorrt}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "wav2lip-entrypoint: $1" >&2; exit 1; }

SRC="$MODEL_SOURCE/wav2lip"
[[ -f "$SRC/1/model.onnx" ]] || die "$SRC/1/model.onnx missing: run 'bash scripts/setup-model.sh' on the host and mount model_repository at $MODEL_SOURCE"

DEST="$RUN_REPOSITORY/wav2lip"
case "$RUN_REPOSITORY" in /|"$MODEL_SOURCE"|"$ENGINE_DIR") die "RUN_REPOSITORY=$RUN_REPOSITORY would be wiped; use a directory of its own" ;; esac
rm -rf "$RUN_REPOSITORY"  # regenerated on every start
mkdir -p "$DEST/1"

case "$BACKEND" in
  tensorrt)
    onnx="$SRC/1/model.onnx"
    [[ -f "$SRC/1/model.fp16.onnx" ]] && onnx="$SRC/1/model.fp16.onnx"
    mkdir -p "$ENGINE_DIR"
    "$HERE/build_engine.sh" --onnx "$onnx" --out "$ENGINE_DIR/model.plan"
    cp "$HERE/config.tensorrt.pbtxt" "$DEST/config.pbtxt"
    ln -s "$ENGINE_DIR/model.plan" "$DEST/1/model.plan"
    ;;
  onnx)
    cp "$SRC/config.pbtxt" "$DEST/config.pbtxt"
    ln -s "$SRC/1/model.onnx" "$DEST/1/model.onnx"
    ;;
  *) die "WAV2LIP_BACKEND must be tensorrt or onnx, got '$BACKEND'" ;;
esac

echo "wav2lip-entrypoint: serving $DEST ($BACKEND)"
exec tritonserver --model-repository="$RUN_REPOSITORY" "$@"
