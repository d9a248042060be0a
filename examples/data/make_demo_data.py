"""Writes examples/data/flights-2001-03-12-morning.ndjson: every US domestic flight scheduled to
depart on Monday 2001-03-12 between 06:00 and 09:00, from the real flights data that the npm
package vega-datasets ships (flights-3m.parquet), as edgepipe envelopes in departure order.

    npm install --prefix ~/.cache/edgepipe/vega vega-datasets@3.2.1
    python3 examples/data/make_demo_data.py ~/.cache/edgepipe/vega/node_modules/vega-datasets/data/flights-3m.parquet
"""
import json
import sys

import pandas as pd

source = sys.argv[1]
flights = pd.read_parquet(source)
# Local scheduled departure time; edgepipe takes it as UTC, as the flight-delay model does.
flights["time"] = pd.to_datetime(flights["date"])
start, end = pd.Timestamp("2001-03-12 06:00"), pd.Timestamp("2001-03-12 09:00")
morning = flights[(flights["time"] >= start) & (flights["time"] < end)].sort_values(
    ["time", "origin", "destination"], kind="stable"
)

out = "examples/data/flights-2001-03-12-morning.ndjson"
with open(out, "w") as f:
    for i, row in enumerate(morning.itertuples(index=False)):
        event_time = int(row.time.timestamp() * 1000)
        f.write(json.dumps({
            "id": f"demo-{i}",
            "key": row.origin,
            "eventTime": event_time,
            "value": {
                "date": row.time.strftime("%Y-%m-%dT%H:%M"),
                "origin": row.origin,
                "destination": row.destination,
                "distance": int(row.distance),
                "delay": int(row.delay),
            },
        }, separators=(",", ":")) + "\n")
print(f"{out}: {len(morning)} flights", file=sys.stderr)
