#!/usr/bin/env bash
# Times the Wav2Lip network on an NVIDIA GPU in FP32, FP16 and BF16 (CUDA graphs; --compile for
# torch.compile) at batch 1, 8, 32 and 128 and checks FP16/BF16 parity against FP32 on the same inputs.
# Needs only Python with PyTorch (CUDA build) and this repo; nothing is downloaded.
#
#   bash scripts/gpu-bench.sh                       # on the GPU machine
#   bash scripts/gpu-bench.sh --device cpu --batches 1,2 --iters 2 --parity-frames 2   # dry run anywhere
#   GPU_BENCH_PYTHON=/usr/bin/python3 bash scripts/gpu-bench.sh ...   # pick the interpreter
# Extra arguments go to triton/gpu_bench.py (--precisions, --json FILE, ...). It prints the machine,
# a table (ms per batch, frames/s, speed-up over FP32) and the parity lines; exit 1 if FP16 parity fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${GPU_BENCH_PYTHON:-python3}"

die() { echo "gpu-bench: $1" >&2; exit "${2:-2}"; }

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set GPU_BENCH_PYTHON to a Python with PyTorch)"
if ! "$PY" -c 'import torch' 2>/dev/null && [[ -z "${GPU_BENCH_PYTHON:-}" && -x /usr/bin/python3 ]]; then
  PY=/usr/bin/python3  # a pyenv shim without torch on PATH: Debian's interpreter may have it
fi
"$PY" -c 'import torch' 2>/dev/null || die "$PY cannot import torch (set GPU_BENCH_PYTHON to a Python with PyTorch)"
want_cuda=1
for a in "$@"; do [[ "$a" == cpu || "$a" == --device=cpu ]] && want_cuda=0; done
if ((want_cuda)); then
  "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || die "torch sees no CUDA GPU here ($("$PY" -c 'import torch; print(torch.__version__)')); for a dry run add --device cpu"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
fi
echo "gpu-bench: $(date -u +%FT%TZ) $(uname -n) repo $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
exec "$PY" "$ROOT/triton/gpu_bench.py" "$@"
