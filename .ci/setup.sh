#!/usr/bin/env bash
# Creates .venv with the project and its test tools, and makes sure Azurite (the blob emulator) is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]"
if ! command -v azurite-blob >/dev/null 2>&1 && [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
  echo "installing Azurite into .tools/ (npm)"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools azurite@3 >/dev/null
fi
