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
bash .ci/azurite.sh >/dev/null   # Azurite from npm into .tools/ unless one is on PATH
