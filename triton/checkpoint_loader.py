"""Loads a Wav2Lip generator checkpoint and refuses anything else with a one-line reason.

Accepted: the official training/inference format {'state_dict': {'module.<key>': tensor}, 'optimizer',
'global_step', 'global_epoch'} (wav2lip.md §2), with or without the `module.` prefix, or a bare state_dict.
"""
import os
import pickle
import types
import zipfile
from unittest import mock

import torch

from wav2lip_model import Wav2Lip


class CheckpointError(Exception):
    """A file that is not a usable Wav2Lip generator checkpoint. str(err) is one line."""


# What a training checkpoint may reference when unpickled: tensors, storages and plain containers.
# torch 1.13's own weights_only loader rejects floats (Adam's lr/betas), hence this allowlist.
_ALLOWED_GLOBALS = {
    ('collections', 'OrderedDict'), ('builtins', 'set'), ('builtins', 'frozenset'), ('torch', 'Size'),
    ('torch._utils', '_rebuild_tensor'), ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'), ('torch', 'device'),
}
_STORAGES = {'FloatStorage', 'DoubleStorage', 'HalfStorage', 'BFloat16Storage', 'LongStorage', 'IntStorage',
             'ShortStorage', 'CharStorage', 'ByteStorage', 'BoolStorage', 'UntypedStorage'}


class _SafeUnpickler(pickle.Unpickler):
    """Refuses any global outside the allowlist, so a checkpoint from a random mirror cannot run code."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS or (module == 'torch' and name in _STORAGES):
            return super().find_class(module, name)
        raise CheckpointError(f'{self.source}: references {module}.{name}; a Wav2Lip checkpoint holds only '
                              'tensors and numbers (refused: unpickling it could run code)')


def _safe_pickle_module(path):
    class Unpickler(_SafeUnpickler):
        source = path
    module = types.ModuleType('safe_pickle')
    module.__dict__.update({k: v for k, v in pickle.__dict__.items() if not k.startswith('__')})
    module.Unpickler = Unpickler
    module.load = lambda f, **kw: Unpickler(f, **kw).load()
    return module


def _torch_load_restricted(path):
    safe = _safe_pickle_module(path)
    # torch 1.13's torch.load ignores pickle_module unless weights_only=True (it resets it to the
    # `pickle` module it imported), and its weights_only loader rejects floats. So the module-level
    # name is swapped for the duration of the call; newer torch honours pickle_module directly.
    with mock.patch.object(torch.serialization, 'pickle', safe):
        return torch.load(path, map_location='cpu', pickle_module=safe)


def _is_torchscript_zip(path):
    # TorchScript archives (e.g. the re-hosted Wav2Lip-SD-*.pt) carry code/ and constants.pkl
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith('/constants.pkl') or '/code/' in n for n in names)


def _read(path):
    if not os.path.isfile(path):
        raise CheckpointError(f'checkpoint not found: {path}')
    if os.path.getsize(path) == 0:
        raise CheckpointError(f'{path}: empty file')
    if _is_torchscript_zip(path):
        raise CheckpointError(
            f'{path}: is a TorchScript archive (like Wav2Lip-SD-*.pt), not a training checkpoint; '
            'use the original wav2lip.pth / wav2lip_gan.pth')
    try:
        return _torch_load_restricted(path)
    except CheckpointError:
        raise
    except Exception as err:  # pickle, zip and EOF errors all mean the same thing to the user
        raise CheckpointError(f'{path}: not a readable PyTorch checkpoint (truncated or wrong format: '
                              f'{_first_line(err)})') from None


def _first_line(err):
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:160]


def _guess_kind(keys):
    if any(k.startswith('binary_pred') for k in keys):
        return ' (looks like the Wav2Lip visual-quality discriminator)'
    if any(k.startswith('face_encoder.') for k in keys) and any(k.startswith('audio_encoder.') for k in keys):
        return ' (looks like the SyncNet lip-sync expert, lipsync_expert.pth)'
    return ''


def _extract_state_dict(obj, path):
    if isinstance(obj, torch.jit.ScriptModule):
        raise CheckpointError(f'{path}: is a TorchScript module, not a Wav2Lip training checkpoint')
    if not isinstance(obj, dict):
        raise CheckpointError(f'{path}: holds a {type(obj).__name__}, expected a dict with a "state_dict"')
    sd = obj.get('state_dict', obj)
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f'{path}: no "state_dict" of tensors (top-level keys: {sorted(map(str, obj))[:6]})')
    return {str(k).replace('module.', ''): v for k, v in sd.items()}  # as upstream inference.py does


def _check_keys(sd, expected, path):
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing (e.g. {missing[0]})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected (e.g. {unexpected[0]})')
        raise CheckpointError(
            f'{path}: not a Wav2Lip generator: keys {", ".join(parts)}{_guess_kind(list(sd))}')
    for key, ref in expected.items():
        got = sd[key]
        if tuple(got.shape) != tuple(ref.shape):
            raise CheckpointError(
                f'{path}: not a Wav2Lip generator: {key} has shape {list(got.shape)}, '
                f'expected {list(ref.shape)}{_guess_kind(list(sd))}')
        if got.dtype != ref.dtype and not (got.is_floating_point() and ref.is_floating_point()):
            raise CheckpointError(f'{path}: {key} has dtype {got.dtype}, expected {ref.dtype}')


def load_generator(path):
    """Returns a Wav2Lip in eval mode with the checkpoint's weights (strict load). Raises CheckpointError."""
    sd = _extract_state_dict(_read(path), path)
    model = Wav2Lip()
    expected = model.state_dict()
    _check_keys(sd, expected, path)
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in sd.items()}, strict=True)
    return model.eval()
