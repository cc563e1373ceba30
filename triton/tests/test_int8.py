"""INT8 (QDQ) export: the contract read back from the file, parity with FP32, the quantizer's pure parts,
and bad calibration input refused with one line, exit 2, no output file."""
import os
import re

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

import export_onnx
from conftest import run_export
from int8_export import PSNR_FLOOR_DB, grey_metrics, load_calibration
from parity_check import run_onnx
from quantize_int8 import (OUTPUT_CONV, QuantizeError, activation_params, best_clip_range, fold_conv_transpose_bn,
                           weight_bits_for_cpu, weight_params)
from test_checkpoints import official_checkpoint
from test_export_onnx import _assert_contract, _reference
from wav2lip_model import build_random, calibrate_bn

PRINTED = re.compile(r'max diff (\d+), mean ([\d.]+) grey levels, mouth \(lower half\) PSNR ([\d.]+) dB')


def _holdout(calib_dir):
    return load_calibration(str(calib_dir))['holdout']


def _conv_weight_types(model):
    """For each Conv: the element type of the tensor its weight comes from (through a DequantizeLinear)."""
    producer = {o: n for n in model.graph.node for o in n.output}
    inits = {i.name: i for i in model.graph.initializer}
    out = {}
    for n in model.graph.node:
        if n.op_type in ('Conv', 'ConvTranspose'):
            w = n.input[1]
            src = producer.get(w)
            out[n.name] = inits[src.input[0]].data_type if src is not None and src.op_type == 'DequantizeLinear' \
                else inits[w].data_type
    return out


def test_int8_file_keeps_the_contract_and_quantizes_every_conv_but_the_output_conv(int8_repo):
    model = _assert_contract(int8_repo['model'])
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['precision'] == 'int8' and meta['wav2lip_source'] == 'random-seed:0 bn-calibrated'
    assert meta['int8_weight_bits'] in ('7', '8') and int(meta['int8_calibration_frames']) == 12
    assert meta['int8_conv_transposes_rewritten'] == '6' and meta['int8_fp32_blocks'] == 'none'
    assert meta['int8_equalize_alpha'] == '0.5'
    types = _conv_weight_types(model)
    # the 6 ConvTranspose layers became Conv (+ phase interleave), their BatchNorm folded in first
    assert len(types) == 45 + 6 and not [k for k in types if k.endswith('ConvTranspose')]
    assert types.pop(OUTPUT_CONV) == TensorProto.FLOAT
    assert set(types.values()) == {TensorProto.INT8}
    assert not [n for n in model.graph.node if n.op_type in ('BatchNormalization', 'ConvTranspose')]
    # the uint8 wrapper stays outside the quantized core
    wrapper = [n for n in model.graph.node if not n.name.startswith('/generator/') and 'Quantize' not in n.op_type]
    assert {n.op_type for n in wrapper} >= {'Cast', 'Div', 'Gather', 'Mul', 'Concat', 'Clip', 'Round', 'Transpose'}
    qdq = [n for n in model.graph.node if n.op_type == 'QuantizeLinear']
    assert all(not n.input[0].startswith('/Cast') and n.input[0] != 'face' for n in qdq)


def test_onnx_runtime_runs_every_conv_but_the_output_conv_as_an_int8_kernel(int8_repo, calib_dir, tmp_path):
    """What ORT 1.30 really runs (its optimized graph): no FP32 island left in the core but the output conv."""
    mel, face = _holdout(calib_dir)
    optimized = str(tmp_path / 'optimized.onnx')
    run_onnx(int8_repo['model'], {'mel': mel[:1], 'face': face[:1]}, optimized_out=optimized)
    ops = [n.op_type for n in onnx.load(optimized).graph.node]
    assert ops.count('QLinearConv') == 50
    assert ops.count('Conv') + ops.count('FusedConv') == 1  # the output conv (with the sigmoid fused in)
    assert 'ConvTranspose' not in ops and 'DepthToSpace' not in ops
    # the adds, the skip concats and the interleave run on uint8; one DequantizeLinear feeds the output conv
    assert ops.count('QLinearAdd') == 28 and ops.count('QLinearConcat') == 7
    assert ops.count('DequantizeLinear') == 1 and 'Add' not in ops and 'Relu' not in ops


def test_fp32_blocks_stay_fp32_and_an_unknown_block_is_bad_input(tmp_path, calib_dir, capsys):
    out = tmp_path / 'mixed.onnx'
    assert export_onnx.main(['--random-seed', '0', '--calibrate-bn', '--int8', '--calibration', str(calib_dir),
                             '--int8-fp32-blocks', 'audio_encoder', '--out', str(out)]) == 0
    assert 'audio_encoder (--int8-fp32-blocks: quality)' in capsys.readouterr().out
    model = onnx.load(str(out))
    assert {p.key: p.value for p in model.metadata_props}['int8_fp32_blocks'] == 'audio_encoder'
    types = _conv_weight_types(model)
    fp32 = sorted(k for k, v in types.items() if v == TensorProto.FLOAT)
    assert len(fp32) == 13 + 1 and OUTPUT_CONV in fp32 and len(types) == 51
    assert all(k.startswith('/generator/audio_encoder/') for k in fp32 if k != OUTPUT_CONV)
    bad = tmp_path / 'bad.onnx'
    rc = export_onnx.main(['--random-seed', '0', '--int8', '--calibration', str(calib_dir),
                           '--int8-fp32-blocks', 'audio_encoder,mouth_block', '--out', str(bad)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "unknown block 'mouth_block'" in lines[0] and 'audio_encoder' in lines[0]
    assert not bad.exists() and [p.name for p in tmp_path.iterdir()] == ['mixed.onnx']


def test_int8_demo_model_stays_above_the_psnr_floor_on_held_out_inputs(int8_repo, calib_dir):
    m = PRINTED.search(int8_repo['stdout'])
    assert m, int8_repo['stdout']
    mel, face = _holdout(calib_dir)
    served_ref = _reference(calibrate_bn(build_random(0), 0), mel, face)
    got = run_onnx(int8_repo['model'], {'mel': mel, 'face': face})['mouth']
    metrics = grey_metrics(got, served_ref)
    print(f'demo int8 vs FP32: {metrics}')
    assert metrics['mouth_psnr_db'] >= PSNR_FLOOR_DB
    assert abs(metrics['mouth_psnr_db'] - float(m.group(3))) < 0.05  # the export printed what it measured


def test_int8_official_format_checkpoint_stays_above_the_psnr_floor(tmp_path, calib_dir, capsys):
    """A checkpoint in the layout wav2lip_train.py saves, with BN statistics of its own (as a trained one has: with
    torch's default statistics the output hardly depends on the inputs and any quantization would pass)."""
    generator = calibrate_bn(build_random(3), 3)
    ckpt = official_checkpoint(str(tmp_path / 'wav2lip.pth'), generator=generator)
    out = tmp_path / 'int8.onnx'
    assert export_onnx.main(['--checkpoint', ckpt, '--int8', '--calibration', str(calib_dir), '--out', str(out)]) == 0
    printed = PRINTED.search(capsys.readouterr().out)
    mel, face = _holdout(calib_dir)
    want = _reference(generator, mel, face)
    got = run_onnx(str(out), {'mel': mel, 'face': face})['mouth']
    metrics = grey_metrics(got, want)
    print(f'official-format checkpoint int8 vs FP32: {metrics}')
    assert metrics['mouth_psnr_db'] >= PSNR_FLOOR_DB and abs(metrics['mouth_psnr_db'] - float(printed.group(3))) < 0.05
    # the output is alive: another face changes the mouth by far more than int8 rounding does
    other = grey_metrics(_reference(generator, mel, face[::-1].copy()), want)
    assert other['mean'] > 5 * metrics['mean']
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta['precision'] == 'int8' and meta['wav2lip_source'].startswith('checkpoint:wav2lip.pth sha256:')


def test_int8_below_the_psnr_floor_fails_the_export_in_one_line_and_writes_nothing(tmp_path, calib_dir, capsys):
    out = tmp_path / 'm.onnx'
    rc = export_onnx.main(['--random-seed', '0', '--calibrate-bn', '--int8', '--calibration', str(calib_dir),
                           '--int8-psnr-floor', '90', '--out', str(out)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 1 and len(lines) == 1, captured.err
    assert re.match(r'error: int8 mouth PSNR [\d.]+ dB is below the floor of 90.0 dB \(keep blocks FP32', lines[0])
    assert 'WAV2LIP_INT8_PSNR_FLOOR' in lines[0] and PRINTED.search(captured.out)
    assert list(tmp_path.iterdir()) == []  # no model, no temp file left beside it


def test_int8_equalize_out_of_range_is_bad_input(tmp_path, calib_dir, capsys):
    out = tmp_path / 'm.onnx'
    rc = export_onnx.main(['--random-seed', '0', '--int8', '--calibration', str(calib_dir), '--int8-equalize', '1.5',
                           '--out', str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and lines == ['error: --int8-equalize must be between 0 (off) and 1'] and not out.exists()


def _bad_folder(tmp_path, kind, calib_dir):
    bad = tmp_path / 'bad'
    if kind == 'missing':
        return bad
    for name in ('calibration', 'holdout'):
        (bad / name).mkdir(parents=True)
        for f in ('mel.npy', 'face.npy'):
            arr = np.load(calib_dir / name / f)
            if kind == 'face-shape' and f == 'face.npy':
                arr = arr[:, :64, :64]
            if kind == 'mel-dtype' and f == 'mel.npy':
                arr = arr.astype(np.float64)
            if kind == 'frame-count' and f == 'face.npy':
                arr = arr[:-1]
            if kind == 'no-holdout' and name == 'holdout':
                continue
            np.save(bad / name / f, arr)
    return bad


@pytest.mark.parametrize('kind,words', [('missing', 'no calibration data'), ('face-shape', 'expected uint8 [N,96,96,3]'),
                                        ('mel-dtype', 'expected float32 [N,1,80,16]'), ('frame-count', 'the same number'),
                                        ('no-holdout', 'holdout/')])
def test_bad_calibration_folder_is_one_line_exit_2_and_no_output(tmp_path, calib_dir, capsys, kind, words):
    folder = _bad_folder(tmp_path, kind, calib_dir)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    rc = export_onnx.main(['--random-seed', '0', '--int8', '--calibration', str(folder), '--out', str(out_dir / 'm.onnx')])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('error: ') and words in lines[0], lines
    assert list(out_dir.iterdir()) == []


def test_int8_and_fp16_together_are_refused_by_the_cli(tmp_path):
    proc = run_export('--random-seed', '0', '--int8', '--fp16', '--out', str(tmp_path / 'm.onnx'))
    assert proc.returncode == 2 and 'not allowed with' in proc.stderr
    assert not (tmp_path / 'm.onnx').exists()


def test_weight_params_are_symmetric_per_channel():
    w = np.array([[[[0.5, -1.0]]], [[[0.02, 0.005]]]], np.float32)  # 2 output channels
    q, scale = weight_params(w, 0, 127)
    assert q.dtype == np.int8 and np.allclose(scale, [1.0 / 127, 0.02 / 127])
    assert q[0].ravel().tolist() == [64, -127] and q[1].ravel().tolist() == [127, 32]
    q7, _ = weight_params(w, 0, 63)
    assert np.abs(q7).max() == 63


def test_activation_params_keep_zero_exact_and_relu_ranges_start_at_zero():
    scale, zero = activation_params(0.0, 2.55)
    assert zero == 0 and np.isclose(scale, 0.01)
    scale, zero = activation_params(-1.0, 3.0)
    assert np.isclose(scale, 4 / 255) and zero == round(1.0 / (4 / 255))
    assert activation_params(0.5, 1.0)[1] == 0  # the range is widened to hold 0


def test_best_clip_range_clips_a_long_tail_and_keeps_a_uniform_range():
    uniform = np.ones(2048)
    assert best_clip_range(uniform, 0.0, 10.0) == (0.0, 10.0)
    tail = np.zeros(2048)
    tail[:100] = 1e6  # almost everything below 0.5, one outlier at the top
    tail[-1] = 1
    lo, hi = best_clip_range(tail, 0.0, 10.0)
    assert lo == 0.0 and 0.3 < hi < 2.0


def test_weight_bits_follow_the_cpu_int8_instructions():
    assert weight_bits_for_cpu({'avx2', 'fma'}) == 7
    assert weight_bits_for_cpu({'avx2', 'avx512_vnni'}) == 8
    assert weight_bits_for_cpu({'amx_int8', 'amx_tile'}) == 8


def test_conv_transpose_batchnorm_folding_is_exact(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 3, 3, 2, 1, 1), torch.nn.BatchNorm2d(3)).eval()
    net[1].running_mean.uniform_(-1, 1)
    net[1].running_var.uniform_(0.5, 2)
    net[1].weight.data.uniform_(0.5, 1.5)
    x = torch.randn(2, 4, 5, 5)
    path = str(tmp_path / 'ct.onnx')
    torch.onnx.export(net, (x,), path, opset_version=17, input_names=['x'], output_names=['y'],
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL)
    model = onnx.load(path)
    for n in model.graph.node:
        n.name = n.name or f'{n.op_type}_node'
    folded = fold_conv_transpose_bn(model)
    assert [n.op_type for n in folded.graph.node] == ['ConvTranspose']
    onnx.save(folded, path)
    got = run_onnx(path, {'x': x.numpy()})['y']
    with torch.no_grad():
        want = net(x).numpy()
    assert np.abs(got - want).max() < 1e-5


def test_setup_model_int8_is_a_no_op_the_second_time_and_refuses_unknown_arguments(int8_repo):
    import subprocess
    script = os.path.join(os.path.dirname(export_onnx.__file__), '..', 'scripts', 'setup-model.sh')
    again = subprocess.run(['bash', script, '--int8'], env=int8_repo['env'], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count('is up to date') == 2  # FP32 and int8
    stamp = open(os.path.join(os.path.dirname(int8_repo['model']), 'SOURCE')).read()
    assert 'precision=int8' in stamp and 'calibration=' in stamp and 'int8-cpu=' in stamp
    bad = subprocess.run(['bash', script, '--int9'], env=int8_repo['env'], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown argument '--int9'" in bad.stderr
