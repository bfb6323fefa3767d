#!/usr/bin/env bash
# Print the path of an `azurite-blob` executable, installing Azurite with npm into .tools/ (the same place
# .ci/setup.sh and .ci/test.sh use) when none is on PATH. Why project-local: this never needs root.
# Usage: AZURITE_BLOB_BIN="$(.ci/azurite.sh)"; AZURITE_VERSION overrides the pinned version.
set -euo pipefail
version="${AZURITE_VERSION:-3.35.0}"
if found="$(command -v azurite-blob)"; then
  echo "$found"
  exit 0
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$repo/.tools"
bin="$prefix/node_modules/.bin/azurite-blob"
if [[ ! -x "$bin" ]]; then
  command -v npm >/dev/null || { echo "azurite.sh: npm is needed to install Azurite" >&2; exit 1; }
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent "azurite@$version" >&2
fi
echo "$bin"
