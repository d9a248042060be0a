"""Trains models/flight-delay: will a US domestic flight leave more than 15 minutes late?

Data: flights-3m.parquet from the npm package vega-datasets@3.2.1 (3 million US flights,
January to June 2001: scheduled departure, delay in minutes, distance, origin, destination).
Install it outside the repository, then run:

    npm install --prefix ~/.cache/edgepipe-data --ignore-scripts vega-datasets@3.2.1
    .venv/bin/python models/train/train_flight_delay.py \
        ~/.cache/edgepipe-data/node_modules/vega-datasets/data/flights-3m.parquet

Writes model.onnx, spec.json, fixture.ndjson (1,000 held-out events with scikit-learn's
probabilities) and sample.ndjson (3,000 held-out flights as envelopes) to models/flight-delay/.
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from spec_encoding import encode_row, write_json, write_ndjson

SEED = 20260501
TRAIN_ROWS = 600_000
OUT = os.path.join(os.path.dirname(__file__), "..", "flight-delay")
VERSION = "1.0.0"


def envelope(row, index):
    event_time = int(row.date.value // 1_000_000)  # naive local clock time, stored as UTC ms
    return {
        "topic": "flights",
        "key": row.origin,
        "id": f"flight-{index}",
        "eventTime": event_time,
        "value": {
            "date": row.date.strftime("%Y-%m-%dT%H:%M"),
            "origin": row.origin,
            "destination": row.destination,
            "distance": int(row.distance),
            "delay": int(row.delay),
        },
    }


def main(parquet):
    flights = pd.read_parquet(parquet)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(flights))
    train = flights.iloc[order[:TRAIN_ROWS]].reset_index(drop=True)
    test = flights.iloc[order[TRAIN_ROWS:TRAIN_ROWS + 200_000]].reset_index(drop=True)
    held = flights.iloc[order[-4_000:]].reset_index(drop=True)

    airports_origin = sorted(train.origin.unique())
    airports_dest = sorted(train.destination.unique())
    mean = float(train.distance.mean())
    std = float(train.distance.std())
    spec = {
        "name": "flight-delay",
        "version": VERSION,
        "description": "Probability that a US domestic flight departs more than 15 minutes late",
        "input": {"name": "features", "type": "float32"},
        "features": [
            {"name": "hour", "path": "eventTime", "transform": "hourOfDay", "kind": "categorical",
             "encoding": "one-hot", "vocabulary": [str(h) for h in range(24)]},
            {"name": "weekday", "path": "eventTime", "transform": "dayOfWeek",
             "kind": "categorical", "encoding": "one-hot", "vocabulary": [str(d) for d in range(7)]},
            {"name": "distance", "path": "value.distance", "kind": "numeric",
             "scale": {"kind": "standard", "mean": mean, "std": std}},
            {"name": "origin", "path": "value.origin", "kind": "categorical", "encoding": "one-hot",
             "vocabulary": airports_origin, "unknown": "ignore"},
            {"name": "destination", "path": "value.destination", "kind": "categorical",
             "encoding": "one-hot", "vocabulary": airports_dest, "unknown": "ignore"},
        ],
        "outputs": [
            {"name": "label", "kind": "label", "classes": ["on_time", "delayed"]},
            {"name": "probabilities", "kind": "probabilities", "classes": ["on_time", "delayed"]},
        ],
    }

    def matrix(frame):
        # Vectorised twin of spec_encoding.encode_row, checked against it on the fixture below.
        hours = frame.date.dt.hour.to_numpy()
        weekdays = ((frame.date.dt.weekday + 1) % 7).to_numpy()
        parts = [
            np.eye(24, dtype=np.float64)[hours],
            np.eye(7, dtype=np.float64)[weekdays],
            ((frame.distance.to_numpy() - mean) / std)[:, None],
        ]
        for column, vocab in (("origin", airports_origin), ("destination", airports_dest)):
            index = pd.Categorical(frame[column], categories=vocab).codes
            onehot = np.zeros((len(frame), len(vocab)))
            known = index >= 0
            onehot[np.nonzero(known)[0], index[known]] = 1.0
            parts.append(onehot)
        return np.hstack(parts)

    x_train, y_train = matrix(train), (train.delay > 15).to_numpy().astype(int)
    x_test, y_test = matrix(test), (test.delay > 15).to_numpy().astype(int)
    model = LogisticRegression(C=1.0, max_iter=300, solver="lbfgs")
    model.fit(x_train, y_train)
    p_test = model.predict_proba(x_test)[:, 1]
    metrics = {
        "train_rows": len(train),
        "test_rows": len(test),
        "columns": int(x_train.shape[1]),
        "positive_rate_test": float(y_test.mean()),
        "roc_auc": float(roc_auc_score(y_test, p_test)),
        "log_loss": float(log_loss(y_test, p_test)),
        "log_loss_base_rate": float(log_loss(y_test, np.full(len(y_test), y_train.mean()))),
        "accuracy_at_0.5": float(accuracy_score(y_test, p_test > 0.5)),
    }
    print(metrics)

    onx = to_onnx(model, x_train[:1].astype(np.float32), target_opset=17,
                  options={id(model): {"zipmap": False}})
    onx.graph.input[0].name = "features"
    for node in onx.graph.node:
        node.input[:] = ["features" if n == "X" else n for n in node.input]
    onx.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onx.graph.input[0].type.tensor_type.shape.dim[0].ClearField("dim_value")
    onx.model_version = 1
    onx.doc_string = spec["description"]
    for key, value in (("edgepipe.model", "flight-delay"), ("edgepipe.version", VERSION)):
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onx, os.path.join(OUT, "model.onnx"))
    write_json(os.path.join(OUT, "spec.json"), spec)

    events = [envelope(row, i) for i, row in enumerate(held.itertuples())]
    fixture_events = events[:1000]
    rows = np.array([encode_row(spec, e) for e in fixture_events])
    assert np.array_equal(rows, matrix(held.iloc[:1000])), "encode_row and matrix disagree"
    proba = model.predict_proba(rows)
    session = ort.InferenceSession(os.path.join(OUT, "model.onnx"))
    label_ort, proba_ort = session.run(None, {"features": rows.astype(np.float32)})
    gap = float(np.max(np.abs(proba_ort - proba)))
    assert gap < 1e-5, gap
    print("python onnxruntime vs scikit-learn max gap", gap)
    write_ndjson(os.path.join(OUT, "fixture.ndjson"), [
        {"event": e, "expected": {"probabilities": [float(p[0]), float(p[1])], "label": int(l)}}
        for e, p, l in zip(fixture_events, proba, model.predict(rows))
    ])
    write_ndjson(os.path.join(OUT, "sample.ndjson"), events[1000:])
    write_json(os.path.join(OUT, "metrics.json"), {**metrics, "onnx_vs_sklearn_max_gap": gap})


if __name__ == "__main__":
    main(sys.argv[1])
