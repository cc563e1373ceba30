"""Runs an exported ONNX file with onnxruntime-node (triton/ort_run.js) and compares it with PyTorch."""
import copy
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import torch

from wav2lip_model import FACE_SIZE, MEL_BANDS, MEL_WINDOW, ConvBlock, ConvTransposeBlock

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(HERE, 'ort_run.js')


class OrtRunError(Exception):
    pass


def random_inputs(frames, seed=1234):
    """A small batch in the contract's format: mel in Wav2Lip's [-4, 4] range, random RGB faces."""
    rng = np.random.default_rng(seed)
    mel = np.clip(rng.normal(0.0, 2.0, (frames, 1, MEL_BANDS, MEL_WINDOW)), -4, 4).astype(np.float32)
    face = rng.integers(0, 256, (frames, FACE_SIZE, FACE_SIZE, 3), dtype=np.uint8)
    return mel, face


def run_onnx(model_path, feeds, timeout=600, optimized_out=None):
    """feeds: {name: np.ndarray}. Returns {output name: np.ndarray} computed by onnxruntime-node.
    optimized_out: also save the graph as ORT optimized it there (what it runs)."""
    node = shutil.which('node')
    if node is None:
        raise OrtRunError('node is not on PATH (needed to run onnxruntime-node for the check)')
    work = tempfile.mkdtemp(prefix='ort-run-')
    try:
        specs = []
        for name, arr in feeds.items():
            arr = np.ascontiguousarray(arr)
            arr.tofile(os.path.join(work, f'{name}.in.bin'))
            specs.append({'name': name, 'type': str(arr.dtype), 'dims': list(arr.shape), 'file': f'{name}.in.bin'})
        with open(os.path.join(work, 'inputs.json'), 'w') as fh:
            json.dump(specs, fh)
        extra = [os.path.abspath(optimized_out)] if optimized_out else []
        proc = subprocess.run([node, ORT_RUN, os.path.abspath(model_path), work, *extra],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise OrtRunError((proc.stderr.strip() or f'ort_run exited {proc.returncode}').splitlines()[-1])
        with open(os.path.join(work, 'outputs.json')) as fh:
            outs = json.load(fh)
        result = {}
        for spec in outs:
            dtype = np.float16 if spec['type'] == 'float16' else np.dtype(spec['type'])
            arr = np.fromfile(os.path.join(work, spec['file']), dtype=dtype)
            result[spec['name']] = arr.reshape(spec['dims'])
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def torch_reference(served, mel, face):
    with torch.no_grad():
        return served(torch.from_numpy(mel), torch.from_numpy(face)).numpy()


def max_grey_diff(a, b):
    return int(np.max(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def half_emulated_reference(served, mel, face):
    """PyTorch FP32 run with FP16 weights and every layer's output rounded to FP16.

    onnxruntime's CPU provider upcasts FP16 nodes to FP32 internally, so the ORT check of an FP16
    file only sees the weight rounding; this emulates FP16 activations too (what a GPU FP16 engine does,
    apart from its accumulation order), since torch 1.13 has no CPU half convolutions.
    """
    served = copy.deepcopy(served).eval()
    gen = served.generator
    for param in gen.parameters():
        param.data = param.data.half().float()
    for buf_name, buf in gen.named_buffers():
        if buf.is_floating_point():
            buf.data = buf.data.half().float()
    round_half = lambda t: t.half().float()  # noqa: E731
    handles = [gen.register_forward_pre_hook(lambda _m, args: tuple(round_half(a) for a in args))]
    # round where a fused GPU kernel writes FP16: after each conv block (conv+BN+add+ReLU fuse into one
    # kernel, accumulating in FP32), after the last plain conv and the sigmoid
    blocks = [m for m in gen.modules() if isinstance(m, (ConvBlock, ConvTransposeBlock))]
    for module in blocks + [gen.output_block[1], gen.output_block[2]]:
        handles.append(module.register_forward_hook(lambda _m, _i, out: round_half(out)))
    try:
        return torch_reference(served, mel, face)
    finally:
        for h in handles:
            h.remove()
