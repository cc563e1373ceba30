"""Channel equalization before int8 (int8_equalize.py): an exact FP32 re-parameterisation that evens out the
per-channel ranges the int8 grid has to cover."""
import numpy as np
import torch
from torch import nn

from int8_equalize import FLOOR, channel_spaces, equalize, measure_ranges, scales_for
from parity_check import random_inputs
from test_export_onnx import _reference
from wav2lip_model import ConvBlock, build_random, calibrate_bn


def _float_reference(generator, mel, face):
    """The generator's sigmoid output before the uint8 rounding, for a tight comparison."""
    x = torch.from_numpy(face).float().div(255.0)[..., [2, 1, 0]].permute(0, 3, 1, 2)
    masked = x.clone()
    masked[:, :, 48:] = 0
    with torch.no_grad():
        return generator(torch.from_numpy(mel), torch.cat((masked, x), 1))


def test_every_conv_input_and_every_batchnorm_belongs_to_a_channel_space():
    g = build_random(0)
    spaces = channel_spaces(g)
    consumed = [(conv, first, end) for s in spaces for conv, first, end in s.consumers]
    # every conv but the two reading the network inputs (face encoder 0, audio encoder 0) reads spaces that tile its
    # input channels exactly; the output conv reads the last space
    by_conv = {}
    for conv, first, end in consumed:
        by_conv.setdefault(id(conv), []).append((first, end))
    convs = [m for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    inputs = {id(g.face_encoder_blocks[0][0].conv_block[0]), id(g.audio_encoder[0].conv_block[0])}
    for conv in convs:
        if id(conv) in inputs:
            assert id(conv) not in by_conv
            continue
        cin = conv.in_channels
        slices = sorted(by_conv[id(conv)])
        assert slices[0][0] == 0 and slices[-1][1] == cin
        assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))
    producers = [b for s in spaces for b in s.producers]
    blocks = [m for m in g.modules() if hasattr(m, 'conv_block')]
    assert sorted(map(id, producers)) == sorted(map(id, blocks))
    assert all(s.channels == b.conv_block[1].num_features for s in spaces for b in s.producers)
    # residual blocks join the space of the block before them: 51 convs, 28 residual -> 23 spaces
    assert len(blocks) == 50 and sum(isinstance(b, ConvBlock) and b.residual for b in blocks) == 28
    assert len(spaces) == 50 - 28


def test_equalized_generator_computes_the_same_function_and_the_original_is_untouched():
    g = calibrate_bn(build_random(0), 0, batches=1, frames=4)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    mel, face = random_inputs(6, seed=7)
    eq, spread = equalize(g, mel[:4], face[:4], alpha=0.5)
    assert spread > 1.0
    assert all(torch.equal(v, g.state_dict()[k]) for k, v in before.items())
    want = _float_reference(g, mel, face)
    got = _float_reference(eq, mel, face)
    assert float((got - want).abs().max()) < 1e-4  # sigmoid output in (0, 1): far below one grey level
    assert np.abs(_reference(eq, mel, face).astype(int) - _reference(g, mel, face).astype(int)).max() <= 1
    # ... and the channels were really rescaled
    w0 = g.face_encoder_blocks[1][0].conv_block[1].weight
    w1 = eq.face_encoder_blocks[1][0].conv_block[1].weight
    assert float((w1 / w0).max() / (w1 / w0).min()) > 1.1


def test_equalization_evens_out_the_measured_channel_ranges():
    g = calibrate_bn(build_random(0), 0, batches=1, frames=4)
    mel, face = random_inputs(4, seed=9)
    spaces = channel_spaces(g)
    measure_ranges(g, spaces, mel, face)
    eq, _ = equalize(g, mel, face, alpha=1.0)
    eq_spaces = channel_spaces(eq)
    measure_ranges(eq, eq_spaces, mel, face)
    for s, e in zip(spaces, eq_spaces):
        r, q = s.range, e.range
        if float(r.min()) / float(r.max()) > FLOOR:  # no channel at the floor: alpha 1 makes all ranges equal
            assert float(q.min()) / float(q.max()) > 0.999
        assert float(q.max()) <= float(r.max()) * 1.001  # the largest channel keeps its range


def test_scales_follow_the_range_ratio_to_the_power_alpha_with_a_floor():
    r = torch.tensor([4.0, 1.0, 0.0, 0.01])
    s = scales_for(r, 0.5)
    assert torch.allclose(s, torch.tensor([1.0, 0.5, FLOOR, 0.05]))
    assert torch.equal(scales_for(torch.zeros(3), 0.5), torch.ones(3))
    assert torch.equal(scales_for(r, 0.0), torch.ones(4))
