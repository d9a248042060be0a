#!/bin/sh
# Regenerates the golden fixtures in this directory with the Java classes of the Pulsar 4.0.8
# distribution (protocol encoders, compression codecs, key hashes).
# Usage: lib/pulsar/wire/testdata/generate_golden.sh [path/to/apache-pulsar-4.0.8]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pulsar=${1:-${PULSAR_HOME:-/root/.cache/edgepipe/apache-pulsar-4.0.8}}
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
cp="$pulsar/lib/*"
for program in GoldenFrames GoldenTxnFrames GoldenCompression GoldenRouting; do
  javac -nowarn -cp "$cp" -d "$classes" "$here/$program.java"
done
java -cp "$classes:$cp" GoldenFrames > "$here/golden_frames.json"
java -cp "$classes:$cp" GoldenTxnFrames > "$here/golden_txn_frames.json"
java -cp "$classes:$cp" GoldenCompression generate > "$here/golden_compression.json"
java -cp "$classes:$cp" GoldenRouting > "$here/golden_routing.json"
echo "wrote golden_frames.json golden_txn_frames.json golden_compression.json golden_routing.json in $here"
# Keep the fixtures as `deno fmt` leaves them, so that regenerating changes only real differences.
if command -v deno >/dev/null; then deno fmt -q "$here"/golden_*.json; fi
