"""FP32 -> FP16 conversion of the exported graph with the onnx package (torch 1.13 has no CPU half conv).

Only the network runs in half precision: nodes whose name starts with the generator's scope
(`/generator/`, see Wav2LipServed). Pre-processing (/255, channel flip, mask) and post-processing
(x255, clamp, round, uint8) stay FP32, so the I/O contract is unchanged: FP32 mel, UINT8 face,
UINT8 mouth. Casts are placed on every FP32 <-> FP16 boundary. The same file works for TensorRT 10
and 11 (strongly typed networks take their precision from the ONNX types).
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CORE_PREFIX = '/generator/'


def _inline_initializer_identities(graph, init_names):
    # torch's exporter deduplicates equal initialisers (e.g. BN weight == running_var == 1 in a random model)
    # through Identity nodes; point consumers at the initialiser itself so it can be converted in place.
    alias = {}
    kept = []
    for node in graph.node:
        if node.op_type == 'Identity' and node.input[0] in init_names:
            alias[node.output[0]] = node.input[0]
        else:
            kept.append(node)
    for node in kept:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
    del graph.node[:]
    graph.node.extend(kept)


def _float_tensor_names(model):
    """Names of every FLOAT tensor the FP32 graph produces or holds (via shape inference)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    names = set()
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            names.add(vi.name)
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            names.add(init.name)
    for node in g.node:
        if node.op_type == 'Constant':
            for attr in node.attribute:
                if attr.name == 'value' and attr.t.data_type == TensorProto.FLOAT:
                    names.add(node.output[0])
    return names


def _to_half(tensor):
    arr = numpy_helper.to_array(tensor).astype(np.float16)
    return numpy_helper.from_array(arr, tensor.name)


def convert_core_to_fp16(model, core_prefix=CORE_PREFIX):
    """Returns a new ModelProto whose core nodes compute in FP16; the graph I/O types are unchanged."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    init_by_name = {i.name: i for i in graph.initializer}
    _inline_initializer_identities(graph, set(init_by_name))
    floats = _float_tensor_names(model)

    is_core = [n.name.startswith(core_prefix) for n in graph.node]
    if not any(is_core):
        raise ValueError(f'no nodes under {core_prefix!r}: was the graph exported from Wav2LipServed?')
    producer_core = {}
    for node, core in zip(graph.node, is_core):
        for out in node.output:
            producer_core[out] = core
    consumers = {}
    for node, core in zip(graph.node, is_core):
        for name in node.input:
            consumers.setdefault(name, []).append(core)

    # initialisers used only by core nodes become FP16; shared ones get a cast instead
    half_inits = {name for name, init in init_by_name.items()
                  if init.data_type == TensorProto.FLOAT and consumers.get(name) and all(consumers[name])}
    for i, init in enumerate(graph.initializer):
        if init.name in half_inits:
            graph.initializer[i].CopyFrom(_to_half(init))

    new_nodes = []
    to_half = {}  # fp32 tensor name -> its fp16 cast

    def half_of(name):
        if name not in to_half:
            cast_name = f'{name}__fp16'
            new_nodes.append(helper.make_node('Cast', [name], [cast_name], name=f'{core_prefix}CastIn_{len(to_half)}',
                                              to=TensorProto.FLOAT16))
            to_half[name] = cast_name
        return to_half[name]

    core_outputs_needing_fp32 = set()
    for node, core in zip(graph.node, is_core):
        if core:
            for i, name in enumerate(node.input):
                comes_from_fp32 = name in floats and name not in half_inits and not producer_core.get(name, False)
                if comes_from_fp32:
                    node.input[i] = half_of(name)
            if node.op_type == 'Constant':
                for attr in node.attribute:
                    if attr.name == 'value' and attr.t.data_type == TensorProto.FLOAT:
                        attr.t.CopyFrom(_to_half(attr.t))
            if node.op_type == 'Cast':
                for attr in node.attribute:
                    if attr.name == 'to' and attr.i == TensorProto.FLOAT:
                        attr.i = TensorProto.FLOAT16
            new_nodes.append(node)
        else:
            for i, name in enumerate(node.input):
                if name in floats and producer_core.get(name, False):
                    core_outputs_needing_fp32.add(name)
                    node.input[i] = f'{name}__fp32'
            new_nodes.append(node)

    graph_outputs = {o.name for o in graph.output}
    for name in core_outputs_needing_fp32 | {n for n in graph_outputs if producer_core.get(n) and n in floats}:
        new_nodes.append(helper.make_node('Cast', [name], [f'{name}__fp32'], name=f'{name}__CastOut',
                                          to=TensorProto.FLOAT))
    for out in graph.output:
        if out.name in core_outputs_needing_fp32 or (producer_core.get(out.name) and out.name in floats):
            out.name = f'{out.name}__fp32'

    del graph.node[:]
    graph.node.extend(_topological(new_nodes, graph))
    del graph.value_info[:]  # FP32 annotations would now be wrong; checkers re-infer them
    return model


def _topological(nodes, graph):
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {''}
    pending = list(nodes)
    ordered = []
    while pending:
        rest = []
        for node in pending:
            if all(name in available for name in node.input):
                ordered.append(node)
                available.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError(f'graph has a cycle or a dangling input near {rest[0].name}')
        pending = rest
    return ordered
