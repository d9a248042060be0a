"""Trains models/temperature-anomaly: an IsolationForest over day-long sequences of hourly
weather readings (24 temperatures and 24 pressures), the input `window --count 24` builds with
`collect(value.temperature, 24)` and `collect(value.pressure, 24)` per station.

Data: seattle-weather-hourly-normals.csv from the npm package vega-datasets@3.2.1 (8,759 hourly
readings of temperature, pressure and wind for one year at Seattle, NOAA hourly normals).
Install it outside the repository, then run:

    npm install --prefix ~/.cache/edgepipe-data --ignore-scripts vega-datasets@3.2.1
    .venv/bin/python models/train/train_temperature_anomaly.py \
        ~/.cache/edgepipe-data/node_modules/vega-datasets/data/seattle-weather-hourly-normals.csv

The year is cut into 364 blocks of 24 readings; every 7th block (52 days spread over the year) is
held out. Training: every 24-reading run (stride 1 hour) inside the other blocks. The held-out
blocks are written as hourly envelopes (heldout.ndjson) in time order, so `window --count 24`
cuts exactly them, each with scikit-learn's outputs (fixture.ndjson).
A few held-out windows are made anomalous on purpose (a stuck sensor, a 10 °C jump) so that the
fixture shows both labels.

Writes model.onnx, spec.json, metrics.json, heldout.ndjson and fixture.ndjson.
"""

import csv
import os
import sys
from datetime import datetime, timezone

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.ensemble import IsolationForest

from spec_encoding import write_json, write_ndjson

SEED = 20261202
N = 24
OUT = os.path.join(os.path.dirname(__file__), "..", "temperature-anomaly")
VERSION = "1.0.0"
STATION = "seattle"


def main(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    times = [int(datetime.fromisoformat(r["date"]).replace(tzinfo=timezone.utc).timestamp() * 1000)
             for r in rows]
    temp = np.array([float(r["temperature"]) for r in rows])
    pres = np.array([float(r["pressure"]) for r in rows])
    blocks = len(rows) // N
    held_blocks = [b for b in range(blocks) if b % 7 == 3]
    held_set = set(held_blocks)
    held_idx = np.array([b * N + k for b in held_blocks for k in range(N)])

    # Held-out readings, with deliberate faults in a few day-long runs.
    held_temp = temp[held_idx].copy()
    held_pres = pres[held_idx].copy()
    held_temp[5 * N:6 * N] = held_temp[5 * N]  # stuck sensor for a day
    held_temp[20 * N + 6:20 * N + 18] += 10.0  # 10 °C too warm for half a day
    held_pres[40 * N:41 * N] -= 25.0  # pressure offset for a day

    train_mask = np.array([(i // N) not in held_set and i < blocks * N for i in range(len(rows))])
    t_mean, t_std = float(temp[train_mask].mean()), float(temp[train_mask].std())
    p_mean, p_std = float(pres[train_mask].mean()), float(pres[train_mask].std())

    def encode(t, p):
        return np.concatenate([(t - t_mean) / t_std, (p - p_mean) / p_std])

    starts = [i for i in range(len(rows) - N + 1) if train_mask[i:i + N].all()]
    x_train = np.array([encode(temp[i:i + N], pres[i:i + N]) for i in starts])
    windows = len(held_blocks)
    x_held = np.array([encode(held_temp[w * N:(w + 1) * N], held_pres[w * N:(w + 1) * N])
                       for w in range(windows)])

    model = IsolationForest(n_estimators=100, max_samples=256, contamination=0.01,
                            random_state=SEED)
    model.fit(x_train)

    spec = {
        "name": "temperature-anomaly",
        "version": VERSION,
        "description": "Anomaly score of a day of hourly temperature and pressure readings",
        "inputs": [{
            "name": "readings",
            "type": "float32",
            "features": [
                {"name": "temperature", "path": "value.temperature", "kind": "tensor",
                 "length": N, "pad": "error", "truncate": "last",
                 "scale": {"kind": "standard", "mean": t_mean, "std": t_std}},
                {"name": "pressure", "path": "value.pressure", "kind": "tensor",
                 "length": N, "pad": "error", "truncate": "last",
                 "scale": {"kind": "standard", "mean": p_mean, "std": p_std}},
            ],
        }],
        "outputs": [
            {"name": "label", "kind": "label", "as": "label"},
            {"name": "scores", "kind": "value", "as": "anomaly"},
        ],
    }

    onx = to_onnx(model, x_train[:1].astype(np.float32), target_opset={"": 17, "ai.onnx.ml": 3})
    onx.graph.input[0].name = "readings"
    for node in onx.graph.node:
        node.input[:] = ["readings" if n == "X" else n for n in node.input]
    dim = onx.graph.input[0].type.tensor_type.shape.dim[0]
    dim.ClearField("dim_value")
    dim.dim_param = "batch"
    onx.model_version = 1
    onx.doc_string = spec["description"]
    for key, value in (("edgepipe.model", "temperature-anomaly"), ("edgepipe.version", VERSION)):
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    print("outputs", [o.name for o in onx.graph.output])
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onx, os.path.join(OUT, "model.onnx"))
    write_json(os.path.join(OUT, "spec.json"), spec)

    session = ort.InferenceSession(os.path.join(OUT, "model.onnx"))
    f32 = x_held.astype(np.float32)
    label, scores = session.run(None, {"readings": f32})
    sk_label = model.predict(f32.astype(np.float64))
    sk_score = model.decision_function(f32.astype(np.float64))
    gap = float(np.max(np.abs(scores[:, 0] - sk_score)))
    print("python onnxruntime vs scikit-learn max gap", gap)
    assert gap < 1e-5, gap
    assert np.array_equal(label.ravel(), sk_label), (label.ravel(), sk_label)

    held_times = [times[i] for i in held_idx]
    events = [{
        "id": f"h-{held_times[i]}",
        "key": STATION,
        "eventTime": held_times[i],
        "value": {"station": STATION, "temperature": float(held_temp[i]),
                  "pressure": float(held_pres[i])},
    } for i in range(windows * N)]
    write_ndjson(os.path.join(OUT, "heldout.ndjson"), events)
    fixture = []
    for w in range(windows):
        part = events[w * N:(w + 1) * N]
        fixture.append({
            "event": {
                "key": STATION,
                "window": {"start": part[0]["eventTime"], "end": part[-1]["eventTime"] + 1},
                "value": {"temperature": [e["value"]["temperature"] for e in part],
                          "pressure": [e["value"]["pressure"] for e in part]},
            },
            "expected": {"label": int(sk_label[w]), "anomaly": float(sk_score[w])},
        })
    write_ndjson(os.path.join(OUT, "fixture.ndjson"), fixture)
    metrics = {
        "train_windows": int(len(x_train)),
        "held_out_windows": int(windows),
        "held_out_flagged": int((sk_label == -1).sum()),
        "flagged_faulty_windows": [int(w) for w in (5, 20, 40) if sk_label[w] == -1],
        "train_flagged_share": float((model.predict(x_train) == -1).mean()),
        "onnx_vs_sklearn_max_gap": gap,
    }
    print(metrics)
    write_json(os.path.join(OUT, "metrics.json"), metrics)


if __name__ == "__main__":
    main(sys.argv[1])
