#!/usr/bin/env bash
# Builds the Wav2Lip ONNX model the gateway (embedded onnx backend) and Triton serve:
#   model_repository/wav2lip/1/model.onnx          FP32 graph, the contract of architecture.md §2
#   model_repository/wav2lip/1/model.fp16.onnx     only with WAV2LIP_FP16=1 (input for TensorRT engines)
#   model_repository/wav2lip_int8/1/model.onnx     only with --int8 or WAV2LIP_INT8=1: QDQ int8 for ONNX Runtime
#                                                  on CPU (MODEL_PRECISION=int8; Triton: wav2lip_int8, KIND_CPU)
#
#   bash scripts/setup-model.sh                                   # demo: seeded random weights (seed 0)
#   WAV2LIP_CHECKPOINT=/path/wav2lip_gan.pth bash scripts/setup-model.sh   # official weights
#   bash scripts/setup-model.sh --int8                            # also the int8 model (needs `npm run build`:
#                                                                 # calibration data comes from `lipsync calib-data`)
#
# Idempotent: a stamp file (1/SOURCE, 1/SOURCE.fp16) records the weights source and the exporter
# version (line 1); a second run with the same inputs is a fast no-op, a changed source rebuilds.
# Line 2 records what the weights are: name=… origin=official|demo|unknown licence=… (official
# checkpoints are identified by their published sha256 and size, in
# gateway/src/inference/official-checkpoints.json; the gateway shows it in /readyz and jobs).
#   bash scripts/setup-model.sh --describe    # print the stamp for the current settings, build nothing
# Env: WAV2LIP_CHECKPOINT, MODEL_CHECKPOINT_TABLE (another checkpoint table, tests), WAV2LIP_SEED (default 0), WAV2LIP_FP16=1,
#      WAV2LIP_DEMO_BN_CALIBRATE (default 1: demo only, scales the residual branches to 0.3 and re-estimates BN
#      stats on seeded random inputs so the random mouth visibly follows the audio without amplifying noise;
#      0 = torch's default BN stats, a near-static patch),
#      WAV2LIP_PYTHON (default /usr/bin/python3), MODEL_REPOSITORY (default <repo>/model_repository),
#      WAV2LIP_INT8=1 (same as --int8), WAV2LIP_CALIBRATION (default <repo>/.cache/int8-calibration; made
#      with `node bin/lipsync.js calib-data` when missing), WAV2LIP_INT8_FP32_BLOCKS (generator blocks the int8
#      model keeps FP32, comma separated, or none; default: the exporter's, none), WAV2LIP_INT8_PSNR_FLOOR (the
#      export check's floor in dB, default the exporter's, 35).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${WAV2LIP_PYTHON:-/usr/bin/python3}"
REPO_DIR="${MODEL_REPOSITORY:-$ROOT/model_repository}"
VERSION_DIR="$REPO_DIR/wav2lip/1"
SEED="${WAV2LIP_SEED:-0}"
CALIBRATE="${WAV2LIP_DEMO_BN_CALIBRATE:-1}"
INT8="${WAV2LIP_INT8:-0}"
CALIB_DIR="${WAV2LIP_CALIBRATION:-$ROOT/.cache/int8-calibration}"

die() { echo "setup-model: $1" >&2; exit "${2:-1}"; }

check_prerequisites() {
  local missing=()
  if [[ ! -x "$PY" ]]; then
    die "$PY not found. Install Debian's Python with: apt-get install python3 python3-torch python3-onnx python3-numpy"
  fi
  local mod pkg
  for mod in torch onnx numpy; do
    pkg="python3-$mod"
    "$PY" -c "import $mod" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    die "$PY lacks: ${missing[*]}. Install with: apt-get install ${missing[*]}  (pip has no wheels here; use Debian's packages)"
  fi
  command -v node >/dev/null 2>&1 || die "node not found (Node >= 20 runs onnxruntime-node for the export check)"
  [[ -d "$ROOT/node_modules/onnxruntime-node" ]] || die "node_modules/onnxruntime-node missing: run 'npm ci' in $ROOT"
}

exporter_version() {
  # rebuild when the exporter itself changes, not only when the weights do
  cat "$ROOT"/triton/*.py "$ROOT"/triton/*.js | sha256sum | cut -c1-16
}

describe_source() {
  if [[ -n "${WAV2LIP_CHECKPOINT:-}" ]]; then
    [[ -f "$WAV2LIP_CHECKPOINT" ]] || die "WAV2LIP_CHECKPOINT=$WAV2LIP_CHECKPOINT: no such file" 2
    local abs sum bytes
    abs="$(cd "$(dirname "$WAV2LIP_CHECKPOINT")" && pwd)/$(basename "$WAV2LIP_CHECKPOINT")"
    sum="$(sha256sum "$abs" | cut -c1-64)"
    bytes="$(stat -c %s "$abs")"
    echo "checkpoint=$abs sha256=$sum bytes=$bytes"
  else
    [[ "$SEED" =~ ^[0-9]+$ ]] || die "WAV2LIP_SEED must be a non-negative integer, got '$SEED'" 2
    echo "random-seed=$SEED bn-calibrate=$CALIBRATE"
  fi
}

ensure_calibration() {
  [[ -f "$CALIB_DIR/calibration/face.npy" && -f "$CALIB_DIR/holdout/face.npy" ]] && return 0
  [[ -f "$ROOT/dist/cli/lipsync.js" ]] || die "int8 needs calibration data from the gateway's CLI: run 'npm run build' first (or set WAV2LIP_CALIBRATION=DIR)" 2
  echo "setup-model: making int8 calibration data in $CALIB_DIR (espeak-ng speech, detected fixture faces) ..."
  node "$ROOT/bin/lipsync.js" calib-data --out "$CALIB_DIR" || die "calib-data failed; see the message above"
}

int8_stamp() {
  # the calibration inputs and the CPU's int8 instructions (they pick 7- or 8-bit weights) are inputs too
  local data flags
  data="$(cat "$CALIB_DIR"/calibration/*.npy "$CALIB_DIR"/holdout/*.npy | sha256sum | cut -c1-16)"
  flags="$(grep -o -w -E 'avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ',' || true)"
  echo "calibration=$data int8-cpu=${flags:-none}${WAV2LIP_INT8_FP32_BLOCKS+ fp32-blocks=$WAV2LIP_INT8_FP32_BLOCKS}"
}


# identify SOURCE_LINE: the stamp's second line (name, origin, licence) for the first
identify() {
  if [[ "$1" == random-seed=* ]]; then
    echo "name=wav2lip-demo-seed$SEED origin=demo licence=demo-random-weights"
    return
  fi
  local table="${MODEL_CHECKPOINT_TABLE:-$ROOT/gateway/src/inference/official-checkpoints.json}" name
  # a published checkpoint matches by sha256 and size
  name="$(node -e '
    const [table, line] = process.argv.slice(1);
    const kv = Object.fromEntries(line.split(" ").map((t) => t.split("=")));
    const hit = JSON.parse(require("fs").readFileSync(table, "utf8"))
      .find((c) => c.sha256 === kv.sha256 && String(c.bytes) === kv.bytes);
    process.stdout.write(hit ? hit.name : "");
  ' "$table" "$1")" || die "cannot read the checkpoint table $table"
  if [[ -n "$name" ]]; then
    echo "name=$name origin=official licence=research-non-commercial"
  else
    echo "name=unknown origin=unknown licence=unknown"
  fi
}

# the first line decides whether the model is up to date; the second is rewritten when it changes
up_to_date() { [[ -f "$1" && -f "$2" && "$(head -n1 "$2")" == "$3" ]]; }

write_stamp() { printf '%s\n%s\n' "$2" "$3" >"$1.tmp" && mv -f "$1.tmp" "$1"; }

# build_one OUT STAMP STAMP_TEXT PROVENANCE [extra exporter args...]
build_one() {
  local out="$1" stamp="$2" text="$3" prov="$4"
  shift 4
  if up_to_date "$out" "$stamp" "$text"; then
    [[ "$(sed -n 2p "$stamp")" == "$prov" ]] || write_stamp "$stamp" "$text" "$prov"
    echo "setup-model: $out is up to date ($text; $prov)"
    return 0
  fi
  check_prerequisites
  local src_args=()
  if [[ -n "${WAV2LIP_CHECKPOINT:-}" ]]; then
    src_args=(--checkpoint "$WAV2LIP_CHECKPOINT")
  else
    src_args=(--random-seed "$SEED")
    if [[ "$CALIBRATE" == 1 ]]; then src_args+=(--calibrate-bn); fi
  fi
  echo "setup-model: building $out ..."
  rm -f "$stamp"  # a stale stamp must never vouch for a half-replaced model
  local start=$SECONDS rc=0
  "$PY" "$ROOT/triton/export_onnx.py" "${src_args[@]}" --out "$out" "$@" || rc=$?
  ((rc == 0)) || die "export failed (exit $rc); see the message above" "$rc"
  write_stamp "$stamp" "$text" "$prov"
  echo "setup-model: built $out in $((SECONDS - start)) s"
}

print_notice() {
  if [[ -n "${WAV2LIP_CHECKPOINT:-}" ]]; then
    echo "NOTE: official Wav2Lip weights are for personal/research/non-commercial use only (trained on LRS2)."
    echo "      Check the Wav2Lip licence before serving them."
  else
    echo "NOTE: this is a DEMO model with seeded random weights: the mouth moves but is meaningless"
    [[ "$CALIBRATE" == 1 ]] || echo "      (WAV2LIP_DEMO_BN_CALIBRATE=0: the patch hardly changes with the audio at all)"
    echo "      For real lip-sync set WAV2LIP_CHECKPOINT=/path/wav2lip_gan.pth;"
    echo "      official Wav2Lip weights are for personal/research/non-commercial use only (trained on LRS2)."
  fi
}

main() {
  local arg describe=0
  for arg in "$@"; do
    case "$arg" in
      --int8) INT8=1 ;;
      --describe) describe=1 ;;
      *) die "unknown argument '$arg' (usage: setup-model.sh [--int8] [--describe])" 2 ;;
    esac
  done
  [[ "$CALIBRATE" == 0 || "$CALIBRATE" == 1 ]] || die "WAV2LIP_DEMO_BN_CALIBRATE must be 0 or 1" 2
  [[ "$INT8" == 0 || "$INT8" == 1 ]] || die "WAV2LIP_INT8 must be 0 or 1" 2
  local source version prov
  source="$(describe_source)"
  version="$(exporter_version)"
  prov="$(identify "$source")"
  if ((describe)); then
    printf '%s\n%s\n' "$source exporter=$version precision=fp32" "$prov"
    return 0
  fi
  mkdir -p "$VERSION_DIR"
  build_one "$VERSION_DIR/model.onnx" "$VERSION_DIR/SOURCE" "$source exporter=$version precision=fp32" "$prov"
  if [[ "${WAV2LIP_FP16:-0}" == 1 ]]; then
    build_one "$VERSION_DIR/model.fp16.onnx" "$VERSION_DIR/SOURCE.fp16" "$source exporter=$version precision=fp16" "$prov" --fp16
  fi
  if [[ "$INT8" == 1 ]]; then
    ensure_calibration
    local int8_dir="$REPO_DIR/wav2lip_int8/1"
    mkdir -p "$int8_dir"
    local blocks=()
    [[ -z "${WAV2LIP_INT8_FP32_BLOCKS+x}" ]] || blocks=(--int8-fp32-blocks "$WAV2LIP_INT8_FP32_BLOCKS")
    # the floor only decides whether the export check passes, not what is built: not in the stamp
    [[ -z "${WAV2LIP_INT8_PSNR_FLOOR:-}" ]] || blocks+=(--int8-psnr-floor "$WAV2LIP_INT8_PSNR_FLOOR")
    build_one "$int8_dir/model.onnx" "$int8_dir/SOURCE" "$source exporter=$version precision=int8 $(int8_stamp)" "$prov" \
      --int8 --calibration "$CALIB_DIR" "${blocks[@]}"
  fi
  print_notice
}

main "$@"
