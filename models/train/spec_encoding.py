"""The Python side of an edgepipe model spec: builds spec features and encodes rows exactly as
the spec says, so that the training matrix and edgepipe's own encoding (lib/score/encode_features.ts,
written separately) must agree for the fixture comparison to pass."""

import datetime as dt
import json
import math


def get_path(event, path):
    current = event
    for part in path.split("."):
        if isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def apply_transform(value, transform):
    if transform is None or value is None:
        return value
    when = dt.datetime.fromtimestamp(value / 1000, tz=dt.timezone.utc)
    if transform == "hourOfDay":
        return when.hour
    if transform == "dayOfWeek":  # 0 = Sunday, as JavaScript's getUTCDay
        return (when.weekday() + 1) % 7
    raise ValueError(transform)


def category_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def feature_width(feature):
    if feature["kind"] == "categorical" and feature.get("encoding", "one-hot") == "one-hot":
        return len(feature["vocabulary"])
    return 1


def encode_row(spec, event):
    row = []
    for feature in spec["features"]:
        raw = apply_transform(get_path(event, feature["path"]), feature.get("transform"))
        if raw is None:
            raw = feature["default"]
        if feature["kind"] == "numeric":
            x = float(raw)
            scale = feature.get("scale")
            if scale is not None and scale["kind"] == "standard":
                x = (x - scale["mean"]) / scale["std"]
            elif scale is not None and scale["kind"] == "minmax":
                x = (x - scale["min"]) / (scale["max"] - scale["min"])
            row.append(x)
        else:
            vocabulary = feature["vocabulary"]
            text = category_text(raw)
            index = vocabulary.index(text) if text in vocabulary else -1
            if feature.get("encoding", "one-hot") == "one-hot":
                row.extend(1.0 if i == index else 0.0 for i in range(len(vocabulary)))
            else:
                row.append(float(index))
    return row


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def write_ndjson(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row, separators=(",", ":"), allow_nan=False))
            f.write("\n")


def finite(x):
    return x is not None and not (isinstance(x, float) and math.isnan(x))
