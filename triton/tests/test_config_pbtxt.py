"""config.pbtxt (ONNX) and config.tensorrt.pbtxt agree with the exported ONNX file and with each other."""
import os
import re

import onnx
import pytest
from onnx import TensorProto

from conftest import REPO_ROOT, TRITON_DIR
from pbtxt_parser import PbtxtError, first, parse_pbtxt

CONFIGS = {
    'onnx': os.path.join(REPO_ROOT, 'model_repository', 'wav2lip', 'config.pbtxt'),
    'tensorrt': os.path.join(TRITON_DIR, 'config.tensorrt.pbtxt'),
}
PLATFORM = {'onnx': 'onnxruntime_onnx', 'tensorrt': 'tensorrt_plan'}
TRITON_TYPE = {TensorProto.FLOAT: 'TYPE_FP32', TensorProto.UINT8: 'TYPE_UINT8', TensorProto.FLOAT16: 'TYPE_FP16'}


def _load(kind):
    with open(CONFIGS[kind]) as fh:
        return parse_pbtxt(fh.read())


def _onnx_io(path):
    graph = onnx.load(path, load_external_data=False).graph

    def spec(v):
        dims = [d.dim_value for d in v.type.tensor_type.shape.dim[1:]]
        return v.name, TRITON_TYPE[v.type.tensor_type.elem_type], dims
    return [spec(v) for v in graph.input], [spec(v) for v in graph.output]


def _config_io(cfg, field):
    return [(first(t, 'name'), first(t, 'data_type'), t['dims']) for t in cfg[field]]


def test_parser_reads_nested_messages_lists_and_comments():
    cfg = parse_pbtxt('''
      name: "m" # comment
      max_batch_size: 8
      input [ { name: "a" dims: [ 1, -1 ] }, { name: 'b' dims: 3 } ]
      dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }
      optimization { cuda { graphs: true } }
      parameters { key: "k" value: { string_value: "v" } }
    ''')
    assert first(cfg, 'name') == 'm' and first(cfg, 'max_batch_size') == 8
    assert [first(i, 'name') for i in cfg['input']] == ['a', 'b']
    assert cfg['input'][0]['dims'] == [1, -1] and cfg['input'][1]['dims'] == [3]
    assert first(cfg, 'dynamic_batching')['preferred_batch_size'] == [4, 8]
    assert first(first(first(cfg, 'optimization'), 'cuda'), 'graphs') is True
    assert first(first(first(cfg, 'parameters'), 'value'), 'string_value') == 'v'


def test_parser_rejects_unbalanced_braces():
    with pytest.raises(PbtxtError):
        parse_pbtxt('dynamic_batching { max_queue_delay_microseconds: 1')


@pytest.mark.parametrize('kind', sorted(CONFIGS))
def test_config_declares_the_exported_models_inputs_and_outputs(kind, fp32_model):
    cfg = _load(kind)
    inputs, outputs = _onnx_io(fp32_model)
    assert first(cfg, 'name') == 'wav2lip'
    assert first(cfg, 'platform') == PLATFORM[kind]
    assert _config_io(cfg, 'input') == inputs
    assert _config_io(cfg, 'output') == outputs


def test_fp16_model_has_the_same_triton_io_as_fp32(fp16_model, fp32_model):
    # the TensorRT config serves either file, so their I/O must not differ
    assert _onnx_io(fp16_model) == _onnx_io(fp32_model)


@pytest.mark.parametrize('kind', sorted(CONFIGS))
def test_config_batches_dynamically_on_gpu_and_warms_up_with_contract_inputs(kind):
    cfg = _load(kind)
    max_batch = first(cfg, 'max_batch_size')
    assert 0 < max_batch <= 128
    batching = first(cfg, 'dynamic_batching')
    assert batching['preferred_batch_size'] and all(0 < b <= max_batch for b in batching['preferred_batch_size'])
    assert first(batching, 'max_queue_delay_microseconds') > 0
    assert [first(g, 'kind') for g in cfg['instance_group']] == ['KIND_GPU']
    inputs = {first(t, 'name'): (first(t, 'data_type'), t['dims']) for t in cfg['input']}
    for warm in cfg['model_warmup']:
        assert 0 < first(warm, 'batch_size') <= max_batch
        got = {first(i, 'key'): (first(first(i, 'value'), 'data_type'), first(i, 'value')['dims']) for i in warm['inputs']}
        assert got == inputs


def test_tensorrt_max_batch_fits_the_engine_profile():
    with open(os.path.join(TRITON_DIR, 'build_engine.sh')) as fh:
        script = fh.read()
    profile_max = int(re.search(r'^MAX_BATCH=(\d+)$', script, re.M).group(1))
    assert first(_load('tensorrt'), 'max_batch_size') <= profile_max


INT8_CONFIG = os.path.join(REPO_ROOT, 'model_repository', 'wav2lip_int8', 'config.pbtxt')


def test_int8_config_declares_the_int8_models_io_and_runs_on_cpu(int8_repo):
    with open(INT8_CONFIG) as fh:
        cfg = parse_pbtxt(fh.read())
    inputs, outputs = _onnx_io(int8_repo['model'])
    assert first(cfg, 'name') == 'wav2lip_int8' and first(cfg, 'platform') == 'onnxruntime_onnx'
    assert first(cfg, 'default_model_filename') == 'model.onnx'
    assert _config_io(cfg, 'input') == inputs and _config_io(cfg, 'output') == outputs
    assert (inputs, outputs) == _onnx_io(int8_repo['fp32'])  # same contract as the FP32 model
    assert [first(g, 'kind') for g in cfg['instance_group']] == ['KIND_CPU']
    max_batch = first(cfg, 'max_batch_size')
    assert all(0 < b <= max_batch for b in first(cfg, 'dynamic_batching')['preferred_batch_size'])
    by_name = {first(t, 'name'): (first(t, 'data_type'), t['dims']) for t in cfg['input']}
    for warm in cfg['model_warmup']:
        got = {first(i, 'key'): (first(first(i, 'value'), 'data_type'), first(i, 'value')['dims']) for i in warm['inputs']}
        assert got == by_name and 0 < first(warm, 'batch_size') <= max_batch
