"""Per-channel equalization of activation ranges before int8 quantization (the --int8 path).

ONNX Runtime's QLinearConv takes one scale per activation tensor, so a channel whose values stay small shares the
grid of the tensor's largest channel and is rounded coarsely. This rescales every channel space of the generator
(the output of a conv and of the residual blocks that add onto it share one space) by s_c = (r_c / max r)^alpha,
r_c being the channel's largest |value| on the calibration inputs: the producing convs' BatchNorm weight and bias
are divided by s_c, every consumer's input weights multiplied by it. ReLU, the residual adds and the skip concats
commute with a positive per-channel scale, so the FP32 network computes the same function (checked by
triton/tests/test_int8_equalize.py); only the int8 rounding changes. alpha trades activation rounding (smaller
with larger alpha) against weight rounding (the consumers' small-channel weights shrink): 0.5 as in SmoothQuant.
Scales are bounded below by FLOOR so no weight shrinks by more than 64x.
"""
import copy

import numpy as np
import torch
from torch import nn

from wav2lip_model import ConvBlock, Wav2LipServed

DEFAULT_ALPHA = 0.5
FLOOR = 1.0 / 64


class Space:
    """One channel space: the blocks whose BN writes into it, and (conv, first, end) input-channel slices reading it."""

    def __init__(self, channels):
        self.channels = channels
        self.producers = []
        self.consumers = []
        self.range = None


def _conv(block):
    return block.conv_block[0]


def _bn(block):
    return block.conv_block[1]


def channel_spaces(generator):
    """The generator's channel spaces, following Wav2Lip.forward (encoders, then the decoder's skip concats)."""
    spaces = []

    def start(block, inputs):
        first = 0
        for space, channels in inputs:
            if space is not None:
                space.consumers.append((_conv(block), first, first + channels))
            first += channels
        space = Space(_bn(block).num_features)
        space.producers.append(block)
        spaces.append(space)
        return space

    def chain(blocks, space):
        """Non-residual blocks start a space reading the previous one; residual blocks read and add onto it."""
        for block in blocks:
            if isinstance(block, ConvBlock) and block.residual:
                space.consumers.append((_conv(block), 0, space.channels))
                space.producers.append(block)
            else:
                space = start(block, [(space, _conv(block).in_channels)])
        return space

    skips, space = [], None
    for stage in generator.face_encoder_blocks:
        space = chain(stage, space)
        skips.append(space)
    space = chain(generator.audio_encoder, None)
    inputs = [(space, space.channels)]
    for stage in generator.face_decoder_blocks:
        space = chain(stage[1:], start(stage[0], inputs))
        skip = skips.pop()  # deepest encoder output first, as in forward()
        inputs = [(space, space.channels), (skip, skip.channels)]
    space = start(generator.output_block[0], inputs)
    out_conv = generator.output_block[1]
    space.consumers.append((out_conv, 0, out_conv.in_channels))
    return spaces


def measure_ranges(generator, spaces, mel, face, batch=16):
    """Per space and channel: the largest |value| of every tensor int8 quantizes there (each block's output after
    its ReLU; a residual block's conv output before the add, too) over the calibration frames."""
    hooks = []

    def record(space):
        def hook(_module, _inputs, out):
            r = out.detach().abs().amax(dim=(0, 2, 3)).double()
            space.range = r if space.range is None else torch.maximum(space.range, r)
        return hook

    for space in spaces:
        for block in space.producers:
            hooks.append(block.register_forward_hook(record(space)))
            if isinstance(block, ConvBlock) and block.residual:
                hooks.append(block.conv_block.register_forward_hook(record(space)))
    served = Wav2LipServed(generator).eval()
    try:
        with torch.no_grad():
            for i in range(0, mel.shape[0], batch):
                served(torch.from_numpy(mel[i:i + batch]), torch.from_numpy(face[i:i + batch]))
    finally:
        for h in hooks:
            h.remove()


def scales_for(channel_range, alpha):
    r = channel_range.double()
    if float(r.max()) <= 0:
        return torch.ones_like(r, dtype=torch.float32)
    return torch.clamp((r / r.max()) ** alpha, min=FLOOR).float()


def apply_scales(space, s):
    """x' = x / s on every tensor of the space: exact in real arithmetic."""
    with torch.no_grad():
        for block in space.producers:
            _bn(block).weight /= s
            _bn(block).bias /= s
        for conv, first, end in space.consumers:
            if isinstance(conv, nn.ConvTranspose2d):  # weight [Cin, Cout, k, k]
                conv.weight[first:end] *= s.view(-1, 1, 1, 1)
            else:  # Conv2d weight [Cout, Cin, k, k]
                conv.weight[:, first:end] *= s.view(1, -1, 1, 1)


def equalize(generator, mel, face, alpha=DEFAULT_ALPHA):
    """A rescaled copy of the (eval-mode) generator; the original is untouched. Returns (copy, spread) where spread
    is the median over spaces of max r / mean r before the rescaling (1 = already equal)."""
    eq = copy.deepcopy(generator).eval()
    spaces = channel_spaces(eq)
    measure_ranges(eq, spaces, mel, face)
    spread = []
    for space in spaces:
        r = space.range
        spread.append(float(r.max() / max(float(r.mean()), 1e-12)))
        apply_scales(space, scales_for(r, alpha))
    return eq, float(np.median(spread))
