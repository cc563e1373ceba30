"""The exported graph implements architecture.md §2; checked here independently of export_onnx's own check."""
import numpy as np
import onnx
import torch
from onnx import TensorProto

from parity_check import half_emulated_reference, run_onnx
from wav2lip_model import Wav2LipServed, build_random

CONTRACT = {
    'inputs': [('mel', TensorProto.FLOAT, [1, 80, 16]), ('face', TensorProto.UINT8, [96, 96, 3])],
    'outputs': [('mouth', TensorProto.UINT8, [96, 96, 3])],
}


def _io(values):
    out = []
    for v in values:
        dims = v.type.tensor_type.shape.dim
        out.append((v.name, v.type.tensor_type.elem_type, dims))
    return out


def _assert_contract(path):
    model = onnx.load(path)
    assert [o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')] == [17]
    for got, want in ((_io(model.graph.input), CONTRACT['inputs']), (_io(model.graph.output), CONTRACT['outputs'])):
        assert [(n, t) for n, t, _ in got] == [(n, t) for n, t, _ in want]
        for (_, _, dims), (_, _, want_dims) in zip(got, want):
            assert dims[0].dim_param and not dims[0].dim_value  # dynamic batch
            assert [d.dim_value for d in dims[1:]] == want_dims
    return model


def _sample(frames=2, seed=42):
    rng = np.random.default_rng(seed)
    mel = rng.uniform(-4, 4, (frames, 1, 80, 16)).astype(np.float32)
    # a smooth synthetic face crop: gradients plus a dark "mouth" ellipse in the lower half
    yy, xx = np.mgrid[0:96, 0:96]
    base = np.stack([xx * 2.5, yy * 2.5, 255 - yy * 2], axis=-1)
    mouth = ((xx - 48) / 20.0) ** 2 + ((yy - 70) / 8.0) ** 2 < 1
    base[mouth] = (90, 20, 30)
    face = np.clip(base[None] + rng.normal(0, 8, (frames, 96, 96, 3)), 0, 255).astype(np.uint8)
    return mel, face


def _reference(generator, mel, face):
    """architecture.md §2 written out step by step in numpy around the bare generator."""
    x = face.astype(np.float32) / 255.0
    x = x[..., ::-1]  # RGB -> BGR
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    masked = x.copy()
    masked[:, :, 48:, :] = 0
    with torch.no_grad():
        y = generator(torch.from_numpy(mel), torch.from_numpy(np.concatenate([masked, x], axis=1))).numpy()
    y = np.round(np.clip(y * 255.0, 0, 255))
    return y[:, ::-1].transpose(0, 2, 3, 1).astype(np.uint8)  # BGR -> RGB, NHWC


def _max_diff(a, b):
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def test_fp32_file_declares_the_contract(fp32_model):
    model = _assert_contract(fp32_model)
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['precision'] == 'fp32' and meta['wav2lip_source'] == 'random-seed:0'


def test_fp32_graph_matches_the_spelled_out_contract_within_1_grey_level(fp32_model):
    mel, face = _sample(frames=2)
    got = run_onnx(fp32_model, {'mel': mel, 'face': face})['mouth']
    want = _reference(build_random(0), mel, face)
    assert got.dtype == np.uint8 and got.shape == (2, 96, 96, 3)
    assert _max_diff(got, want) <= 1


def test_fp16_file_keeps_the_io_contract_and_stays_within_2_grey_levels(fp16_model, fp32_model):
    model = _assert_contract(fp16_model)
    onnx.checker.check_model(model)
    halves = [i for i in model.graph.initializer if i.data_type == TensorProto.FLOAT16]
    floats = [i for i in model.graph.initializer if i.data_type == TensorProto.FLOAT]
    assert len(halves) >= 51 and sum(int(np.prod(i.dims)) for i in floats) < 1000  # the weights are half
    mel, face = _sample(frames=2, seed=7)
    half = run_onnx(fp16_model, {'mel': mel, 'face': face})['mouth']
    full = run_onnx(fp32_model, {'mel': mel, 'face': face})['mouth']
    diff = _max_diff(half, full)
    print(f'FP16 vs FP32 max diff: {diff} grey levels')
    assert half.dtype == np.uint8 and diff <= 2


def test_fp16_activations_emulated_in_pytorch_stay_within_2_grey_levels():
    # ORT CPU upcasts FP16 nodes, so emulate a GPU's FP16 activations on the demo weights too
    served = Wav2LipServed(build_random(0)).eval()
    mel, face = _sample(frames=2, seed=9)
    full = _reference(build_random(0), mel, face)
    assert _max_diff(half_emulated_reference(served, mel, face), full) <= 2
