"""Post-training static INT8 quantization of the exported Wav2Lip graph, written with the onnx package.

Debian has no Python onnxruntime (so no onnxruntime.quantization); this builds the QDQ graph itself:
- ConvTranspose + BatchNormalization are folded first (torch's exporter folds BN into Conv only);
- weights: per-output-channel symmetric int8 (axis 0 of Conv's [Cout,Cin,k,k]), stored quantized
  behind a DequantizeLinear; 7-bit ([-63, 63]) on CPUs without VNNI, where ORT's u8s8 kernel
  (vpmaddubsw) saturates 16-bit pair sums with full-range weights (see weight_bits_for_cpu);
- biases: int32 with scale = input scale × weight scale (what QLinearConv expects);
- activations: per-tensor asymmetric uint8, ranges calibrated on real inputs by onnxruntime-node
  (triton/ort_calibrate.js: min/max, then histograms and the least-squared-error clipping range),
  as QuantizeLinear → DequantizeLinear pairs. ONNX Runtime 1.30 (CPU) fuses DQ → Conv → (Relu) → Q
  into QLinearConv, DQ → Add → (Relu) → Q into QLinearAdd and DQ → Concat → Q into QLinearConcat.
- FP32 inside the core: ConvTranspose (no int8 kernel in ORT 1.30 CPU; see quantized_ops), the
  output conv and the sigmoid (FP32_KEPT).
Only nodes of the generator (name prefix /generator/) are touched: the uint8 contract wrapper
(/255, BGR, mask, concat; ×255, clamp, round, uint8) stays FP32 outside the quantized core.
"""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnx_fp16 import CORE_PREFIX, _inline_initializer_identities, _topological

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_CALIBRATE = os.path.join(HERE, 'ort_calibrate.js')
OUTPUT_CONV = '/generator/output_block/output_block.1/Conv'
# what stays FP32 inside the core, and why (printed by the exporter, listed in the README)
FP32_KEPT = {
    OUTPUT_CONV: 'last 1x1 conv (32->3): its output is the pre-sigmoid logit of the pixels, where 8 bits '
                 'cost several grey levels; 0.2 % of the multiply-adds',
    '/generator/output_block/output_block.2/Sigmoid': 'elementwise on 3 channels, feeds the pixels',
    'ConvTranspose (6)': 'ORT 1.30 CPU has no int8 ConvTranspose kernel: QDQ around it is not fused and '
                         'com.microsoft QLinearConvTranspose is not registered (BatchNorm is folded into it instead)',
}

# CPU flags with an int8 dot product that accumulates in 32 bits (no 16-bit saturation)
VNNI_FLAGS = ('avx512_vnni', 'avx_vnni', 'amx_int8')


def cpu_flags(path='/proc/cpuinfo'):
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def weight_bits_for_cpu(flags=None):
    """8 where the CPU has VNNI/AMX; 7 otherwise (ORT's AVX2 u8s8 kernel adds pairs of u8×s8 products in
    16 bits: 2·255·127 overflows, 2·255·63 does not). Measured here: 8-bit weights on an AVX2-only CPU
    cost ~6 dB of mouth PSNR."""
    flags = cpu_flags() if flags is None else flags
    return 8 if any(f in flags for f in VNNI_FLAGS) else 7


class QuantizeError(Exception):
    """Bad input to the quantizer (calibration data missing or of the wrong shape). One line."""


def _graph_maps(graph):
    producer = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    return producer, consumers


def _attr(node, name, default):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def fold_conv_transpose_bn(model):
    """ConvTranspose → BatchNormalization becomes one ConvTranspose (eval-mode BN is an affine map per channel)."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    _inline_initializer_identities(graph, set(inits))
    producer, consumers = _graph_maps(graph)
    drop = set()
    for bn in [n for n in graph.node if n.op_type == 'BatchNormalization']:
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != 'ConvTranspose' or len(consumers[conv.output[0]]) != 1:
            continue
        if _attr(conv, 'group', 1) != 1:
            continue
        eps = _attr(bn, 'epsilon', 1e-5)
        gamma, beta, mean, var = (numpy_helper.to_array(inits[n]).astype(np.float64) for n in bn.input[1:5])
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = (numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2
             else np.zeros(w.shape[1]))
        s = gamma / np.sqrt(var + eps)
        w_name, b_name = f'{conv.name}.folded_weight', f'{conv.name}.folded_bias'
        graph.initializer.extend([
            numpy_helper.from_array((w * s[None, :, None, None]).astype(np.float32), w_name),
            numpy_helper.from_array(((b - mean) * s + beta).astype(np.float32), b_name)])
        x = conv.input[0]
        del conv.input[:]
        conv.input.extend([x, w_name, b_name])
        conv.output[0] = bn.output[0]
        drop.add(bn.name)
    kept = [n for n in graph.node if n.name not in drop]
    del graph.node[:]
    graph.node.extend(kept)
    _drop_unused_initializers(graph)
    del graph.value_info[:]
    return model


def _drop_unused_initializers(graph):
    used = {name for n in graph.node for name in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def quantized_ops(model):
    """Names of the core nodes that run on int8 tensors: every Conv but the output conv, every Add,
    and each Concat that feeds such a Conv. ConvTranspose stays FP32: ORT 1.30's CPU provider has no
    int8 kernel for it (it does not fuse QDQ ConvTranspose, and com.microsoft QLinearConvTranspose is
    not registered), so quantizing it would only add error."""
    graph = model.graph
    _, consumers = _graph_maps(graph)
    core = [n for n in graph.node if n.name.startswith(CORE_PREFIX)]
    convs = {n.name for n in core if n.op_type == 'Conv' and n.name != OUTPUT_CONV}
    ops = set(convs) | {n.name for n in core if n.op_type == 'Add'}
    for n in core:
        if n.op_type == 'Concat' and any(c.name in convs for c in consumers.get(n.output[0], [])):
            ops.add(n.name)
    return ops


def activations_to_quantize(model):
    """Float activations that get a Q/DQ pair: the non-constant inputs of the quantized ops. A Relu
    between a Conv/Add and such an input is absorbed by ORT (Q with zero point 0 after a Relu)."""
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    ops = quantized_ops(model)
    names, seen = [], set()
    for node in graph.node:
        if node.name not in ops:
            continue
        wanted = [node.input[0]] if node.op_type == 'Conv' else [n for n in node.input if n not in inits]
        for name in wanted:
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def calibrate(model, tensors, mel, face, batch=8, timeout=1800, bins=2048):
    """Runs the FP32 graph over the calibration frames twice (min/max, then histograms) and returns
    {tensor: (lo, hi)}: per tensor the clipping range with the least expected quantization error."""
    node = shutil.which('node')
    if node is None:
        raise QuantizeError('node is not on PATH (calibration runs onnxruntime-node)')
    probe = onnx.ModelProto.FromString(model.SerializeToString())
    del probe.graph.output[:]
    probe.graph.output.extend([helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in tensors])
    work = tempfile.mkdtemp(prefix='int8-calib-')
    try:
        model_path = os.path.join(work, 'probe.onnx')
        onnx.save(probe, model_path)
        specs = []
        for name, arr in (('mel', mel), ('face', face)):
            arr = np.ascontiguousarray(arr)
            arr.tofile(os.path.join(work, f'{name}.bin'))
            specs.append({'name': name, 'type': str(arr.dtype), 'dims': list(arr.shape), 'file': f'{name}.bin'})
        run = {'batch': batch, 'inputs': specs}
        minmax = _run_calibrator(node, model_path, work, run, 'ranges.json', timeout)
        minmax = {k: (min(float(v[0]), 0.0), max(float(v[1]), 0.0)) for k, v in minmax.items()}
        hists = _run_calibrator(node, model_path, work, {**run, 'histograms': minmax, 'bins': bins},
                                'histograms.json', timeout)
        return {k: best_clip_range(np.asarray(hists[k], np.float64), *minmax[k]) for k in minmax}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_calibrator(node, model_path, work, spec, result_file, timeout):
    with open(os.path.join(work, 'inputs.json'), 'w') as fh:
        json.dump(spec, fh)
    proc = subprocess.run([node, ORT_CALIBRATE, model_path, work], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip() or f'ort_calibrate exited {proc.returncode}').splitlines()[-1])
    with open(os.path.join(work, result_file)) as fh:
        return json.load(fh)


def best_clip_range(counts, lo, hi, levels=255, steps=128):
    """The range [f·lo, f·hi] (f in (0, 1]) with the least expected squared error for a uint8 grid:
    rounding noise scale²/12 inside, the clipping distance outside (MSE calibration)."""
    if hi - lo <= 0 or counts.sum() == 0:
        return lo, hi
    centres = lo + (np.arange(len(counts)) + 0.5) * (hi - lo) / len(counts)
    best, best_err = (lo, hi), np.inf
    for f in np.linspace(1.0 / steps, 1.0, steps):
        a, b = f * lo, f * hi
        scale = (b - a) / levels
        clipped = np.clip(centres, a, b)
        err = np.sum(counts * ((centres - clipped) ** 2 + scale * scale / 12.0))
        if err < best_err:
            best, best_err = (a, b), err
    return float(best[0]), float(best[1])


def activation_params(lo, hi):
    """uint8 asymmetric scale/zero point for a range; the range always holds 0 (exact zero padding)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = (hi - lo) / 255.0
    zero = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def weight_params(w, axis, qmax=127):
    """Symmetric per-channel int8: scale = max|w| / qmax per slice along `axis`."""
    other = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.max(np.abs(w), axis=other)
    scale = np.where(amax > 0, amax / float(qmax), 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -qmax, qmax).astype(np.int8)
    return q, scale


def insert_qdq(model, ranges, weight_qmax=127):
    """Returns a new ModelProto with Q/DQ around the core's activations and int8 weights."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    new_inits = []
    nodes = []
    act = {}  # tensor -> (scale, zero point, dq name)
    wanted = activations_to_quantize(model)
    missing = [t for t in wanted if t not in ranges]
    if missing:
        raise ValueError(f'no calibrated range for {len(missing)} tensor(s), e.g. {missing[0]}')
    for name in wanted:
        act[name] = activation_params(*ranges[name])

    def const(name, array):
        new_inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    dq_of = {}
    for name, (scale, zero) in act.items():
        s, z = const(f'{name}_scale', scale), const(f'{name}_zero_point', zero)
        nodes.append(helper.make_node('QuantizeLinear', [name, s, z], [f'{name}_q'], name=f'{name}_QuantizeLinear'))
        nodes.append(helper.make_node('DequantizeLinear', [f'{name}_q', s, z], [f'{name}_dq'],
                                      name=f'{name}_DequantizeLinear'))
        dq_of[name] = f'{name}_dq'

    ops = quantized_ops(model)
    quantized_convs = set()
    for node in graph.node:
        if node.name in ops:
            x = node.input[0]
            for i, name in enumerate(node.input):
                if name in dq_of:
                    node.input[i] = dq_of[name]
            if node.op_type == 'Conv' and x in act:
                _quantize_conv_params(node, inits, act[x][0], const, nodes, weight_qmax)
                quantized_convs.add(node.name)
        nodes.append(node)
    graph.initializer.extend(new_inits)
    del graph.node[:]
    graph.node.extend(_topological(nodes, graph))
    _drop_unused_initializers(graph)
    del graph.value_info[:]
    return model, quantized_convs


def _quantize_conv_params(node, inits, x_scale, const, nodes, qmax, axis=0):
    w = numpy_helper.to_array(inits[node.input[1]])
    q, w_scale = weight_params(w, axis, qmax)
    base = node.name
    zeros = np.zeros(w_scale.shape, np.int8)
    wq = const(f'{base}.weight_int8', q)
    ws, wz = const(f'{base}.weight_scale', w_scale), const(f'{base}.weight_zero_point', zeros)
    nodes.append(helper.make_node('DequantizeLinear', [wq, ws, wz], [f'{base}.weight_dq'], name=f'{base}.weight_DQ',
                                  axis=axis))
    node.input[1] = f'{base}.weight_dq'
    if len(node.input) > 2 and node.input[2]:
        b = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
        b_scale = (np.float64(x_scale) * w_scale.astype(np.float64))
        bq = np.clip(np.round(b / b_scale), -2 ** 31, 2 ** 31 - 1).astype(np.int32)
        bqn = const(f'{base}.bias_int32', bq)
        bs = const(f'{base}.bias_scale', b_scale.astype(np.float32))
        bz = const(f'{base}.bias_zero_point', np.zeros(b_scale.shape, np.int32))
        nodes.append(helper.make_node('DequantizeLinear', [bqn, bs, bz], [f'{base}.bias_dq'], name=f'{base}.bias_DQ',
                                      axis=0))
        node.input[2] = f'{base}.bias_dq'
