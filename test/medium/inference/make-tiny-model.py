"""Writes a tiny ONNX model shaped like the wav2lip contract, for onnx backend tests.

mouth = uint8(clip(float(face) + sum(mel over each frame's window), 0, 255)), so a test can compute
the exact expected output from integer-valued inputs. Variants break one contract rule each.
Usage: /usr/bin/python3 make-tiny-model.py VARIANT OUT.onnx [PRECISION]
(PRECISION: the `precision` metadata entry export_onnx.py writes, e.g. int8; none when omitted)
"""
import sys

import onnx
from onnx import TensorProto, helper

VARIANTS = ("good", "wrong-name", "wrong-dtype", "static-batch", "wrong-dims")


def build(variant):
    batch = 1 if variant == "static-batch" else "N"
    mel_name = "audio" if variant == "wrong-name" else "mel"
    face_type = TensorProto.FLOAT if variant == "wrong-dtype" else TensorProto.UINT8
    face_dims = [batch, 3, 96, 96] if variant == "wrong-dims" else [batch, 96, 96, 3]
    inputs = [
        helper.make_tensor_value_info(mel_name, TensorProto.FLOAT, [batch, 1, 80, 16]),
        helper.make_tensor_value_info("face", face_type, face_dims),
    ]
    outputs = [helper.make_tensor_value_info("mouth", TensorProto.UINT8, face_dims)]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3]),
        helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("hi", TensorProto.FLOAT, [], [255.0]),
    ]
    nodes = [
        helper.make_node("ReduceSum", [mel_name, "axes"], ["energy"], keepdims=1),
        helper.make_node("Cast", ["face"], ["face_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["face_f", "energy"], ["sum"]),
        helper.make_node("Clip", ["sum", "lo", "hi"], ["clipped"]),
        helper.make_node("Cast", ["clipped"], ["mouth"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(nodes, "tiny_wav2lip_" + variant.replace("-", "_"), inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="lipsync-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in VARIANTS:
        sys.exit("usage: make-tiny-model.py {%s} OUT.onnx [PRECISION]" % "|".join(VARIANTS))
    model = build(sys.argv[1])
    if len(sys.argv) == 4:
        entry = model.metadata_props.add()
        entry.key, entry.value = "precision", sys.argv[3]
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
