"""Exact rewrite of ConvTranspose as Conv (+ DepthToSpace), so ONNX Runtime can run it in int8.

ORT 1.30's CPU provider has no int8 ConvTranspose (QDQ around it is not fused, com.microsoft
QLinearConvTranspose is not registered), but it fuses DQ → Conv → Q into QLinearConv and runs a
uint8 DepthToSpace between Q/DQ pairs of equal parameters. A transposed convolution with stride s is
s² ordinary convolutions over the input, one per output phase (a, b) = (o_h mod s, o_w mod s):

  y[s·m + a] = Σ_kk x[m + d] · W[kk]   with d = (a + pad_begin − kk) / s for every kk ≡ a + pad_begin (mod s)

All phases read offsets d in [d_min, d_max], so one Conv with a (d_max − d_min + 1)² kernel, pads
(−d_min, …) and s²·Cout output channels (zero weights where a phase has no tap) computes every phase
at once; DepthToSpace (DCR, blocksize s) interleaves them: channel (a·s + b)·Cout + c → pixel
(s·m + a, s·n + b). Stride 1 needs no DepthToSpace (the Conv has the flipped, transposed kernel).
The bias is repeated per phase. Wav2Lip's layers (k 3, s 2, pad 1, output_padding 1: 2×2 kernel,
pads (0, 0, 1, 1); k 3, s 1, pad 0: 3×3 kernel, pads 2) satisfy the conditions below; a layer that
does not (groups, dilations, auto_pad, output_shape, an output size not divisible by s, negative
pads) is left as it is.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper


def _attr(node, name, default):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def axis_plan(k, s, pad_begin, pad_end, out_pad, size):
    """For one spatial axis: (d_min, taps, conv pad begin, conv pad end, phase size) or None.
    taps[a][t] = the ConvTranspose kernel index kk that phase a uses at conv tap t, or -1 (zero weight)."""
    out = s * (size - 1) + out_pad + k - pad_begin - pad_end
    if out <= 0 or out % s:
        return None
    offsets = [(a + pad_begin - kk) // s for a in range(s) for kk in range(k) if (a + pad_begin - kk) % s == 0]
    d_min, d_max = min(offsets), max(offsets)
    span = d_max - d_min + 1
    phase_size = out // s
    conv_begin = -d_min
    conv_end = phase_size - 1 + span - size - conv_begin
    if conv_begin < 0 or conv_end < 0:
        return None
    taps = [[a + pad_begin - s * (d_min + t) for t in range(span)] for a in range(s)]
    taps = [[kk if 0 <= kk < k else -1 for kk in row] for row in taps]
    return d_min, taps, conv_begin, conv_end, phase_size


def packed_conv_weight(w, b, s, taps_h, taps_w):
    """ConvTranspose weight [Cin, Cout, kh, kw] → Conv weight [s²·Cout, Cin, th, tw] (DCR phase order)."""
    cin, cout = w.shape[:2]
    th, tw = len(taps_h[0]), len(taps_w[0])
    wc = np.zeros((s, s, cout, cin, th, tw), dtype=w.dtype)
    for a in range(s):
        for bb in range(s):
            for i, kh in enumerate(taps_h[a]):
                for j, kw in enumerate(taps_w[bb]):
                    if kh >= 0 and kw >= 0:
                        wc[a, bb, :, :, i, j] = w[:, :, kh, kw].T
    bias = None if b is None else np.tile(b, s * s).astype(b.dtype)
    return wc.reshape(s * s * cout, cin, th, tw), bias


def _plan(node, shape_of):
    if _attr(node, 'group', 1) != 1 or _attr(node, 'auto_pad', b'NOTSET') not in (b'NOTSET', 'NOTSET'):
        return None
    if _attr(node, 'output_shape', None) or any(d != 1 for d in _attr(node, 'dilations', [1, 1])):
        return None
    strides = list(_attr(node, 'strides', [1, 1]))
    if len(strides) != 2 or strides[0] != strides[1]:
        return None
    shape = shape_of(node.input[0])
    if shape is None or len(shape) != 4 or not all(isinstance(d, int) and d > 0 for d in shape[2:]):
        return None
    pads = list(_attr(node, 'pads', [0, 0, 0, 0]))
    out_pad = list(_attr(node, 'output_padding', [0, 0]))
    return strides[0], pads, out_pad, shape


def inferred_shapes(model):
    """shape_of(tensor) -> [dims] from ONNX shape inference (None for a dynamic dim or an unknown tensor)."""
    g = onnx.shape_inference.infer_shapes(model).graph
    shapes = {}
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField('dim_value') else None for d in dims]
    return shapes.get


def rewrite_conv_transposes(model, shape_of=None, interleave='nhwc'):
    """In place: every ConvTranspose that fits becomes Conv (+ the phase interleave). shape_of(tensor) gives the
    static input shape [N, C, H, W] (H, W ints). A Relu that follows moves before the interleave (it commutes
    with a permutation), right after the Conv, where ORT folds it into QLinearConv. interleave: 'nhwc' (a
    single-axis Transpose in NHWC between Reshapes; ORT's layout pass cancels the NCHW↔NHWC transposes
    against those it puts around its NHWC QLinearConv) or 'depth_to_space' (one DepthToSpace, NCHW).
    Returns the names of the rewritten nodes."""
    shape_of = shape_of or inferred_shapes(model)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    nodes, done, absorbed = [], [], set()
    for node in graph.node:
        if node.name in absorbed:
            continue
        plan = _plan(node, shape_of) if node.op_type == 'ConvTranspose' and node.input[1] in inits else None
        if plan is None:
            nodes.append(node)
            continue
        s, pads, out_pad, shape = plan
        w = numpy_helper.to_array(inits[node.input[1]])
        k_h, k_w = w.shape[2:]
        ph = axis_plan(k_h, s, pads[0], pads[2], out_pad[0], shape[2])
        pw = axis_plan(k_w, s, pads[1], pads[3], out_pad[1], shape[3])
        if ph is None or pw is None:
            nodes.append(node)
            continue
        b = numpy_helper.to_array(inits[node.input[2]]) if len(node.input) > 2 and node.input[2] else None
        one_pixel = shape[2] == shape[3] == 1 and not any(pads) and not any(out_pad)
        if one_pixel:  # y[c, i, j] = Σ x[ci] W[ci, c, i, j]: a 1×1 Conv to C·kh·kw channels, then a Reshape
            wc = np.ascontiguousarray(w.transpose(1, 2, 3, 0)).reshape(-1, w.shape[0], 1, 1)
            bc = None if b is None else np.repeat(b, k_h * k_w).astype(b.dtype)
            ph = (0, None, 0, 0, k_h)
            pw = (0, None, 0, 0, k_w)
        else:
            wc, bc = packed_conv_weight(w, b, s, ph[1], pw[1])
        base = node.name[:-len('ConvTranspose')] + 'Conv' if node.name.endswith('ConvTranspose') \
            else f'{node.name}_conv'
        inputs = [node.input[0], _add_init(graph, f'{node.name}.as_conv_weight', wc)]
        if bc is not None:
            inputs.append(_add_init(graph, f'{node.name}.as_conv_bias', bc))
        out = node.output[0]
        users = consumers.get(out, [])
        relu = users[0] if len(users) == 1 and users[0].op_type == 'Relu' else None
        final = relu.output[0] if relu is not None else out
        direct = s == 1 and not one_pixel  # the Conv itself makes the output layout
        conv_out = final if direct and relu is None else f'{out}_phases'
        nodes.append(helper.make_node('Conv', inputs, [conv_out], name=base, kernel_shape=[wc.shape[2], wc.shape[3]],
                                      pads=[ph[2], pw[2], ph[3], pw[3]], strides=[1, 1]))
        x = conv_out
        if relu is not None:
            x = final if direct else f'{out}_phases_relu'
            nodes.append(helper.make_node('Relu', [conv_out], [x], name=relu.name))
            absorbed.add(relu.name)
        if one_pixel:
            spatial = _add_init(graph, f'{base}_spatial_shape', np.array([-1, w.shape[1], k_h, k_w], np.int64))
            nodes.append(helper.make_node('Reshape', [x, spatial], [final], name=f'{base}_ToSpatial'))
        elif s > 1:
            nodes.extend(_interleave(graph, base, x, final, s, ph[4], pw[4], w.shape[1], interleave))
        done.append(node.name)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for n in graph.node for name in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return done


def _add_init(graph, name, array):
    graph.initializer.append(numpy_helper.from_array(np.asarray(array), name))
    return name


def _interleave(graph, base, x, out, s, h, w, c, mode):
    """[N, s²·C, h, w] phases (DCR order) → [N, C, s·h, s·w]."""
    if mode == 'depth_to_space':
        return [helper.make_node('DepthToSpace', [x], [out], name=f'{base}_DepthToSpace', blocksize=s, mode='DCR')]
    if mode != 'nhwc':
        raise ValueError(f'unknown interleave {mode!r}')
    split = _add_init(graph, f'{base}_phases_shape', np.array([-1, h, w, s, s * c], np.int64))
    merged = _add_init(graph, f'{base}_interleaved_shape', np.array([-1, h * s, w * s, c], np.int64))
    t = [f'{base}_interleave_{i}' for i in range(4)]
    return [
        helper.make_node('Transpose', [x], [t[0]], name=f'{base}_ToNHWC', perm=[0, 2, 3, 1]),
        helper.make_node('Reshape', [t[0], split], [t[1]], name=f'{base}_SplitPhases'),  # [N, h, w, a, (b, c)]
        # [N, h, a, w, (b, c)]: one axis moves, blocks of s·C values stay contiguous
        helper.make_node('Transpose', [t[1]], [t[2]], name=f'{base}_Interleave', perm=[0, 1, 3, 2, 4]),
        helper.make_node('Reshape', [t[2], merged], [t[3]], name=f'{base}_MergePhases'),  # [N, s·h, s·w, C]
        helper.make_node('Transpose', [t[3]], [out], name=f'{base}_ToNCHW', perm=[0, 3, 1, 2]),
    ]


INTERLEAVE_SUFFIXES = ('_ToSpatial', '_ToNHWC', '_SplitPhases', '_Interleave', '_MergePhases', '_ToNCHW',
                       '_DepthToSpace')


def interleave_chains(model):
    """[(first input, [nodes])] for each interleave the rewrite made, in graph order: values only move, so
    every tensor in it takes the Q parameters of its first input (ORT then runs the chain on uint8)."""
    chains = {}
    for n in model.graph.node:
        suffix = next((x for x in INTERLEAVE_SUFFIXES if n.name.endswith(x)), None)
        if suffix is None or n.op_type not in ('Transpose', 'Reshape', 'DepthToSpace'):
            continue
        base = n.name[:-len(suffix)]
        chains.setdefault(base, []).append(n)
    return [(ns[0].input[0], ns) for ns in chains.values()]
