#!/usr/bin/env bash
# Builds a TensorRT engine (model.plan) for Triton from the Wav2Lip ONNX file with trtexec.
#
#   triton/build_engine.sh [--onnx PATH] [--out PATH] [--precision fp16|fp32] [--min 1 --opt 32 --max 128]
#
# Run it inside the pinned NGC image (triton/Dockerfile, or nvcr.io/nvidia/tensorrt:<same yy.mm>-py3)
# on the GPU that will serve: a plan only loads on the TensorRT version and GPU kind that built it.
# Defaults: --onnx = model.fp16.onnx beside --out if present, else model.onnx.
#
# Precision (triton.md §5):
#   * FP16 ONNX (export_onnx.py --fp16): the graph carries its own types -> --stronglyTyped on TRT 10,
#     nothing on TRT 11 (always strongly typed). Works on both.
#   * FP32 ONNX + --precision fp16: TRT 10 uses `--fp16`; TRT 11 removed that flag, so the script
#     stops and asks for the FP16 ONNX (WAV2LIP_FP16=1 bash scripts/setup-model.sh).
# I/O stays FP32 mel / UINT8 face / UINT8 mouth either way (the casts are inside the graph).
#
# Idempotent: <out>.stamp records the ONNX hash, TensorRT version and options; an up-to-date plan is kept.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/model_repository/wav2lip/1/model.plan"
ONNX=""
PRECISION="${ENGINE_PRECISION:-fp16}"
MIN_BATCH=1
OPT_BATCH=32
MAX_BATCH=128
WORKSPACE_MIB="${ENGINE_WORKSPACE_MIB:-4096}"
TRTEXEC="${TRTEXEC:-}"

die() { echo "build_engine: $1" >&2; exit "${2:-1}"; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while (($#)); do
  case "$1" in
    --onnx) ONNX="${2:?--onnx needs a path}"; shift 2 ;;
    --out) OUT="${2:?--out needs a path}"; shift 2 ;;
    --precision) PRECISION="${2:?--precision needs fp16 or fp32}"; shift 2 ;;
    --min) MIN_BATCH="${2:?}"; shift 2 ;;
    --opt) OPT_BATCH="${2:?}"; shift 2 ;;
    --max) MAX_BATCH="${2:?}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "build_engine: unknown option $1" >&2; usage 2 ;;
  esac
done

[[ "$PRECISION" == fp16 || "$PRECISION" == fp32 ]] || die "--precision must be fp16 or fp32, got '$PRECISION'" 2
for n in "$MIN_BATCH" "$OPT_BATCH" "$MAX_BATCH"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "batch sizes must be positive integers, got '$n'" 2
done
((MIN_BATCH <= OPT_BATCH && OPT_BATCH <= MAX_BATCH)) || die "need min <= opt <= max batch" 2

OUT_DIR="$(dirname "$OUT")"
if [[ -z "$ONNX" ]]; then
  if [[ "$PRECISION" == fp16 && -f "$OUT_DIR/model.fp16.onnx" ]]; then ONNX="$OUT_DIR/model.fp16.onnx"; else ONNX="$OUT_DIR/model.onnx"; fi
fi
[[ -f "$ONNX" ]] || die "ONNX file not found: $ONNX (build it with: bash scripts/setup-model.sh)"

find_trtexec() {
  if [[ -n "$TRTEXEC" ]]; then echo "$TRTEXEC"; return; fi
  if command -v trtexec >/dev/null 2>&1; then command -v trtexec; return; fi
  [[ -x /usr/src/tensorrt/bin/trtexec ]] && { echo /usr/src/tensorrt/bin/trtexec; return; }
  die "trtexec not found: run inside triton/Dockerfile's image or nvcr.io/nvidia/tensorrt:<yy.mm>-py3, or set TRTEXEC"
}
TRTEXEC="$(find_trtexec)"

# trtexec's banner reads "&&&& RUNNING TensorRT.trtexec [TensorRT v100800] # ..." (v = major*10000 + minor*100 + patch)
# read the help once into a variable: `trtexec | grep -q` under pipefail can fail on SIGPIPE
TRT_HELP="$("$TRTEXEC" --help 2>&1 || true)"
TRT_NUM=""
re='\[TensorRT v([0-9]{5,})\]'
if [[ "$TRT_HELP" =~ $re ]]; then TRT_NUM="${BASH_REMATCH[1]}"; fi
TRT_VERSION="unknown"
HAS_FP16_FLAG=0
if grep -q -- '--fp16' <<<"$TRT_HELP"; then HAS_FP16_FLAG=1; fi
if [[ -n "$TRT_NUM" ]]; then
  TRT_VERSION="$((TRT_NUM / 10000)).$((TRT_NUM / 100 % 100)).$((TRT_NUM % 100))"
  if ((TRT_NUM / 10000 >= 11)); then HAS_FP16_FLAG=0; fi  # TensorRT 11 removed --fp16 (triton.md §5.1)
fi

# Is the ONNX itself FP16? export_onnx.py writes the metadata entry precision=fp16 (protobuf bytes:
# key "precision", field 2 tag 0x12, length 4, "fp16"); the file name is the fallback hint.
onnx_is_fp16() {
  [[ "$1" == *fp16* ]] && return 0
  LC_ALL=C grep -a -q -F $'precision\x12\x04fp16' <(tail -c 65536 "$1")
}

precision_flags=()
if onnx_is_fp16 "$ONNX"; then
  if ((HAS_FP16_FLAG)); then precision_flags=(--stronglyTyped); fi  # TRT 10: honour the graph's FP16 types
elif [[ "$PRECISION" == fp16 ]]; then
  ((HAS_FP16_FLAG)) || die "this TensorRT ($TRT_VERSION) has no --fp16; build the FP16 ONNX (WAV2LIP_FP16=1 bash scripts/setup-model.sh) or use --precision fp32"
  precision_flags=(--fp16)
fi

shape() { echo "mel:${1}x1x80x16,face:${1}x96x96x3"; }
ARGS=(
  --onnx="$ONNX"
  --minShapes="$(shape "$MIN_BATCH")"
  --optShapes="$(shape "$OPT_BATCH")"
  --maxShapes="$(shape "$MAX_BATCH")"
  --memPoolSize=workspace:"$WORKSPACE_MIB"
  --skipInference
  "${precision_flags[@]}"
)

ONNX_SUM="$(sha256sum "$ONNX" | cut -c1-64)"
STAMP_TEXT="onnx=$ONNX_SUM trt=$TRT_VERSION batch=$MIN_BATCH/$OPT_BATCH/$MAX_BATCH flags=${precision_flags[*]:-none}"
if [[ -f "$OUT" && -f "$OUT.stamp" && "$(cat "$OUT.stamp")" == "$STAMP_TEXT" ]]; then
  echo "build_engine: $OUT is up to date ($STAMP_TEXT)"
  exit 0
fi

mkdir -p "$OUT_DIR"
TMP="$(mktemp "$OUT_DIR/.model.plan.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
echo "build_engine: TensorRT $TRT_VERSION, $ONNX -> $OUT (batch $MIN_BATCH/$OPT_BATCH/$MAX_BATCH, ${precision_flags[*]:-fp32}); this takes minutes"
start=$SECONDS
"$TRTEXEC" "${ARGS[@]}" --saveEngine="$TMP" || die "trtexec failed (exit $?); see its log above"
[[ -s "$TMP" ]] || die "trtexec wrote no engine"
chmod 0644 "$TMP"
mv -f "$TMP" "$OUT"
printf '%s' "$STAMP_TEXT" >"$OUT.stamp"
echo "build_engine: wrote $OUT ($(du -h "$OUT" | cut -f1)) in $((SECONDS - start)) s"
