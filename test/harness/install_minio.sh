#!/usr/bin/env bash
# Builds the pinned MinIO server from the Go module proxy into a cache outside the repository, so
# S3 integration tests run against a real S3 implementation. Prints the binary's path.
# Needs Go >= 1.24. Takes a few minutes on a small box the first time; later runs are instant.
set -euo pipefail

MINIO_VERSION="${EDGEPIPE_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
CACHE_ROOT="${EDGEPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgepipe}"
BIN_DIR="$CACHE_ROOT/minio/$MINIO_VERSION"
BINARY="$BIN_DIR/minio"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null || { echo "install_minio: go is not on PATH (needs Go >= 1.24)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
# Build into a temp dir, then rename: a killed build never leaves a half-written binary behind.
TMP_BIN="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
echo "install_minio: building github.com/minio/minio@$MINIO_VERSION (first time only)" >&2
GOBIN="$TMP_BIN" GOFLAGS="${GOFLAGS:-} -trimpath" go install "github.com/minio/minio@$MINIO_VERSION" >&2
mv "$TMP_BIN/minio" "$BINARY"
echo "$BINARY"
