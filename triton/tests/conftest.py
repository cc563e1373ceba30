"""Shared fixtures: exported models are built once per session (each export runs its own ORT check)."""
import os
import subprocess
import sys

import pytest

TRITON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TRITON_DIR)
TEST_DATA = os.path.join(REPO_ROOT, 'triton', 'tests', 'data')
PYTHON = '/usr/bin/python3'
sys.path.insert(0, TRITON_DIR)


def run_export(*args, timeout=300):
    return subprocess.run([PYTHON, os.path.join(TRITON_DIR, 'export_onnx.py'), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture(scope='session')
def demo_repo(tmp_path_factory):
    """One run of scripts/setup-model.sh (FP32 + FP16, torch-default BN stats) shared by the tests."""
    repo = tmp_path_factory.mktemp('model_repository')
    env = {**os.environ, 'MODEL_REPOSITORY': str(repo), 'WAV2LIP_FP16': '1', 'WAV2LIP_DEMO_BN_CALIBRATE': '0'}
    proc = subprocess.run(['bash', os.path.join(REPO_ROOT, 'scripts', 'setup-model.sh')], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return {'repo': repo, 'env': env, 'stdout': proc.stdout, 'version_dir': repo / 'wav2lip' / '1'}


@pytest.fixture(scope='session')
def fp32_model(demo_repo):
    return str(demo_repo['version_dir'] / 'model.onnx')


@pytest.fixture(scope='session')
def fp16_model(demo_repo):
    return str(demo_repo['version_dir'] / 'model.fp16.onnx')


@pytest.fixture(scope='session')
def calib_dir(tmp_path_factory):
    """A small calibration folder from the gateway's own CLI (`lipsync calib-data`; needs `npm run build`)."""
    out = tmp_path_factory.mktemp('calib')
    cli = os.path.join(REPO_ROOT, 'dist', 'cli', 'lipsync.js')
    assert os.path.isfile(cli), 'the gateway is not built: run `npx tsc -p tsconfig.build.json` first'
    proc = subprocess.run(['node', os.path.join(REPO_ROOT, 'bin', 'lipsync.js'), 'calib-data', '--out', str(out),
                           '--frames', '12', '--holdout-frames', '6'], capture_output=True, text=True, timeout=600,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope='session')
def int8_repo(tmp_path_factory, calib_dir):
    """scripts/setup-model.sh --int8 (demo weights, BN-calibrated as the demo ships) on the small calibration set."""
    repo = tmp_path_factory.mktemp('model_repository_int8')
    env = {**os.environ, 'MODEL_REPOSITORY': str(repo), 'WAV2LIP_CALIBRATION': str(calib_dir)}
    proc = subprocess.run(['bash', os.path.join(REPO_ROOT, 'scripts', 'setup-model.sh'), '--int8'], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return {'repo': repo, 'env': env, 'stdout': proc.stdout, 'model': str(repo / 'wav2lip_int8' / '1' / 'model.onnx'),
            'fp32': str(repo / 'wav2lip' / '1' / 'model.onnx')}
