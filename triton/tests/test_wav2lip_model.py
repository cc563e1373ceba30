import os

import numpy as np
import torch

from conftest import TEST_DATA
from parity_check import random_inputs
from wav2lip_model import DEMO_RESIDUAL_GAIN, ConvBlock, Wav2Lip, Wav2LipServed, build_random, calibrate_bn


def _tsv_rows():
    with open(os.path.join(TEST_DATA, 'wav2lip-state-dict.tsv')) as fh:
        lines = [line.rstrip('\n').split('\t') for line in fh if line.strip()]
    assert lines[0] == ['key', 'dtype', 'shape']
    return [tuple(row) for row in lines[1:]]


def test_state_dict_matches_published_key_list_exactly():
    rows = _tsv_rows()
    mine = [(f'module.{k}', str(v.dtype).replace('torch.', ''), str(list(v.shape)))
            for k, v in Wav2Lip().state_dict().items()]
    assert len(rows) == 352
    assert mine == rows  # same keys, same order, same dtypes and shapes


def test_parameter_count_matches_the_published_network():
    assert sum(p.numel() for p in Wav2Lip().parameters()) == 36_298_035


def test_same_seed_gives_identical_weights_and_other_seed_differs():
    a, b, c = build_random(7).state_dict(), build_random(7).state_dict(), build_random(8).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    conv = 'face_encoder_blocks.0.0.conv_block.0.weight'
    assert not torch.equal(a[conv], c[conv])


def test_build_random_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_random(0)
    assert torch.equal(torch.rand(3), expected)


def test_generator_maps_inference_shapes():
    with torch.no_grad():
        out = build_random(0)(torch.zeros(2, 1, 80, 16), torch.zeros(2, 6, 96, 96))
    assert out.shape == (2, 3, 96, 96)
    assert float(out.min()) > 0 and float(out.max()) < 1  # sigmoid output


def test_served_wrapper_masks_the_lower_half_of_the_masked_copy():
    seen = {}

    class Spy(torch.nn.Module):
        def forward(self, audio, face):
            seen['face'] = face
            return torch.zeros(face.shape[0], 3, 96, 96)

    face = torch.randint(1, 256, (1, 96, 96, 3), dtype=torch.uint8)
    Wav2LipServed(Spy())(torch.zeros(1, 1, 80, 16), face)
    x = seen['face'][0]
    bgr = face[0].permute(2, 0, 1).flip(0).float() / 255
    assert torch.equal(x[3:], bgr)  # unmasked reference, BGR
    assert torch.equal(x[:3, :48], bgr[:, :48])
    assert float(x[:3, 48:].abs().max()) == 0.0


def test_calibrated_demo_model_moves_with_the_audio_keeps_conv_weights_and_scales_residual_branches():
    base = build_random(0)
    weights = {k: v.clone() for k, v in base.state_dict().items() if 'running' not in k and 'num_batches' not in k}
    served = Wav2LipServed(calibrate_bn(base, 0, batches=1, frames=4)).eval()
    residual_bn = {f'{name}.conv_block.1.weight' for name, m in base.named_modules()
                   if isinstance(m, ConvBlock) and m.residual}
    assert len(residual_bn) == 28
    state = base.state_dict()
    assert all(torch.equal(state[k], v) for k, v in weights.items() if k not in residual_bn)
    assert all(torch.all(state[k] == DEMO_RESIDUAL_GAIN) for k in residual_bn)
    rng = np.random.default_rng(0)
    face = torch.from_numpy(rng.integers(0, 256, (1, 96, 96, 3), dtype=np.uint8)).repeat(2, 1, 1, 1)
    mel = torch.from_numpy(rng.normal(0, 2, (2, 1, 80, 16)).astype(np.float32))
    with torch.no_grad():
        out = served(mel, face).float()
    # same face, different audio -> a visibly different lower half
    assert float((out[0, 48:] - out[1, 48:]).abs().mean()) > 2.0


def test_demo_model_is_not_chaotic_one_grey_level_of_input_noise_moves_the_mouth_far_less():
    """Why DEMO_RESIDUAL_GAIN: with unscaled residual branches the random net amplifies input noise (and int8
    rounding) far beyond what a trained face model does."""
    mel, face = random_inputs(4, seed=11)
    rng = np.random.default_rng(3)
    noisy = np.clip(face.astype(np.int16) + rng.integers(-1, 2, face.shape), 0, 255).astype(np.uint8)

    def mouth_psnr(gain):
        served = Wav2LipServed(calibrate_bn(build_random(0), 0, batches=1, frames=4, residual_gain=gain)).eval()
        with torch.no_grad():
            a = served(torch.from_numpy(mel), torch.from_numpy(face)).double()
            b = served(torch.from_numpy(mel), torch.from_numpy(noisy)).double()
        return 10 * np.log10(255.0 ** 2 / float(((a - b)[:, 48:] ** 2).mean()))

    demo, unscaled = mouth_psnr(DEMO_RESIDUAL_GAIN), mouth_psnr(1.0)
    print(f'mouth PSNR under +-1 grey level of input noise: demo {demo:.1f} dB, residual gain 1.0 {unscaled:.1f} dB')
    assert demo > 44.0 and demo - unscaled > 6.0
