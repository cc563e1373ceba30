#!/usr/bin/env python3
"""Times the Wav2Lip network on a GPU in FP32, FP16 and BF16 and checks FP16/BF16 parity against FP32.

Run through scripts/gpu-bench.sh on a machine with an NVIDIA GPU and PyTorch (the stand-in for the
TensorRT engine, which needs Triton's image). Dry run on a CPU: --device cpu --batches 1,2 --iters 2.

For each precision and batch size: one warm-up, then (CUDA) a CUDA graph of the forward is captured
and replayed --iters times between CUDA events (or torch.compile with --compile); CPU runs eagerly.
Parity: the same inputs through FP32 (TF32 off) and the half-precision model, output scaled to grey
levels as the served model does (×255, clamp, round): max / mean difference and PSNR of the lower
half of the crop (the mouth). Exit 0 = table printed and FP16 within FP16_TOLERANCE; 1 = FP16 parity
failed; 2 = bad arguments or no usable device (one line on stderr).
"""
import argparse
import copy
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from wav2lip_model import FACE_SIZE, MASK_FROM_ROW, MEL_BANDS, MEL_WINDOW, build_random, calibrate_bn  # noqa: E402

FP16_TOLERANCE = 2  # grey levels, as export_onnx.py's FP16 check
DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda', help='cuda (default), cuda:N or cpu (dry run)')
    p.add_argument('--batches', default='1,8,32,128', help='batch sizes, comma separated')
    p.add_argument('--precisions', default='fp32,fp16,bf16', help='subset of fp32,fp16,bf16')
    p.add_argument('--iters', type=int, default=50, help='timed replays per batch size (default 50)')
    p.add_argument('--compile', action='store_true', help='torch.compile (mode max-autotune-no-cudagraphs) instead of CUDA graphs')
    p.add_argument('--parity-frames', type=int, default=16, help='frames in the parity check (default 16)')
    p.add_argument('--json', help='also write the results to this JSON file')
    return p.parse_args(argv)


def inputs(n, device, seed=0):
    """Contract-range inputs as the generator sees them: mel in [-4, 4]; 6-channel face in [0, 1], lower half masked."""
    g = torch.Generator().manual_seed(seed)
    mel = (torch.randn(n, 1, MEL_BANDS, MEL_WINDOW, generator=g) * 2).clamp(-4, 4)
    face = torch.rand(n, 3, FACE_SIZE, FACE_SIZE, generator=g)
    masked = face.clone()
    masked[:, :, MASK_FROM_ROW:] = 0
    return mel.to(device), torch.cat((masked, face), dim=1).to(device)


_BASE = []


def model_for(dtype, device):
    # BN stats re-estimated as the demo model ships (else the random network's output barely varies); built once
    if not _BASE:
        _BASE.append(calibrate_bn(build_random(0), 0).eval())
    return copy.deepcopy(_BASE[0]).to(device=device, dtype=dtype).to(memory_format=torch.channels_last)


def time_cuda(model, mel, face, iters, use_compile):
    if use_compile:
        fn = torch.compile(model, mode='max-autotune-no-cudagraphs')
        for _ in range(3):
            fn(mel, face)
        torch.cuda.synchronize()
        run = lambda: fn(mel, face)  # noqa: E731
    else:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):  # warm-up outside the graph (cuDNN algorithm choice, allocations)
                model(mel, face)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(mel, face)
        run = graph.replay
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        run()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def time_cpu(model, mel, face, iters):
    model(mel, face)
    t0 = time.perf_counter()
    for _ in range(iters):
        model(mel, face)
    return (time.perf_counter() - t0) * 1000 / iters


def grey(y):
    return torch.clamp(y.float() * 255.0, 0, 255).round()


def parity(ref, got):
    diff = (grey(got) - grey(ref)).abs()
    mse = (diff[:, :, MASK_FROM_ROW:] ** 2).mean().item()
    psnr = float('inf') if mse == 0 else 10 * torch.log10(torch.tensor(255.0 ** 2 / mse)).item()
    return {'max': int(diff.max().item()), 'mean': round(diff.mean().item(), 4), 'mouth_psnr_db': round(psnr, 2)}


def main(argv=None):
    args = parse_args(argv)
    try:
        batches = [int(b) for b in args.batches.split(',')]
        precisions = args.precisions.split(',')
        assert all(b > 0 for b in batches) and precisions and all(p in DTYPES for p in precisions) and args.iters > 0
    except (ValueError, AssertionError):
        print('error: --batches takes positive integers, --precisions a subset of fp32,fp16,bf16, --iters > 0', file=sys.stderr)
        return 2
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        print(f'error: --device {args.device} but torch {torch.__version__} sees no CUDA GPU (use --device cpu for a dry run)',
              file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False  # a true FP32 reference
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    gpu = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f'device: {gpu}; torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN '
          f'{torch.backends.cudnn.version() if device.type == "cuda" else "-"}; '
          f'{"torch.compile" if args.compile else "CUDA graphs" if device.type == "cuda" else "eager"}')

    model_for(torch.float32, 'cpu')  # build the weights before inference mode (BN calibration updates buffers)
    results = {'device': gpu, 'torch': torch.__version__, 'timings': [], 'parity': {}}
    print('precision  batch   ms/batch    frames/s   vs fp32')
    fp32_ms = {}
    with torch.inference_mode():
        for p in precisions:
            try:
                model = model_for(DTYPES[p], device)
                for n in batches:
                    mel, face = (t.to(DTYPES[p]) for t in inputs(n, device))
                    face = face.contiguous(memory_format=torch.channels_last)
                    ms = time_cuda(model, mel, face, args.iters, args.compile) if device.type == 'cuda' \
                        else time_cpu(model, mel, face, args.iters)
                    if p == 'fp32':
                        fp32_ms[n] = ms
                    ratio = f'{fp32_ms[n] / ms:.2f}×' if n in fp32_ms else '-'
                    print(f'{p:>9} {n:>6} {ms:>10.2f} {1000 * n / ms:>11.1f} {ratio:>9}', flush=True)
                    results['timings'].append({'precision': p, 'batch': n, 'ms': ms, 'fps': 1000 * n / ms})
                del model
            except RuntimeError as err:  # e.g. half convolutions on a CPU build of torch
                print(f'{p:>9}  skipped: {str(err).splitlines()[0][:100]}')
                results['timings'].append({'precision': p, 'skipped': str(err).splitlines()[0]})
            if device.type == 'cuda':
                torch.cuda.empty_cache()

        mel, face = inputs(args.parity_frames, device, seed=1)
        ref = model_for(torch.float32, device)(mel, face)
        for p in [q for q in precisions if q != 'fp32']:
            try:
                got = model_for(DTYPES[p], device)(mel.to(DTYPES[p]), face.to(DTYPES[p]))
            except RuntimeError as err:
                print(f'parity {p}: skipped ({str(err).splitlines()[0][:100]})')
                continue
            results['parity'][p] = parity(ref, got)
            m = results['parity'][p]
            print(f'parity {p} vs fp32 on {args.parity_frames} frames: max diff {m["max"]}, mean {m["mean"]} grey levels, '
                  f'mouth PSNR {m["mouth_psnr_db"]} dB')
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump(results, fh, indent=2)
    fp16 = results['parity'].get('fp16')
    if fp16 is not None and fp16['max'] > FP16_TOLERANCE:
        print(f'error: FP16 differs from FP32 by {fp16["max"]} > {FP16_TOLERANCE} grey levels', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
