#!/usr/bin/env python3
"""Exports Wav2Lip to ONNX with the gateway's model contract (architecture.md §2) and checks it.

  /usr/bin/python3 triton/export_onnx.py --checkpoint wav2lip_gan.pth --out model_repository/wav2lip/1/model.onnx
  /usr/bin/python3 triton/export_onnx.py --random-seed 0 --out model.onnx [--fp16]
  /usr/bin/python3 triton/export_onnx.py --random-seed 0 --calibrate-bn --int8 [--calibration DIR] --out int8.onnx

After export: onnx.checker, then one run of the graph with onnxruntime-node against PyTorch on a
small random batch. Exit 0 = written and checked; 2 = bad checkpoint/arguments/calibration data
(nothing written); 1 = the check failed or something else went wrong (nothing written).
--int8: post-training static quantization (triton/quantize_int8.py) calibrated on DIR/calibration,
checked against PyTorch FP32 on DIR/holdout (max/mean grey error, mouth PSNR; fails below the floor).
"""
import argparse
import contextlib
import hashlib
import io
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import onnx  # noqa: E402
import torch  # noqa: E402

from checkpoint_loader import CheckpointError, load_generator  # noqa: E402
from int8_equalize import DEFAULT_ALPHA  # noqa: E402
from int8_export import (DEFAULT_FP32_BLOCKS, PSNR_FLOOR_DB, build_int8, check_int8, equalized,  # noqa: E402
                         load_calibration, parse_fp32_blocks, resolve_weight_bits)
from onnx_fp16 import convert_core_to_fp16  # noqa: E402
from quantize_int8 import QuantizeError  # noqa: E402
from parity_check import (OrtRunError, half_emulated_reference, max_grey_diff, random_inputs, run_onnx,  # noqa: E402
                          torch_reference)
from wav2lip_model import FACE_SIZE, MEL_BANDS, MEL_WINDOW, Wav2LipServed, build_random, calibrate_bn  # noqa: E402

OPSET = 17
INPUT_NAMES = ['mel', 'face']
OUTPUT_NAMES = ['mouth']
FP32_TOLERANCE = 1  # grey levels, architecture.md §2
FP16_TOLERANCE = 2
EXIT_BAD_INPUT = 2
EXIT_CHECK_FAILED = 1
REPO_ROOT = os.path.dirname(HERE)
DEFAULT_CALIBRATION = os.path.join(REPO_ROOT, '.cache', 'int8-calibration')


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='official Wav2Lip generator checkpoint (wav2lip.pth / wav2lip_gan.pth)')
    src.add_argument('--random-seed', type=int, help='seeded random weights (demo model: moving, meaningless mouth)')
    p.add_argument('--calibrate-bn', action='store_true',
                   help='with --random-seed: re-estimate BN stats on seeded random inputs so the demo mouth moves')
    p.add_argument('--out', required=True, help='output .onnx path (written atomically)')
    prec = p.add_mutually_exclusive_group()
    prec.add_argument('--fp16', action='store_true', help='half-precision network, FP32/UINT8 I/O unchanged (TensorRT)')
    prec.add_argument('--int8', action='store_true', help='QDQ int8 network for ONNX Runtime CPU, I/O unchanged')
    p.add_argument('--calibration', default=DEFAULT_CALIBRATION,
                   help='--int8: folder from `lipsync calib-data` (default: .cache/int8-calibration)')
    p.add_argument('--int8-weight-bits', choices=['auto', '7', '8'], default='auto',
                   help='--int8: 8 on CPUs with VNNI/AMX, 7 elsewhere (auto, default)')
    p.add_argument('--int8-fp32-blocks', default=','.join(DEFAULT_FP32_BLOCKS) or 'none',
                   help='--int8: generator blocks kept FP32 for quality, comma separated (e.g. audio_encoder), '
                        f'or none (default {",".join(DEFAULT_FP32_BLOCKS) or "none"})')
    p.add_argument('--int8-equalize', type=float, default=DEFAULT_ALPHA, metavar='ALPHA',
                   help='--int8: equalize per-channel activation ranges with this strength before quantizing, 0 = off '
                        f'(default {DEFAULT_ALPHA:g}; exact in FP32, see triton/int8_equalize.py)')
    p.add_argument('--int8-psnr-floor', type=float, default=PSNR_FLOOR_DB,
                   help=f'--int8: fail below this mouth PSNR vs FP32 on the held-out set (default {PSNR_FLOOR_DB} dB)')
    p.add_argument('--check-frames', type=int, default=2, help='frames in the parity check batch (default 2)')
    return p.parse_args(argv)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def export_fp32(served):
    """Traces the served model (batch 1; N stays dynamic) and returns the ONNX ModelProto."""
    mel = torch.zeros(1, 1, MEL_BANDS, MEL_WINDOW)
    face = torch.zeros(1, FACE_SIZE, FACE_SIZE, 3, dtype=torch.uint8)
    dyn = {name: {0: 'N'} for name in INPUT_NAMES + OUTPUT_NAMES}
    buf = io.BytesIO()
    torch.onnx.export(served, (mel, face), buf, opset_version=OPSET, input_names=INPUT_NAMES,
                      output_names=OUTPUT_NAMES, dynamic_axes=dyn, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def add_metadata(model, source, precision, extra=()):
    for key, value in (('wav2lip_source', source), ('precision', precision), *extra,
                       ('contract', 'mel FP32 [N,1,80,16], face UINT8 [N,96,96,3] RGB -> mouth UINT8 [N,96,96,3] RGB')):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = 'lipsync-gateway triton/export_onnx.py'
    return model


def check(path, served, frames, fp16):
    """onnx.checker + one ORT run vs PyTorch. Returns the max difference in grey levels."""
    onnx.checker.check_model(path)
    mel, face = random_inputs(frames)
    expected = torch_reference(served, mel, face)
    got = run_onnx(path, {'mel': mel, 'face': face})['mouth']
    if got.shape != expected.shape or got.dtype != expected.dtype:
        raise OrtRunError(f'output is {got.dtype}{list(got.shape)}, expected {expected.dtype}{list(expected.shape)}')
    if fp16:
        # ORT CPU computes FP16 nodes in FP32 (weights rounded only); show what FP16 activations do too
        emulated = max_grey_diff(half_emulated_reference(served, mel, face), expected)
        note = '' if emulated <= FP16_TOLERANCE else ' (warning: above the limit; TensorRT FP16 output may differ more)'
        print(f'check: PyTorch with FP16 weights and activations (emulated) vs FP32: max diff {emulated}{note}')
    return max_grey_diff(got, expected)


def build_served(args):
    if args.checkpoint is not None:
        generator = load_generator(args.checkpoint)
        source = f'checkpoint:{os.path.basename(args.checkpoint)} sha256:{file_sha256(args.checkpoint)}'
    else:
        generator = build_random(args.random_seed)
        source = f'random-seed:{args.random_seed}'
        if args.calibrate_bn:
            generator = calibrate_bn(generator, args.random_seed)
            source += ' bn-calibrated'
    return Wav2LipServed(generator).eval(), source


def main(argv=None):
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    if args.int8_equalize < 0 or args.int8_equalize > 1:
        print('error: --int8-equalize must be between 0 (off) and 1', file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.check_frames < 1:
        print('error: --check-frames must be >= 1', file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.calibrate_bn and args.checkpoint is not None:
        print('error: --calibrate-bn only applies to --random-seed (a checkpoint has trained BN stats)', file=sys.stderr)
        return EXIT_BAD_INPUT
    calib = None
    try:
        if args.int8:
            calib = load_calibration(args.calibration)  # before any work: bad data is bad input
        served, source = build_served(args)
    except (CheckpointError, QuantizeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.int8:
        return export_int8_checked(args, served, source, calib, out)
    return export_float_checked(args, served, source, out)


@contextlib.contextmanager
def staged_file(out, prefix):
    """A temp file beside `out` (same folder, so publish()'s rename is atomic); removed on any failure."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix='.onnx', dir=os.path.dirname(out))
    os.close(fd)
    try:
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def publish(tmp, out, precision, source, started):
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; Triton runs as a non-root user
    os.replace(tmp, out)
    print(f'wrote {out} ({precision}, {source}, {os.path.getsize(out) / 1e6:.0f} MB) in {time.time() - started:.1f} s')
    return 0


def export_float_checked(args, served, source, out):
    precision = 'fp16' if args.fp16 else 'fp32'
    started = time.time()
    try:
        with staged_file(out, '.export-') as tmp:
            model = add_metadata(export_fp32(served), source, precision)
            if args.fp16:
                model = convert_core_to_fp16(model)
            onnx.save(model, tmp)
            diff = check(tmp, served, args.check_frames, args.fp16)
            limit = FP16_TOLERANCE if args.fp16 else FP32_TOLERANCE
            print(f'check: {precision} ONNX (onnxruntime-node) vs PyTorch FP32 on {args.check_frames} frames: '
                  f'max diff {diff} grey level(s) (limit {limit})')
            if diff > limit:
                print(f'error: exported graph differs from PyTorch by {diff} > {limit} grey levels', file=sys.stderr)
                return EXIT_CHECK_FAILED
            return publish(tmp, out, precision, source, started)
    except (OrtRunError, onnx.checker.ValidationError) as err:
        print(f'error: check of the exported graph failed: {str(err).splitlines()[0]}', file=sys.stderr)
        return EXIT_CHECK_FAILED


def export_int8_checked(args, served, source, calib, out):
    started = time.time()
    bits = resolve_weight_bits(args.int8_weight_bits)
    try:
        with staged_file(out, '.export-int8-') as tmp:
            fp32 = export_fp32(equalized(served, calib, args.int8_equalize))
            try:
                blocks = parse_fp32_blocks(args.int8_fp32_blocks, fp32)
            except QuantizeError as err:
                print(f'error: {err}', file=sys.stderr)
                return EXIT_BAD_INPUT
            model, info = build_int8(fp32, calib, bits, fp32_blocks=blocks)
            info['equalize_alpha'] = f'{args.int8_equalize:g}'
            extra = [(f'int8_{k}', str(v)) for k, v in info.items()]
            onnx.save(add_metadata(model, source, 'int8', extra), tmp)
            m = check_int8(tmp, served, calib['holdout'])
            frames = calib['holdout'][0].shape[0]
            print(f'check: int8 ONNX (onnxruntime-node) vs PyTorch FP32 on {frames} held-out frames: max diff '
                  f'{m["max"]}, mean {m["mean"]:.2f} grey levels, mouth (lower half) PSNR {m["mouth_psnr_db"]:.2f} dB '
                  f'(floor {args.int8_psnr_floor} dB)')
            if m['mouth_psnr_db'] < args.int8_psnr_floor:
                print(f'error: int8 mouth PSNR {m["mouth_psnr_db"]:.2f} dB is below the floor of '
                      f'{args.int8_psnr_floor} dB (keep blocks FP32 with --int8-fp32-blocks, setup-model: '
                      'WAV2LIP_INT8_FP32_BLOCKS; or accept it with --int8-psnr-floor, WAV2LIP_INT8_PSNR_FLOOR)',
                      file=sys.stderr)
                return EXIT_CHECK_FAILED
            return publish(tmp, out, 'int8', source, started)
    except (OrtRunError, RuntimeError, ValueError, onnx.checker.ValidationError) as err:
        print(f'error: int8 export failed: {str(err).splitlines()[0]}', file=sys.stderr)
        return EXIT_CHECK_FAILED


if __name__ == '__main__':
    sys.exit(main())
