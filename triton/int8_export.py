"""The --int8 path of export_onnx.py: calibration data, the QDQ graph, and the int8-vs-FP32 check.

Calibration folder (written by `npx lipsync calib-data --out DIR`):
  DIR/calibration/mel.npy float32 [N,1,80,16]   DIR/calibration/face.npy uint8 [N,96,96,3] (RGB)
  DIR/holdout/mel.npy     float32 [M,1,80,16]   DIR/holdout/face.npy     uint8 [M,96,96,3]
The calibration set fits the activation ranges; the held-out set (other sentences, other face
variants) is only used by the check.
"""
import os

import numpy as np
import onnx

from int8_equalize import DEFAULT_ALPHA, equalize
from parity_check import run_onnx, torch_reference
from conv_transpose_rewrite import rewrite_conv_transposes
from quantize_int8 import FP32_KEPT, QuantizeError, activations_to_quantize, calibrate, fold_conv_transpose_bn, \
    insert_qdq, weight_bits_for_cpu
from onnx_fp16 import CORE_PREFIX
from wav2lip_model import FACE_SIZE, MASK_FROM_ROW, MEL_BANDS, MEL_WINDOW, Wav2LipServed

# Generator blocks kept FP32 (--int8-fp32-blocks); none by default. The audio encoder is 2.3 % of the
# multiply-adds, but its 512-d embedding drives the whole decoder: FP32 there buys the demo model +1.2 dB mouth
# PSNR for ~10-20 % of the int8 speed (README "INT8 on the CPU" has the measured trade-offs).
DEFAULT_FP32_BLOCKS = ()
# Below this mouth-half PSNR (int8 vs FP32, held-out inputs) the export fails: a wrong range, a broken
# graph or u8s8 saturation land far below it; the demo model reaches ~42 dB (8-bit weights) and ~40 dB (7-bit);
# README "INT8" lists what was measured.
PSNR_FLOOR_DB = 35.0
CALIB_HINT = 'make it with `npx lipsync calib-data --out DIR` (npm run build first)'
SETS = ('calibration', 'holdout')


def _load_npy(path, what):
    if not os.path.isfile(path):
        raise QuantizeError(f'no calibration data: {path} is missing; {CALIB_HINT}')
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise QuantizeError(f'{path}: not a readable .npy file ({str(err).splitlines()[0][:120]})') from None


def load_calibration(folder):
    """{'calibration': (mel, face), 'holdout': (mel, face)}; QuantizeError (one line) for anything wrong."""
    if not folder or not os.path.isdir(folder):
        raise QuantizeError(f'no calibration data: {folder} is not a folder; {CALIB_HINT}')
    out = {}
    for name in SETS:
        mel = _load_npy(os.path.join(folder, name, 'mel.npy'), 'mel')
        face = _load_npy(os.path.join(folder, name, 'face.npy'), 'face')
        if mel.dtype != np.float32 or mel.ndim != 4 or mel.shape[1:] != (1, MEL_BANDS, MEL_WINDOW):
            raise QuantizeError(f'{folder}/{name}/mel.npy is {mel.dtype}{list(mel.shape)}, expected float32 '
                                f'[N,1,{MEL_BANDS},{MEL_WINDOW}]')
        if face.dtype != np.uint8 or face.ndim != 4 or face.shape[1:] != (FACE_SIZE, FACE_SIZE, 3):
            raise QuantizeError(f'{folder}/{name}/face.npy is {face.dtype}{list(face.shape)}, expected uint8 '
                                f'[N,{FACE_SIZE},{FACE_SIZE},3]')
        if mel.shape[0] != face.shape[0] or mel.shape[0] < 1:
            raise QuantizeError(f'{folder}/{name}: mel.npy has {mel.shape[0]} frames, face.npy {face.shape[0]} '
                                '(need the same number, at least 1)')
        if not np.all(np.isfinite(mel)):
            raise QuantizeError(f'{folder}/{name}/mel.npy holds NaN or infinite values')
        out[name] = (np.ascontiguousarray(mel), np.ascontiguousarray(face))
    return out


def resolve_weight_bits(choice):
    return weight_bits_for_cpu() if choice == 'auto' else int(choice)


def generator_blocks(model):
    """Names of the generator's blocks in an exported graph: audio_encoder, face_encoder_blocks.0, ..."""
    blocks = []
    for n in model.graph.node:
        parts = n.name.split('/')
        if n.name.startswith(CORE_PREFIX) and len(parts) > 3 and parts[2] not in blocks:
            blocks.append(parts[2])
    return blocks


def parse_fp32_blocks(text, model):
    """'none' or a comma-separated list of generator blocks (audio_encoder, face_decoder_blocks.3, ...)."""
    if text.strip() in ('', 'none'):
        return ()
    known = generator_blocks(model)
    names = tuple(b.strip() for b in text.split(',') if b.strip())
    bad = [b for b in names if b not in known]
    if bad:
        raise QuantizeError(f'--int8-fp32-blocks: unknown block {bad[0]!r} (blocks: none, {", ".join(known)})')
    return names


def equalized(served, calib, alpha=DEFAULT_ALPHA, log=print):
    """The served model with its channel ranges equalized on the calibration set (int8_equalize.py); alpha 0: as is."""
    if alpha <= 0:
        log('int8: channel equalization off (--int8-equalize 0)')
        return served
    generator, spread = equalize(served.generator, *calib['calibration'], alpha=alpha)
    log(f'int8: channel ranges equalized (alpha {alpha:g}; before: median max/mean range per channel space '
        f'{spread:.2f}); the FP32 function is unchanged')
    return Wav2LipServed(generator).eval()


def build_int8(fp32_model, calib, weight_bits, log=print, fp32_blocks=DEFAULT_FP32_BLOCKS):
    """The QDQ ModelProto and a description of what was quantized."""
    model = fold_conv_transpose_bn(onnx.ModelProto.FromString(fp32_model.SerializeToString()))
    rewritten = rewrite_conv_transposes(model)
    keep_fp32 = {n.name for n in model.graph.node
                 if any(n.name.startswith(f'{CORE_PREFIX}{b}/') for b in fp32_blocks)}
    tensors = activations_to_quantize(model, keep_fp32)
    mel, face = calib['calibration']
    log(f'int8: calibrating {len(tensors)} activation tensors on {mel.shape[0]} frames (onnxruntime-node) ...')
    ranges = calibrate(model, tensors, mel, face)
    qmax = 2 ** (weight_bits - 1) - 1
    qdq, convs = insert_qdq(model, ranges, weight_qmax=qmax, keep_fp32=keep_fp32)
    log(f'int8: {len(rewritten)} ConvTranspose rewritten as Conv + phase interleave (exact; ORT has no int8 '
        'ConvTranspose)')
    log(f'int8: {len(convs)} Conv nodes int8 (weights {weight_bits}-bit per channel, activations uint8 per tensor); '
        'FP32: ' + '; '.join([f'{k} ({v})' for k, v in FP32_KEPT.items()] +
                             [f'{b} (--int8-fp32-blocks: quality)' for b in fp32_blocks]))
    return qdq, {'quantized_convs': len(convs), 'conv_transposes_rewritten': len(rewritten),
                 'activations': len(tensors), 'weight_bits': weight_bits, 'calibration_frames': int(mel.shape[0]),
                 'fp32_blocks': ','.join(fp32_blocks) or 'none'}


def grey_metrics(got, want):
    """max / mean absolute grey-level error over the crop, PSNR (dB) of its lower half (the mouth)."""
    diff = got.astype(np.float64) - want.astype(np.float64)
    mse = np.mean(diff[:, MASK_FROM_ROW:] ** 2)
    psnr = float('inf') if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
    return {'max': int(np.max(np.abs(diff))), 'mean': float(np.mean(np.abs(diff))), 'mouth_psnr_db': float(psnr)}


def check_int8(path, served, holdout):
    """int8 graph (onnxruntime-node) vs the FP32 network (PyTorch) on the held-out inputs."""
    onnx.checker.check_model(path)
    mel, face = holdout
    want = torch_reference(served, mel, face)
    got = run_onnx(path, {'mel': mel, 'face': face})['mouth']
    if got.shape != want.shape or got.dtype != want.dtype:
        raise ValueError(f'output is {got.dtype}{list(got.shape)}, expected {want.dtype}{list(want.shape)}')
    return grey_metrics(got, want)
