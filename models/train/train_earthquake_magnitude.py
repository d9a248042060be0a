"""Trains models/earthquake-magnitude: estimates an earthquake's magnitude from the first
network measurements (depth, location, station count, azimuthal gap, residual, distance to the
nearest station, magnitude method and network), the values that arrive with an early USGS alert.

Data: earthquakes.json from the npm package vega-datasets@3.2.1 (1,707 USGS GeoJSON features,
one week of January/February 2018). Install it outside the repository, then run:

    npm install --prefix ~/.cache/edgepipe-data --ignore-scripts vega-datasets@3.2.1
    .venv/bin/python models/train/train_earthquake_magnitude.py \
        ~/.cache/edgepipe-data/node_modules/vega-datasets/data/earthquakes.json

Writes model.onnx, spec.json, metrics.json and fixture.ndjson (the 500 held-out events with
scikit-learn's predictions) to models/earthquake-magnitude/.
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, r2_score

from spec_encoding import encode_row, get_path, write_json, write_ndjson

SEED = 20260502
HELD_OUT = 500
OUT = os.path.join(os.path.dirname(__file__), "..", "earthquake-magnitude")
VERSION = "1.0.0"

NUMERIC = [
    ("depth_km", "value.geometry.coordinates.2"),
    ("latitude", "value.geometry.coordinates.1"),
    ("longitude", "value.geometry.coordinates.0"),
    ("stations", "value.properties.nst"),
    ("gap_degrees", "value.properties.gap"),
    ("rms_seconds", "value.properties.rms"),
    ("nearest_station_degrees", "value.properties.dmin"),
]
CATEGORICAL = [
    ("magnitude_type", "value.properties.magType"),
    ("network", "value.properties.net"),
]


def envelope(feature):
    return {
        "topic": "earthquakes",
        "key": feature["properties"]["net"],
        "id": feature["id"],
        "eventTime": feature["properties"]["time"],
        "value": feature,
    }


def main(path):
    with open(path) as f:
        features = json.load(f)["features"]
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(features))
    events = [envelope(features[i]) for i in order]
    held, train = events[:HELD_OUT], events[HELD_OUT:]

    spec_features = []
    for name, field in NUMERIC:
        values = [get_path(e, field) for e in train]
        present = [float(v) for v in values if v is not None]
        spec_features.append({
            "name": name, "path": field, "kind": "numeric",
            # missing measurements (no station count yet, …) take the training median
            "default": float(np.median(present)),
        })
    for name, field in CATEGORICAL:
        vocab = sorted({get_path(e, field) for e in train})
        spec_features.append({
            "name": name, "path": field, "kind": "categorical", "encoding": "label",
            "vocabulary": vocab, "unknown": "ignore",
        })
    spec = {
        "name": "earthquake-magnitude",
        "version": VERSION,
        "description": "Magnitude estimate for a USGS earthquake event from network measurements",
        "input": {"name": "features", "type": "float32"},
        "features": spec_features,
        "outputs": [{"name": "variable", "kind": "value", "as": "magnitude"}],
    }

    x_train = np.array([encode_row(spec, e) for e in train])
    y_train = np.array([e["value"]["properties"]["mag"] for e in train])
    x_held = np.array([encode_row(spec, e) for e in held])
    y_held = np.array([e["value"]["properties"]["mag"] for e in held])
    model = GradientBoostingRegressor(n_estimators=150, max_depth=3, learning_rate=0.1,
                                      subsample=0.8, random_state=SEED)
    model.fit(x_train, y_train)
    predicted = model.predict(x_held)
    metrics = {
        "train_rows": len(train),
        "test_rows": len(held),
        "columns": int(x_train.shape[1]),
        "mae": float(mean_absolute_error(y_held, predicted)),
        "mae_predict_mean": float(mean_absolute_error(y_held, np.full(len(y_held), y_train.mean()))),
        "r2": float(r2_score(y_held, predicted)),
    }
    print(metrics)

    onx = to_onnx(model, x_train[:1].astype(np.float32), target_opset=17)
    onx.graph.input[0].name = "features"
    for node in onx.graph.node:
        node.input[:] = ["features" if n == "X" else n for n in node.input]
    onx.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onx.graph.input[0].type.tensor_type.shape.dim[0].ClearField("dim_value")
    onx.model_version = 1
    onx.doc_string = spec["description"]
    for key, value in (("edgepipe.model", "earthquake-magnitude"), ("edgepipe.version", VERSION)):
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onx, os.path.join(OUT, "model.onnx"))
    write_json(os.path.join(OUT, "spec.json"), spec)

    session = ort.InferenceSession(os.path.join(OUT, "model.onnx"))
    (onnx_out,) = session.run(None, {"features": x_held.astype(np.float32)})
    # Trees split on float32 thresholds in ONNX: compare on float32 inputs, as edgepipe sends.
    sk_on_f32 = model.predict(x_held.astype(np.float32).astype(np.float64))
    gap = float(np.max(np.abs(onnx_out[:, 0] - sk_on_f32)))
    print("python onnxruntime vs scikit-learn max gap", gap)
    assert gap < 1e-5, gap
    write_ndjson(os.path.join(OUT, "fixture.ndjson"), [
        {"event": e, "expected": {"value": float(v)}} for e, v in zip(held, sk_on_f32)
    ])
    write_json(os.path.join(OUT, "metrics.json"), {**metrics, "onnx_vs_sklearn_max_gap": gap})


if __name__ == "__main__":
    main(sys.argv[1])
