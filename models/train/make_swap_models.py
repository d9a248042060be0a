"""Writes lib/score/testdata/swap-a and swap-b: two hand-built linear graphs with the same
signature (x float32 [batch, 2] → y float32 [batch, 1]) for the `score --watch` tests, whose
outputs the tests recompute on their own: a gives y = a + b, b gives y = 2a + 3b.

    .venv/bin/python models/train/make_swap_models.py
"""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "score", "testdata")


def write(name, weights):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 1], weights)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], name, [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    spec = {
        "name": name, "version": "1.0.0",
        "description": f"Test graph: y = {weights[0]}a + {weights[1]}b",
        "input": {"name": "x", "type": "float32"},
        "features": [{"name": "a", "path": "value.a", "kind": "numeric"},
                     {"name": "b", "path": "value.b", "kind": "numeric"}],
        "outputs": [{"name": "y", "kind": "value", "as": "y"}],
    }
    with open(os.path.join(out, "spec.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")


write("swap-a", [1.0, 1.0])
write("swap-b", [2.0, 3.0])
