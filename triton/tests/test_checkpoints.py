"""Official-format checkpoints load; everything else is refused with one line, exit 2, no output file."""
import os

import onnx
import pytest
import torch
from onnx import numpy_helper

from checkpoint_loader import CheckpointError, load_generator
import export_onnx
from conftest import run_export
from wav2lip_model import build_random


def official_checkpoint(path, seed=0, generator=None):
    """The layout wav2lip_train.py saves: DataParallel keys plus optimizer state and counters (of `generator`, else
    of build_random(seed))."""
    generator = build_random(seed) if generator is None else generator
    sd = {f'module.{k}': v for k, v in generator.state_dict().items()}
    adam = {'state': {0: {'step': 250000, 'exp_avg': torch.zeros(16), 'exp_avg_sq': torch.zeros(16)}},
            'param_groups': [{'lr': 1e-4, 'betas': (0.5, 0.999), 'eps': 1e-8, 'weight_decay': 0,
                              'amsgrad': False, 'params': list(range(len(sd)))}]}
    torch.save({'state_dict': sd, 'optimizer': adam, 'global_step': 250000, 'global_epoch': 123}, path)
    return path


def syncnet_like(path):
    sd = {'face_encoder.0.conv_block.0.weight': torch.zeros(32, 15, 7, 7),
          'face_encoder.0.conv_block.0.bias': torch.zeros(32),
          'audio_encoder.0.conv_block.0.weight': torch.zeros(32, 1, 3, 3)}
    torch.save({'state_dict': {f'module.{k}': v for k, v in sd.items()}, 'optimizer': None,
                'global_step': 1, 'global_epoch': 1}, path)


def discriminator_like(path):
    sd = {'face_encoder_blocks.0.0.conv_block.0.weight': torch.zeros(32, 3, 7, 7),
          'binary_pred.0.weight': torch.zeros(1, 512, 1, 1)}
    torch.save({'state_dict': {f'module.{k}': v for k, v in sd.items()}}, path)


def wrong_shape(path):
    sd = build_random(0).state_dict()
    sd['output_block.1.weight'] = torch.zeros(4, 32, 1, 1)
    torch.save({'state_dict': sd}, path)


def truncated(path):
    official_checkpoint(path)
    size = os.path.getsize(path)
    with open(path, 'r+b') as fh:
        fh.truncate(size // 3)


def not_torch(path):
    with open(path, 'w') as fh:
        fh.write('<html>404 Not Found</html>\n')


def torchscript(path):
    torch.jit.script(torch.nn.Conv2d(6, 16, 7)).save(path)


class Payload:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def code_in_pickle(path):
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'extra': Payload()}, path)


def test_loader_never_runs_code_from_a_pickle(tmp_path, capfd):
    path = str(tmp_path / 'evil.pth')
    code_in_pickle(path)
    with pytest.raises(CheckpointError):
        load_generator(path)
    assert 'pwned' not in capfd.readouterr().out


def no_state_dict(path):
    torch.save({'model': 'wav2lip', 'global_step': 3}, path)


BAD = {
    'syncnet': (syncnet_like, 'SyncNet'),
    'discriminator': (discriminator_like, 'discriminator'),
    'wrong-shape': (wrong_shape, 'output_block.1.weight'),
    'truncated': (truncated, 'not a readable PyTorch checkpoint'),
    'not-torch': (not_torch, 'not a readable PyTorch checkpoint'),
    'torchscript': (torchscript, 'TorchScript'),
    'no-state-dict': (no_state_dict, 'state_dict'),
    'code-in-pickle': (code_in_pickle, 'could run code'),
}


@pytest.fixture(scope='module')
def official_ckpt(tmp_path_factory):
    return official_checkpoint(str(tmp_path_factory.mktemp('ckpt') / 'wav2lip_gan.pth'), seed=0)


def test_official_checkpoint_loads_strictly_with_its_weights(official_ckpt):
    loaded = load_generator(official_ckpt).state_dict()
    expected = build_random(0).state_dict()
    assert list(loaded) == list(expected)
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)


def test_legacy_container_of_the_released_files_loads(tmp_path, official_ckpt):
    # the released .pth files were written by torch 1.1, which only had the legacy (non-zip) container
    legacy = str(tmp_path / 'wav2lip_legacy.pth')
    with open(official_ckpt, 'rb') as fh:
        torch.save(torch.load(fh), legacy, _use_new_zipfile_serialization=False)
    expected = build_random(0).state_dict()
    loaded = load_generator(legacy).state_dict()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)


def test_official_checkpoint_exports_with_the_checkpoint_weights(tmp_path, official_ckpt, fp32_model):
    ckpt = official_ckpt
    out = tmp_path / 'from-ckpt.onnx'
    assert export_onnx.main(['--checkpoint', ckpt, '--out', str(out)]) == 0  # in-process: saves a torch import
    mine = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(out)).graph.initializer}
    seeded = {i.name: numpy_helper.to_array(i) for i in onnx.load(fp32_model).graph.initializer}
    assert mine.keys() == seeded.keys() and len(mine) > 50
    assert all((mine[k] == seeded[k]).all() for k in mine)  # same weights as the seed-0 export
    meta = {p.key: p.value for p in onnx.load(str(out), load_external_data=False).metadata_props}
    assert meta['wav2lip_source'].startswith('checkpoint:wav2lip_gan.pth sha256:')


@pytest.mark.parametrize('kind', sorted(BAD))
def test_loader_names_what_is_wrong(tmp_path, kind):
    make, expected_words = BAD[kind]
    path = str(tmp_path / f'{kind}.pth')
    make(path)
    with pytest.raises(CheckpointError) as err:
        load_generator(path)
    assert expected_words in str(err.value)
    assert '\n' not in str(err.value)


@pytest.mark.parametrize('kind', sorted(BAD))
def test_export_refuses_bad_checkpoint_with_exit_2_one_line_and_no_output(tmp_path, capsys, kind):
    make, expected_words = BAD[kind]
    path = str(tmp_path / f'{kind}.pt')
    make(path)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    assert export_onnx.main(['--checkpoint', path, '--out', str(out_dir / 'model.onnx')]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and expected_words in lines[0]
    assert list(out_dir.iterdir()) == []  # no model, no temp file


def test_cli_process_exits_2_for_a_torchscript_file(tmp_path):
    path = str(tmp_path / 'Wav2Lip-SD-GAN.pt')
    torchscript(path)
    proc = run_export('--checkpoint', path, '--out', str(tmp_path / 'm.onnx'))
    assert proc.returncode == 2
    assert 'TorchScript' in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'm.onnx').exists()


def test_export_refuses_missing_checkpoint_file(tmp_path, capsys):
    assert export_onnx.main(['--checkpoint', str(tmp_path / 'nope.pth'), '--out', str(tmp_path / 'm.onnx')]) == 2
    assert 'not found' in capsys.readouterr().err
    assert not (tmp_path / 'm.onnx').exists()
