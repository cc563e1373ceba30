"""ConvTranspose → Conv (+ phase interleave) is exact: checked in FP32 against PyTorch's ConvTranspose2d."""
import numpy as np
import onnx
import pytest
import torch

from conv_transpose_rewrite import axis_plan, interleave_chains, rewrite_conv_transposes
from parity_check import run_onnx

# (cin, cout, kernel, stride, padding, output_padding, input size)
FITS = [
    (5, 3, 3, 2, 1, 1, 4),  # Wav2Lip's upsampling layers
    (5, 3, 3, 1, 0, 0, 1),  # Wav2Lip's first decoder layer (1 pixel -> 3x3)
    (4, 3, 3, 1, 0, 0, 4),  # stride 1 on a larger input: the flipped kernel
    (4, 6, 4, 2, 1, 0, 5),  # even kernel
    (3, 2, 3, 3, 0, 0, 3),  # stride 3
]
LEFT_ALONE = [
    (4, 3, 3, 2, 1, 0, 4),  # output 2H-1: not divisible by the stride
]


def _export(tmp_path, cfg, relu):
    cin, cout, k, s, p, op, size = cfg
    torch.manual_seed(sum(cfg))
    layers = [torch.nn.ConvTranspose2d(cin, cout, k, s, p, op)]
    if relu:
        layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).eval()
    with torch.no_grad():
        net[0].bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, cin, size, size)
    path = str(tmp_path / 'ct.onnx')
    torch.onnx.export(net, (x,), path, opset_version=17, input_names=['x'], output_names=['y'])
    with torch.no_grad():
        return onnx.load(path), x.numpy(), net(x).numpy()


@pytest.mark.parametrize('interleave', ['nhwc', 'depth_to_space'])
@pytest.mark.parametrize('relu', [True, False])
@pytest.mark.parametrize('cfg', FITS)
def test_rewritten_conv_transpose_equals_the_original_in_fp32(tmp_path, cfg, relu, interleave):
    model, x, want = _export(tmp_path, cfg, relu)
    done = rewrite_conv_transposes(model, interleave=interleave)
    ops = [n.op_type for n in model.graph.node]
    assert len(done) == 1 and 'ConvTranspose' not in ops and ops[0] == 'Conv'
    if relu:
        assert ops[1] == 'Relu'  # moved right after the Conv, before the interleave
    onnx.checker.check_model(model)
    path = str(tmp_path / 'rewritten.onnx')
    onnx.save(model, path)
    got = run_onnx(path, {'x': x})['y']
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-5 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize('cfg', LEFT_ALONE)
def test_a_conv_transpose_that_does_not_fit_is_left_as_it_is(tmp_path, cfg):
    model, _, _ = _export(tmp_path, cfg, relu=False)
    assert rewrite_conv_transposes(model) == []
    assert [n.op_type for n in model.graph.node] == ['ConvTranspose']


def test_interleave_chains_name_every_node_that_only_moves_values(tmp_path):
    model, _, _ = _export(tmp_path, FITS[0], relu=True)
    rewrite_conv_transposes(model, interleave='nhwc')
    [(first, chain)] = interleave_chains(model)
    assert [n.op_type for n in chain] == ['Transpose', 'Reshape', 'Transpose', 'Reshape', 'Transpose']
    assert first == model.graph.node[1].output[0]  # the Relu's output feeds the chain
    assert chain[-1].output[0] == 'y'


def test_axis_plan_of_wav2lip_upsampling():
    # k 3, s 2, pad 1, output_padding 1 on 12 pixels: 2 taps, pads (0, 1), 12 outputs per phase
    d_min, taps, begin, end, size = axis_plan(3, 2, 1, 1, 1, 12)
    assert (d_min, begin, end, size) == (0, 0, 1, 12)
    assert taps == [[1, -1], [2, 0]]  # even rows: kernel row 1; odd rows: rows 2 (offset 0) and 0 (offset 1)
    assert axis_plan(3, 2, 1, 1, 0, 12) is None  # 23 outputs: not divisible by 2
