#!/usr/bin/env bash
# The test command (README and CI): the whole suite, two workers (the machine has two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
python -m pytest -q -n 2 --timeout=600 "$@"
