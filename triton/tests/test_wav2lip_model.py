import os

import numpy as np
import torch

from conftest import TEST_DATA
from wav2lip_model import Wav2Lip, Wav2LipServed, build_random, calibrate_bn


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


def test_calibrated_demo_model_moves_with_the_audio_and_keeps_weights():
    base = build_random(0)
    weights = {k: v.clone() for k, v in base.state_dict().items() if 'running' not in k and 'num_batches' not in k}
    served = Wav2LipServed(calibrate_bn(base, 0, batches=1, frames=4)).eval()
    assert all(torch.equal(base.state_dict()[k], v) for k, v in weights.items())
    rng = np.random.default_rng(0)
    face = torch.from_numpy(rng.integers(0, 256, (1, 96, 96, 3), dtype=np.uint8)).repeat(2, 1, 1, 1)
    mel = torch.from_numpy(rng.normal(0, 2, (2, 1, 80, 16)).astype(np.float32))
    with torch.no_grad():
        out = served(mel, face).float()
    # same face, different audio -> a visibly different lower half
    assert float((out[0, 48:] - out[1, 48:]).abs().mean()) > 2.0
