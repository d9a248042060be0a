"""Writes lib/score/testdata/multi-input/model.onnx: a hand-built graph with four inputs of four
element types, for the tests of several named inputs (no training; the outputs are plain
arithmetic the tests recompute on their own):

    readings float32 [batch, 4], count int64 [batch, 1], flag bool [batch, 1],
    city string [batch, 1]
    total     = sum(readings) + count + 100 · flag          float32 [batch, 1]
    city_code = {"oslo": 1, "lima": 2}[city], else -1       int64 [batch, 1]

    .venv/bin/python models/train/make_multi_input_model.py
"""

import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "score", "testdata",
                   "multi-input", "model.onnx")


def main():
    inputs = [
        helper.make_tensor_value_info("readings", TensorProto.FLOAT, ["batch", 4]),
        helper.make_tensor_value_info("count", TensorProto.INT64, ["batch", 1]),
        helper.make_tensor_value_info("flag", TensorProto.BOOL, ["batch", 1]),
        helper.make_tensor_value_info("city", TensorProto.STRING, ["batch", 1]),
    ]
    outputs = [
        helper.make_tensor_value_info("total", TensorProto.FLOAT, ["batch", 1]),
        helper.make_tensor_value_info("city_code", TensorProto.INT64, ["batch", 1]),
    ]
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    hundred = helper.make_tensor("hundred", TensorProto.FLOAT, [], [100.0])
    nodes = [
        helper.make_node("ReduceSum", ["readings", "axes"], ["sum"], keepdims=1),
        helper.make_node("Cast", ["count"], ["count_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["flag"], ["flag_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["flag_f", "hundred"], ["flag_100"]),
        helper.make_node("Add", ["sum", "count_f"], ["partial"]),
        helper.make_node("Add", ["partial", "flag_100"], ["total"]),
        helper.make_node("LabelEncoder", ["city"], ["city_code"], domain="ai.onnx.ml",
                         keys_strings=["oslo", "lima"], values_int64s=[1, 2], default_int64=-1),
    ]
    graph = helper.make_graph(nodes, "multi_input", inputs, outputs, [axes, hundred])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                     helper.make_opsetid("ai.onnx.ml", 2)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    onnx.save(model, OUT)
    session = ort.InferenceSession(OUT)
    total, code = session.run(None, {
        "readings": np.array([[1, 2, 3, 4]], dtype=np.float32),
        "count": np.array([[5]], dtype=np.int64),
        "flag": np.array([[True]]),
        "city": np.array([["lima"]], dtype=object),
    })
    assert total[0, 0] == 115.0 and code[0, 0] == 2, (total, code)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
