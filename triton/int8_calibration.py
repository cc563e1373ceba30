"""Activation ranges for the int8 graph: onnxruntime-node runs the FP32 graph over the calibration frames
(triton/ort_calibrate.js) and each tensor gets the clipping range with the least expected squared error."""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_CALIBRATE = os.path.join(HERE, 'ort_calibrate.js')


class QuantizeError(Exception):
    """Bad input to the quantizer (calibration data missing or of the wrong shape). One line."""


def calibrate(model, tensors, mel, face, batch=8, timeout=1800, bins=2048):
    """Runs the FP32 graph over the calibration frames twice (min/max, then histograms) and returns
    {tensor: (lo, hi)}: per tensor the clipping range with the least expected quantization error."""
    node = shutil.which('node')
    if node is None:
        raise QuantizeError('node is not on PATH (calibration runs onnxruntime-node)')
    probe = onnx.ModelProto.FromString(model.SerializeToString())
    del probe.graph.output[:]
    probe.graph.output.extend([helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in tensors])
    work = tempfile.mkdtemp(prefix='int8-calib-')
    try:
        model_path = os.path.join(work, 'probe.onnx')
        onnx.save(probe, model_path)
        specs = []
        for name, arr in (('mel', mel), ('face', face)):
            arr = np.ascontiguousarray(arr)
            arr.tofile(os.path.join(work, f'{name}.bin'))
            specs.append({'name': name, 'type': str(arr.dtype), 'dims': list(arr.shape), 'file': f'{name}.bin'})
        run = {'batch': batch, 'inputs': specs}
        minmax = _run_calibrator(node, model_path, work, run, 'ranges.json', timeout)
        minmax = {k: (min(float(v[0]), 0.0), max(float(v[1]), 0.0)) for k, v in minmax.items()}
        hists = _run_calibrator(node, model_path, work, {**run, 'histograms': minmax, 'bins': bins},
                                'histograms.json', timeout)
        return {k: best_clip_range(np.asarray(hists[k], np.float64), *minmax[k]) for k in minmax}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_calibrator(node, model_path, work, spec, result_file, timeout):
    with open(os.path.join(work, 'inputs.json'), 'w') as fh:
        json.dump(spec, fh)
    proc = subprocess.run([node, ORT_CALIBRATE, model_path, work], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip() or f'ort_calibrate exited {proc.returncode}').splitlines()[-1])
    with open(os.path.join(work, result_file)) as fh:
        return json.load(fh)


def best_clip_range(counts, lo, hi, levels=255, steps=128):
    """The range [f·lo, f·hi] (f in (0, 1]) with the least expected squared error for a uint8 grid:
    rounding noise scale²/12 inside, the clipping distance outside (MSE calibration)."""
    if hi - lo <= 0 or counts.sum() == 0:
        return lo, hi
    centres = lo + (np.arange(len(counts)) + 0.5) * (hi - lo) / len(counts)
    best, best_err = (lo, hi), np.inf
    for f in np.linspace(1.0 / steps, 1.0, steps):
        a, b = f * lo, f * hi
        scale = (b - a) / levels
        clipped = np.clip(centres, a, b)
        err = np.sum(counts * ((centres - clipped) ** 2 + scale * scale / 12.0))
        if err < best_err:
            best, best_err = (a, b), err
    return float(best[0]), float(best[1])
