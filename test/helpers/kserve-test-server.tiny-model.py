"""Writes a tiny ONNX model with the wav2lip contract, for fast tests of the Triton path.

mel FP32 [N,1,80,16], face UINT8 [N,96,96,3] -> mouth UINT8 [N,96,96,3], dynamic N.
mouth = 255 - face + round(sum(mel)) * 0, so both inputs feed the output (ORT keeps both inputs)
and the expected result is easy to compute independently in a test.
Usage: /usr/bin/python3 kserve-test-server.tiny-model.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build():
    mel = helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["N", 1, 80, 16])
    face = helper.make_tensor_value_info("face", TensorProto.UINT8, ["N", 96, 96, 3])
    mouth = helper.make_tensor_value_info("mouth", TensorProto.UINT8, ["N", 96, 96, 3])
    inits = [
        numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), "c255"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ]
    nodes = [
        helper.make_node("Cast", ["face"], ["face_f"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["c255", "face_f"], ["inv"]),
        helper.make_node("ReduceSum", ["mel", "axes"], ["mel_sum"], keepdims=1),
        helper.make_node("Mul", ["mel_sum", "zero"], ["mel_zero"]),
        helper.make_node("Add", ["inv", "mel_zero"], ["out_f"]),
        helper.make_node("Cast", ["out_f"], ["mouth"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(nodes, "tiny_wav2lip", [mel, face], [mouth], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: kserve-test-server.tiny-model.py OUT.onnx")
    onnx.save(build(), sys.argv[1])
