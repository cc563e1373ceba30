"""Post-training static INT8 quantization of the exported Wav2Lip graph, written with the onnx package.

Debian has no Python onnxruntime (so no onnxruntime.quantization); this builds the QDQ graph itself:
- ConvTranspose + BatchNormalization are folded first (torch's exporter folds BN into Conv only), then
  each ConvTranspose is rewritten as an exactly equivalent Conv + phase interleave
  (conv_transpose_rewrite.py): ORT 1.30 CPU has no int8 ConvTranspose, but runs that Conv as QLinearConv;
- weights: per-output-channel symmetric int8 (axis 0 of Conv's [Cout,Cin,k,k]), stored quantized
  behind a DequantizeLinear; 7-bit ([-63, 63]) on CPUs without VNNI, where ORT's u8s8 kernel
  (vpmaddubsw) saturates 16-bit pair sums with full-range weights (see weight_bits_for_cpu);
- biases: int32 with scale = input scale × weight scale (what QLinearConv expects);
- activations: per-tensor asymmetric uint8, ranges calibrated on real inputs by onnxruntime-node
  (int8_calibration.py: min/max, then histograms and the least-squared-error clipping range), as
  QuantizeLinear → DequantizeLinear pairs on the inputs and outputs of every quantized op. ONNX Runtime
  1.30 (CPU) fuses DQ → Conv → (Relu) → Q into QLinearConv, DQ → Add → (Relu) → Q into QLinearAdd,
  DQ → Concat → Q into QLinearConcat, and drops equal Q/DQ pairs around Transpose/Reshape (uint8 moves).
- FP32 inside the core: the output conv and the sigmoid (FP32_KEPT).
Only nodes of the generator (name prefix /generator/) are touched: the uint8 contract wrapper
(/255, BGR, mask, concat; ×255, clamp, round, uint8) stays FP32 outside the quantized core.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

from conv_transpose_rewrite import interleave_chains
from int8_calibration import QuantizeError, best_clip_range, calibrate  # noqa: F401 (re-exported)
from onnx_fp16 import CORE_PREFIX, _inline_initializer_identities, _topological

OUTPUT_CONV = '/generator/output_block/output_block.1/Conv'
# what stays FP32 inside the core, and why (printed by the exporter, listed in the README)
FP32_KEPT = {
    OUTPUT_CONV: 'last 1x1 conv (32->3): its output is the pre-sigmoid logit of the pixels, where 8 bits '
                 'cost several grey levels; 0.02 % of the multiply-adds',
    '/generator/output_block/output_block.2/Sigmoid': 'elementwise on 3 channels, feeds the pixels',
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


def quantized_ops(model, keep_fp32=()):
    """Names of the core nodes that run on int8 tensors: every Conv but the output conv (and those in
    keep_fp32), every Add, each Concat that feeds a quantized op, and each DepthToSpace behind a quantized
    Conv (the ConvTranspose rewrite: it only moves uint8 values, with equal Q parameters on both sides)."""
    graph = model.graph
    producer, consumers = _graph_maps(graph)
    core = [n for n in graph.node if n.name.startswith(CORE_PREFIX) and n.name not in keep_fp32]
    ops = {n.name for n in core if n.op_type == 'Conv' and n.name != OUTPUT_CONV}
    for first, chain in interleave_chains(model):
        if _through_relu(producer, first) in ops and not any(n.name in keep_fp32 for n in chain):
            ops |= {n.name for n in chain}
    ops |= {n.name for n in core if n.op_type == 'Add'}
    for n in core:
        if n.op_type == 'Concat' and any(c.name in ops for c in consumers.get(n.output[0], [])):
            ops.add(n.name)
    return ops


def _through_relu(producer, tensor):
    """The name of the node that makes `tensor`, looking through one Relu."""
    node = producer.get(tensor)
    if node is not None and node.op_type == 'Relu':
        node = producer.get(node.input[0])
    return None if node is None else node.name


def activations_to_quantize(model, keep_fp32=()):
    """Float activations that get a Q/DQ pair: the non-constant inputs of the quantized ops and their
    outputs (after a Relu that follows them: ORT absorbs it into the Q, whose zero point is then 0), so
    ORT finds DQ → op → Q around every quantized op and fuses it into its int8 kernel."""
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    _, consumers = _graph_maps(graph)
    ops = quantized_ops(model, keep_fp32)
    names, seen = [], set()
    for node in graph.node:
        if node.name not in ops:
            continue
        if node.op_type in ('Conv', 'DepthToSpace', 'Transpose', 'Reshape'):
            wanted = [node.input[0]]
        else:
            wanted = [n for n in node.input if n not in inits]
        out = node.output[0]
        users = consumers.get(out, [])
        if len(users) == 1 and users[0].op_type == 'Relu':
            out = users[0].output[0]
        for name in wanted + [out]:
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def pass_through_pairs(model, keep_fp32=()):
    """(source, tensor): each tensor of a quantized interleave chain (ConvTranspose rewrite) takes the Q
    parameters of the chain's input, so ORT drops the Q/DQ pairs and moves uint8 values."""
    ops = quantized_ops(model, keep_fp32)
    return [(first, n.output[0]) for first, chain in interleave_chains(model) for n in chain if n.name in ops]


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


def insert_qdq(model, ranges, weight_qmax=127, keep_fp32=()):
    """Returns a new ModelProto with Q/DQ around the core's activations and int8 weights. Every consumer
    of a quantized tensor reads its DequantizeLinear output."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    new_inits = []
    nodes = []
    act = {}  # tensor -> (scale, zero point, dq name)
    wanted = activations_to_quantize(model, keep_fp32)
    missing = [t for t in wanted if t not in ranges]
    if missing:
        raise ValueError(f'no calibrated range for {len(missing)} tensor(s), e.g. {missing[0]}')
    for name in wanted:
        act[name] = activation_params(*ranges[name])
    for src, dst in pass_through_pairs(model, keep_fp32):
        act[dst] = act[src]

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

    ops = quantized_ops(model, keep_fp32)
    quantized_convs = set()
    for node in graph.node:
        x = node.input[0] if node.input else None
        for i, name in enumerate(node.input):
            if name in dq_of:
                node.input[i] = dq_of[name]
        if node.name in ops:
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
