"""Trains models/digits: classifies scikit-learn's bundled handwritten digits (1,797 images of
8×8 pixels, 16 grey levels, from the UCI optical recognition data set) from PNG images.

No download: the data ships inside scikit-learn. Run:

    .venv/bin/python models/train/train_digits.py

Each image is rendered to an 8-bit grey PNG (pixel = round(v × 255 / 16)), written here with zlib
and struct (no imaging library), and the model is trained on exactly the values edgepipe gets from
such a PNG: pixel / 255. The ONNX graph takes NCHW images [batch, 1, 8, 8] (a Reshape in front of
the exported LogisticRegression). The fixture's held-out events carry the PNG as base64 in
`value.png`; every second one is an RGB PNG at 16×16 (each pixel doubled), which edgepipe must
shrink back to the same 8×8 values (bilinear, pixel centres aligned, is exact for a 2× block).

Writes model.onnx, spec.json, metrics.json and fixture.ndjson to models/digits/.
"""

import base64
import os
import struct
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from spec_encoding import write_json, write_ndjson

SEED = 20261202
HELD_OUT = 300
OUT = os.path.join(os.path.dirname(__file__), "..", "digits")
VERSION = "1.0.0"
CLASSES = [str(d) for d in range(10)]


def png(pixels, rgb=False):
    """An 8-bit PNG of a 2-D uint8 array: colour type 0 (grey) or 2 (RGB), filter 0 per row."""
    h, w = pixels.shape
    rows = []
    for y in range(h):
        row = pixels[y]
        if rgb:
            row = np.repeat(row, 3)
        rows.append(b"\x00" + bytes(row.astype(np.uint8)))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def main():
    digits = load_digits()
    pixels = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)  # (n, 8, 8)
    x = (pixels.reshape(len(pixels), 64).astype(np.float32) / np.float32(255.0))
    y = digits.target
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x))
    held, train = order[:HELD_OUT], order[HELD_OUT:]
    model = LogisticRegression(max_iter=2000, C=1.0, random_state=SEED)
    model.fit(x[train], y[train])
    predicted = model.predict(x[held])
    metrics = {
        "train_rows": int(len(train)),
        "test_rows": int(len(held)),
        "accuracy": float(accuracy_score(y[held], predicted)),
        "accuracy_majority_class": float(np.max(np.bincount(y[train])) / len(train)),
    }
    print(metrics)

    onx = to_onnx(model, x[:1], target_opset=17, options={"zipmap": False})
    flat = onx.graph.input[0].name
    # An NCHW image input in front: [batch, 1, 8, 8] → Reshape → [batch, 64].
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])
    shape = helper.make_tensor("flat_shape", TensorProto.INT64, [2], [-1, 64])
    onx.graph.initializer.append(shape)
    reshape = helper.make_node("Reshape", ["image", "flat_shape"], [flat], name="flatten")
    del onx.graph.input[:]
    onx.graph.input.append(image)
    onx.graph.node.insert(0, reshape)
    onx.model_version = 1
    onx.doc_string = "Handwritten digit (0-9) from an 8x8 grey image"
    for key, value in (("edgepipe.model", "digits"), ("edgepipe.version", VERSION)):
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    names = [o.name for o in onx.graph.output]
    print("outputs", names)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onx, os.path.join(OUT, "model.onnx"))

    spec = {
        "name": "digits",
        "version": VERSION,
        "description": "Handwritten digit (0-9) from a PNG or JPEG image, shrunk to 8x8 grey",
        "inputs": [{
            "name": "image",
            "type": "float32",
            "shape": [1, 8, 8],
            "features": [{
                "name": "image", "path": "value.png", "kind": "image",
                "width": 8, "height": 8, "channels": 1, "layout": "NCHW",
            }],
        }],
        "outputs": [
            {"name": names[0], "kind": "label", "classes": CLASSES, "as": "digit"},
            {"name": names[1], "kind": "probabilities", "classes": CLASSES},
        ],
    }
    write_json(os.path.join(OUT, "spec.json"), spec)

    session = ort.InferenceSession(os.path.join(OUT, "model.onnx"))
    images = x[held].reshape(len(held), 1, 8, 8)
    label, proba = session.run(None, {"image": images})
    sk_proba = model.predict_proba(x[held])
    gap = float(np.max(np.abs(proba - sk_proba)))
    print("python onnxruntime vs scikit-learn max gap", gap)
    assert gap < 1e-5, gap
    assert np.array_equal(label, model.predict(x[held]))
    rows = []
    for n, i in enumerate(held):
        big = n % 2 == 1
        img = np.repeat(np.repeat(pixels[i], 2, axis=0), 2, axis=1) if big else pixels[i]
        event = {
            "id": f"digit-{int(i)}",
            "key": "camera-1",
            "eventTime": 1764633600000 + n * 1000,
            "value": {"png": base64.b64encode(png(img, rgb=big)).decode("ascii"),
                      "truth": int(y[i])},
        }
        expected = {CLASSES[c]: float(sk_proba[n, c]) for c in range(10)}
        expected["digit"] = CLASSES[int(model.predict(x[i:i + 1])[0])]
        rows.append({"event": event, "expected": expected})
    write_ndjson(os.path.join(OUT, "fixture.ndjson"), rows)
    write_json(os.path.join(OUT, "metrics.json"), {**metrics, "onnx_vs_sklearn_max_gap": gap})


if __name__ == "__main__":
    main()
