"""Writes examples/data/airports.ndjson: the reference table for the enrichment example, one
record per airport that appears in flights-2001-03-12-morning.ndjson, from the real airports
table that the npm package vega-datasets ships (airports.csv).

    npm install --prefix ~/.cache/edgepipe/vega vega-datasets@3.2.1
    python3 examples/data/make_airports.py ~/.cache/edgepipe/vega/node_modules/vega-datasets/data/airports.csv
"""
import csv
import json
import sys

flights = "examples/data/flights-2001-03-12-morning.ndjson"
used = set()
with open(flights) as f:
    for line in f:
        value = json.loads(line)["value"]
        used.update([value["origin"], value["destination"]])

with open(sys.argv[1], newline="") as f, open("examples/data/airports.ndjson", "w") as out:
    for row in sorted(csv.DictReader(f), key=lambda r: r["iata"]):
        if row["iata"] not in used:
            continue
        out.write(json.dumps({
            "iata": row["iata"],
            "name": row["name"],
            "city": row["city"],
            "state": row["state"],
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
        }) + "\n")
