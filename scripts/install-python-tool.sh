#!/usr/bin/env bash
# Install a pinned Python tool from PyPI into .cache/<name>, a virtualenv of its own, so CI needs no root
# and no system pip (PEP 668). Idempotent: does nothing when that requirement is installed there already.
#   scripts/install-python-tool.sh <name> <requirement>     e.g. cfn-lint "cfn-lint==1.58.0"
# install-cfn-lint.sh and install-moto.sh call it with their pins.
set -euo pipefail

NAME="$1"
REQUIREMENT="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/$NAME"
MARKER="$VENV/.installed"

if [[ -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "$REQUIREMENT" ]]; then
  echo "$REQUIREMENT already installed in $VENV"
  exit 0
fi

PYTHON="$(command -v python3 || true)"
if [[ -z "$PYTHON" ]]; then
  echo "install $NAME: python3 is required ($NAME is a Python package); install Python 3.9+" >&2
  exit 1
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1; then
  echo "install $NAME: python3 has no venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2
  exit 1
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "$REQUIREMENT"
echo "$REQUIREMENT" >"$MARKER"
echo "installed $REQUIREMENT in $VENV"
