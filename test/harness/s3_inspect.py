"""Independent S3 client for edgepipe's tests: boto3 lists and reads objects, Python's gzip and
pyarrow decode them. Reads a JSON request on stdin, prints a JSON answer on stdout.

Requests:
  {"op": "create-bucket", "bucket": "b"}
  {"op": "objects", "bucket": "b", "prefix": "p/"}
     -> [{"key", "size", "contentType", "contentEncoding", "events": <count>, "ids": [...]}]
     NDJSON objects also list "lines" (the decoded events) when "withEvents" is true.
  {"op": "heads", "bucket": "b", "prefix": "p/"}
     -> [{"key", "size", "metadata": {...}}] (any object, not decoded)
  {"op": "put", "bucket": "b", "key": "k", "base64": "..."} -> {"ok": true}
  {"op": "checkpoints", "bucket": "b", "prefix": "p/"}
     -> [{"key", "size", "metadata", "json": {...}}]: edgepipe checkpoints, their JSON section
     read by the documented layout (magic, version, CRC32 over bytes 16.., JSON length at 16,
     JSON from 24), the CRC checked with zlib
"""
import struct
import zlib
import base64
import gzip
import io
import json
import os
import sys

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.config import Config


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def decode(key, body):
    if key.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(body))
        rows = table.to_pylist()
        # value is JSON text; properties and extra are Parquet JSON columns (text in Arrow).
        return [
            {**row, **{k: json.loads(row[k]) for k in ("value", "properties", "extra")
                       if isinstance(row.get(k), str)}}
            for row in rows
        ]
    if key.endswith(".ndjson.gz"):
        body = gzip.decompress(body)
    elif key.endswith(".ndjson.zst"):
        body = pa.input_stream(pa.py_buffer(body), compression="zstd").read()
    elif not key.endswith(".ndjson"):
        raise ValueError(f"unknown object type: {key}")
    return [json.loads(line) for line in body.decode("utf-8").splitlines() if line]


def objects(request):
    s3 = client()
    out = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=request["bucket"], Prefix=request.get("prefix", "")):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=request["bucket"], Key=item["Key"])
            events = decode(item["Key"], got["Body"].read())
            entry = {
                "key": item["Key"],
                "size": item["Size"],
                "etag": item["ETag"].strip('"'),
                "contentType": got.get("ContentType"),
                "contentEncoding": got.get("ContentEncoding"),
                "events": len(events),
                "ids": [e.get("id") for e in events],
            }
            if request.get("withEvents"):
                entry["lines"] = events
            out.append(entry)
    return out


def heads(request):
    s3 = client()
    out = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=request["bucket"], Prefix=request.get("prefix", "")):
        for item in page.get("Contents", []):
            head = s3.head_object(Bucket=request["bucket"], Key=item["Key"])
            out.append({"key": item["Key"], "size": item["Size"], "metadata": head["Metadata"]})
    return out


def checkpoints(request):
    s3 = client()
    out = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=request["bucket"], Prefix=request.get("prefix", "")):
        for item in page.get("Contents", []):
            try:
                got = s3.get_object(Bucket=request["bucket"], Key=item["Key"])
            except s3.exceptions.NoSuchKey:
                continue  # pruned since the listing
            body = got["Body"].read()
            if body[:8] != b"EPCKPT\r\n":
                raise ValueError(f"{item['Key']} is not an edgepipe checkpoint")
            (crc,) = struct.unpack_from("<I", body, 12)
            if zlib.crc32(body[16:]) != crc:
                raise ValueError(f"{item['Key']}: CRC32 mismatch")
            (length,) = struct.unpack_from("<I", body, 16)
            out.append({
                "key": item["Key"],
                "size": item["Size"],
                "metadata": got["Metadata"],
                "json": json.loads(body[24:24 + length].decode("utf-8")),
            })
    return out


def main():
    request = json.load(sys.stdin)
    if request["op"] == "create-bucket":
        client().create_bucket(Bucket=request["bucket"])
        answer = {"ok": True}
    elif request["op"] == "objects":
        answer = objects(request)
    elif request["op"] == "checkpoints":
        answer = checkpoints(request)
    elif request["op"] == "heads":
        answer = heads(request)
    elif request["op"] == "put":
        body = base64.b64decode(request["base64"])
        client().put_object(Bucket=request["bucket"], Key=request["key"], Body=body)
        answer = {"ok": True}
    else:
        raise ValueError(f"unknown op {request['op']}")
    json.dump(answer, sys.stdout, default=str)


if __name__ == "__main__":
    main()
