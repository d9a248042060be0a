#!/usr/bin/env bash
# Builds the pinned Ory Hydra OAuth2 server from the Go module proxy into a cache outside the
# repository, so the OAuth2 tests run against a real authorization server. Prints the binary's path.
# Needs Go >= 1.24. Takes several minutes on a small box the first time; later runs are instant.
set -euo pipefail

HYDRA_VERSION="${EDGEPIPE_HYDRA_VERSION:-v2.3.0}"
CACHE_ROOT="${EDGEPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgepipe}"
BIN_DIR="$CACHE_ROOT/hydra/$HYDRA_VERSION"
BINARY="$BIN_DIR/hydra"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null || { echo "install_hydra: go is not on PATH (needs Go >= 1.24)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
# Build into a temp dir, then rename: a killed build never leaves a half-written binary behind.
TMP_BIN="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
echo "install_hydra: building github.com/ory/hydra/v2@$HYDRA_VERSION (first time only)" >&2
# Hydra's own go.mod has replace directives, so `go install pkg@version` refuses it: build it as a
# tool of a throw-away module that repeats the one that matters (a fork of pop); the API client
# Hydra replaces with its own copy is the published one of the same API.
MOD_DIR="$TMP_BIN/mod"
mkdir -p "$MOD_DIR"
(
  cd "$MOD_DIR"
  go mod init edgepipe.local/hydra-build >&2
  HYDRA_DIR="$(go mod download -json "github.com/ory/hydra/v2@$HYDRA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$HYDRA_DIR" ]] || { echo "install_hydra: cannot download hydra $HYDRA_VERSION" >&2; exit 1; }
  go mod edit -replace "$(sed -n 's/^replace github.com\/gobuffalo\/pop\/v6 => \(.*\) \(.*\)$/github.com\/gobuffalo\/pop\/v6=\1@\2/p' "$HYDRA_DIR/go.mod")"
  go get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION" >&2
  # The in-memory DSN is SQLite: it needs cgo and the `sqlite` build tag.
  CGO_ENABLED=1 go build -trimpath -tags sqlite,sqlite_omit_load_extension -o "$TMP_BIN/hydra" github.com/ory/hydra/v2 >&2
)
mv "$TMP_BIN/hydra" "$BINARY"
echo "$BINARY"
