#!/usr/bin/env bash
# Install cfn-lint (the CloudFormation linter, from PyPI) into .cache/cfn-lint, a virtualenv of its own,
# so CI needs no root and no system pip (PEP 668). Idempotent: does nothing when the pinned version is
# there. The template test (test/unit/deploy/template.test.ts) uses .cache/cfn-lint/bin/cfn-lint, else
# a cfn-lint on PATH.
#   scripts/install-cfn-lint.sh          # then: .cache/cfn-lint/bin/cfn-lint --version
set -euo pipefail

VERSION="${CFN_LINT_VERSION:-1.51.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/cfn-lint"
BIN="$VENV/bin/cfn-lint"

if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null)" == "cfn-lint $VERSION" ]]; then
  echo "cfn-lint $VERSION already installed: $BIN"
  exit 0
fi

PYTHON="$(command -v python3 || true)"
if [[ -z "$PYTHON" ]]; then
  echo "install-cfn-lint: python3 is required (cfn-lint is a Python package); install Python 3.9+" >&2
  exit 1
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1; then
  echo "install-cfn-lint: python3 has no venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2
  exit 1
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "cfn-lint==$VERSION"
echo "installed $("$BIN" --version): $BIN"
