"""Shared fixtures: exported models are built once per session (each export runs its own ORT check)."""
import os
import subprocess
import sys

import pytest

TRITON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TRITON_DIR)
SHARED_DOCS = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'docs')
PYTHON = '/usr/bin/python3'
sys.path.insert(0, TRITON_DIR)


def run_export(*args, timeout=300):
    return subprocess.run([PYTHON, os.path.join(TRITON_DIR, 'export_onnx.py'), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture(scope='session')
def fp32_model(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('fp32') / 'model.onnx')
    proc = run_export('--random-seed', '0', '--out', out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope='session')
def fp16_model(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('fp16') / 'model.fp16.onnx')
    proc = run_export('--random-seed', '0', '--fp16', '--out', out)
    assert proc.returncode == 0, proc.stderr
    return out
