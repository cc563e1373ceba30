"""Shell scripts: syntax, build_engine.sh and the entrypoint against fake trtexec/tritonserver, setup-model.sh."""
import os
import stat
import subprocess

import pytest

from conftest import REPO_ROOT, TRITON_DIR

SCRIPTS = [os.path.join(TRITON_DIR, 'build_engine.sh'), os.path.join(TRITON_DIR, 'docker-entrypoint.sh'),
           os.path.join(REPO_ROOT, 'scripts', 'setup-model.sh')]
BUILD_ENGINE = SCRIPTS[0]
ENTRYPOINT = SCRIPTS[1]
SETUP_MODEL = SCRIPTS[2]


def _write_exe(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def fake_trtexec(tmp_path, trt_num):
    """Prints a trtexec-like banner; lists --fp16 only before TensorRT 11; records its args; writes the plan."""
    log = tmp_path / 'trtexec.log'
    has_fp16 = trt_num < 110000
    return _write_exe(tmp_path / 'trtexec', f'''#!/usr/bin/env bash
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v{trt_num}] # trtexec $*"
if [[ "$1" == --help ]]; then
  {'echo "  --fp16   Enable fp16 precision, in addition to fp32"' if has_fp16 else 'true'}
  echo "  --stronglyTyped   Create a strongly typed network"
  exit 0
fi
echo "$*" >> {log}
for a in "$@"; do [[ "$a" == --saveEngine=* ]] && printf plan > "${{a#--saveEngine=}}"; done
exit 0
'''), log


def _onnx_stub(path, fp16):
    # build_engine.sh only hashes the file and looks for export_onnx's precision metadata
    path.write_bytes(b'\x08\x08' + (b'precision\x12\x04fp16' if fp16 else b'precision\x12\x04fp32'))
    return str(path)


def _run(cmd, env=None, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.parametrize('script', SCRIPTS, ids=os.path.basename)
def test_script_parses(script):
    assert _run(['bash', '-n', script]).returncode == 0


def test_build_engine_trt10_fp32_onnx_uses_fp16_flag_and_the_batch_profile(tmp_path):
    trtexec, log = fake_trtexec(tmp_path, 100800)
    onnx_path = _onnx_stub(tmp_path / 'model.onnx', fp16=False)
    out = tmp_path / 'engines' / 'model.plan'
    proc = _run(['bash', BUILD_ENGINE, '--onnx', onnx_path, '--out', str(out)], {'TRTEXEC': trtexec})
    assert proc.returncode == 0, proc.stderr
    args = log.read_text().split()
    assert '--fp16' in args and '--stronglyTyped' not in args
    assert '--minShapes=mel:1x1x80x16,face:1x96x96x3' in args
    assert '--optShapes=mel:32x1x80x16,face:32x96x96x3' in args
    assert '--maxShapes=mel:128x1x80x16,face:128x96x96x3' in args
    assert out.read_text() == 'plan' and 'trt=10.8.0' in (tmp_path / 'engines' / 'model.plan.stamp').read_text()
    # second run: up to date, trtexec not called again
    again = _run(['bash', BUILD_ENGINE, '--onnx', onnx_path, '--out', str(out)], {'TRTEXEC': trtexec})
    assert again.returncode == 0 and 'up to date' in again.stdout
    assert len(log.read_text().splitlines()) == 1


def test_build_engine_trt11_refuses_fp32_onnx_for_fp16_and_builds_from_fp16_onnx(tmp_path):
    trtexec, log = fake_trtexec(tmp_path, 110100)
    out = tmp_path / 'model.plan'
    fp32 = _onnx_stub(tmp_path / 'a.onnx', fp16=False)
    proc = _run(['bash', BUILD_ENGINE, '--onnx', fp32, '--out', str(out)], {'TRTEXEC': trtexec})
    assert proc.returncode != 0 and 'WAV2LIP_FP16=1' in proc.stderr and not out.exists()
    fp16 = _onnx_stub(tmp_path / 'b.onnx', fp16=True)
    proc = _run(['bash', BUILD_ENGINE, '--onnx', fp16, '--out', str(out)], {'TRTEXEC': trtexec})
    assert proc.returncode == 0, proc.stderr
    args = log.read_text().split()
    assert '--fp16' not in args and '--stronglyTyped' not in args and out.exists()


def test_build_engine_rejects_a_bad_profile(tmp_path):
    trtexec, _ = fake_trtexec(tmp_path, 100800)
    onnx_path = _onnx_stub(tmp_path / 'model.onnx', fp16=True)
    proc = _run(['bash', BUILD_ENGINE, '--onnx', onnx_path, '--opt', '256'], {'TRTEXEC': trtexec})
    assert proc.returncode == 2 and proc.stderr.strip() == 'build_engine: need min <= opt <= max batch'


@pytest.mark.parametrize('backend', ['tensorrt', 'onnx'])
def test_entrypoint_builds_the_serving_repository_then_execs_tritonserver(tmp_path, backend):
    trtexec, _ = fake_trtexec(tmp_path, 100800)
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    _write_exe(bindir / 'tritonserver', '#!/usr/bin/env bash\necho "tritonserver $*"\n')
    src = tmp_path / 'models' / 'wav2lip'
    (src / '1').mkdir(parents=True)
    _onnx_stub(src / '1' / 'model.onnx', fp16=False)
    (src / 'config.pbtxt').write_text('platform: "onnxruntime_onnx"\n')
    run_repo = tmp_path / 'run'
    env = {'TRTEXEC': trtexec, 'PATH': f'{bindir}:{os.environ["PATH"]}', 'MODEL_SOURCE': str(tmp_path / 'models'),
           'ENGINE_DIR': str(tmp_path / 'engines'), 'RUN_REPOSITORY': str(run_repo), 'WAV2LIP_BACKEND': backend}
    proc = _run(['bash', ENTRYPOINT, '--strict-readiness=true'], env)
    assert proc.returncode == 0, proc.stderr
    assert f'tritonserver --model-repository={run_repo} --strict-readiness=true' in proc.stdout
    config = (run_repo / 'wav2lip' / 'config.pbtxt').read_text()
    if backend == 'tensorrt':
        assert 'tensorrt_plan' in config and (run_repo / 'wav2lip' / '1' / 'model.plan').read_text() == 'plan'
    else:
        assert 'onnxruntime_onnx' in config and (run_repo / 'wav2lip' / '1' / 'model.onnx').exists()


def test_entrypoint_says_how_to_build_a_missing_model(tmp_path):
    proc = _run(['bash', ENTRYPOINT], {'MODEL_SOURCE': str(tmp_path), 'RUN_REPOSITORY': str(tmp_path / 'run')})
    assert proc.returncode == 1 and 'scripts/setup-model.sh' in proc.stderr


def test_setup_model_names_missing_python_packages(tmp_path):
    fake_py = _write_exe(tmp_path / 'python3', '#!/usr/bin/env bash\n'
                         '[[ "$1" == -c && "$2" == "import torch" ]] && exit 1\nexec /usr/bin/python3 "$@"\n')
    proc = _run(['bash', SETUP_MODEL], {'WAV2LIP_PYTHON': fake_py, 'MODEL_REPOSITORY': str(tmp_path / 'repo')})
    assert proc.returncode == 1
    assert 'python3-torch' in proc.stderr and 'apt-get install' in proc.stderr
    assert 'python3-numpy' not in proc.stderr and 'python3-onnx' not in proc.stderr
    missing = _run(['bash', SETUP_MODEL], {'WAV2LIP_PYTHON': str(tmp_path / 'none'),
                                          'MODEL_REPOSITORY': str(tmp_path / 'repo')})
    assert missing.returncode == 1 and 'python3-torch python3-onnx python3-numpy' in missing.stderr


def test_setup_model_builds_once_then_is_a_no_op_and_rebuilds_when_the_source_changes(demo_repo, tmp_path):
    version_dir = demo_repo['version_dir']
    model, stamp = version_dir / 'model.onnx', version_dir / 'SOURCE'
    assert model.stat().st_size > 100e6 and stamp.read_text().startswith('random-seed=0 ')
    assert 'precision=fp16' in (version_dir / 'SOURCE.fp16').read_text()
    assert 'meaningless' in demo_repo['stdout'] and 'non-commercial' in demo_repo['stdout']
    assert sorted(p.name for p in version_dir.iterdir()) == ['SOURCE', 'SOURCE.fp16', 'model.fp16.onnx', 'model.onnx']
    mtime = model.stat().st_mtime_ns
    second = _run(['bash', SETUP_MODEL], demo_repo['env'])
    assert second.returncode == 0 and second.stdout.count('up to date') == 2
    assert model.stat().st_mtime_ns == mtime
    # a new source (here an unusable checkpoint) is not "up to date": the exporter runs and refuses it
    bad = tmp_path / 'bad.pth'
    bad.write_text('not a checkpoint')
    third = _run(['bash', SETUP_MODEL], {**demo_repo['env'], 'WAV2LIP_CHECKPOINT': str(bad)})
    assert third.returncode == 2 and 'not a readable PyTorch checkpoint' in third.stderr
    assert not stamp.exists()  # the old model is no longer vouched for, so the next run rebuilds it
    assert model.stat().st_mtime_ns == mtime  # and nothing half-written replaced it


def test_setup_model_refuses_a_missing_checkpoint_with_exit_2(tmp_path):
    proc = _run(['bash', SETUP_MODEL], {'WAV2LIP_CHECKPOINT': str(tmp_path / 'wav2lip_gan.pth'),
                                        'MODEL_REPOSITORY': str(tmp_path / 'repo')})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f'setup-model: WAV2LIP_CHECKPOINT={tmp_path}/wav2lip_gan.pth: no such file']
    assert not (tmp_path / 'repo' / 'wav2lip' / '1' / 'model.onnx').exists()


def test_setup_model_stamp_names_the_weights_and_identifies_a_checkpoint_by_its_published_hash(tmp_path):
    """--describe prints the stamp (build line + provenance line) without building; the table is the test's."""
    import hashlib
    import json
    ckpt = tmp_path / 'renamed.pth'
    ckpt.write_bytes(b'not really wav2lip, but the table says so' * 1000)
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    table = tmp_path / 'table.json'
    table.write_text(json.dumps([{'name': 'wav2lip_gan', 'file': 'wav2lip_gan.pth', 'sha256': digest,
                                  'bytes': ckpt.stat().st_size}]))
    env = {'WAV2LIP_CHECKPOINT': str(ckpt), 'MODEL_REPOSITORY': str(tmp_path / 'repo')}
    official = _run(['bash', SETUP_MODEL, '--describe'], {**env, 'MODEL_CHECKPOINT_TABLE': str(table)})
    assert official.returncode == 0, official.stderr
    build, prov = official.stdout.splitlines()
    assert build.startswith(f'checkpoint={ckpt} sha256={digest} bytes={ckpt.stat().st_size} exporter=')
    assert build.endswith(' precision=fp32')
    assert prov == 'name=wav2lip_gan origin=official licence=research-non-commercial'
    # the published table does not know this file: unknown, said so
    unknown = _run(['bash', SETUP_MODEL, '--describe'], env)
    assert unknown.stdout.splitlines()[1] == 'name=unknown origin=unknown licence=unknown'
    demo = _run(['bash', SETUP_MODEL, '--describe'], {'MODEL_REPOSITORY': str(tmp_path / 'repo'), 'WAV2LIP_SEED': '3'})
    assert demo.stdout.splitlines()[1] == 'name=wav2lip-demo-seed3 origin=demo licence=demo-random-weights'
    assert not (tmp_path / 'repo').exists()  # nothing was built


def test_the_published_checkpoint_table_holds_the_official_hashes():
    import json
    table = json.loads(open(os.path.join(REPO_ROOT, 'gateway', 'src', 'inference', 'official-checkpoints.json')).read())
    assert {c['file']: (c['sha256'], c['bytes']) for c in table} == {
        'wav2lip.pth': ('b78b681b68ad9fe6c6fb1debc6ff43ad05834a8af8a62ffc4167b7b34ef63c37', 435807851),
        'wav2lip_gan.pth': ('ca9ab7b7b812c0e80a6e70a5977c545a1e8a365a6c49d5e533023c034d7ac3d8', 435801865),
    }


def test_gpu_bench_refuses_a_missing_gpu_and_bad_arguments_and_dry_runs_on_cpu(tmp_path):
    script = os.path.join(REPO_ROOT, 'scripts', 'gpu-bench.sh')
    env = {'GPU_BENCH_PYTHON': '/usr/bin/python3'}
    assert _run(['bash', '-n', script]).returncode == 0
    no_gpu = _run(['bash', script, '--batches', '1'], env)
    assert no_gpu.returncode == 2 and 'no CUDA GPU' in no_gpu.stderr
    bad = _run(['bash', script, '--device', 'cpu', '--batches', 'x'], env)
    assert bad.returncode == 2 and '--batches takes positive integers' in bad.stderr
    out = tmp_path / 'gpu.json'
    dry = _run(['bash', script, '--device', 'cpu', '--batches', '1', '--iters', '1', '--precisions', 'fp32',
                '--parity-frames', '1', '--json', str(out)], env, timeout=600)
    assert dry.returncode == 0, dry.stderr
    assert 'precision  batch   ms/batch' in dry.stdout
    import json
    timings = json.loads(out.read_text())['timings']
    assert [(t['precision'], t['batch']) for t in timings] == [('fp32', 1)] and timings[0]['ms'] > 0
