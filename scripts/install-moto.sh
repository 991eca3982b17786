#!/usr/bin/env bash
# Install moto (AWS APIs emulated in one local server process, from PyPI) into .cache/moto, a virtualenv
# of its own, like scripts/install-cfn-lint.sh: no root, no system pip. This project uses its Secrets
# Manager (broker/moto.ts starts it on 127.0.0.1; the AWS SDK reaches it through
# AWS_ENDPOINT_URL_SECRETS_MANAGER). Idempotent: does nothing when the pinned version is there.
#   scripts/install-moto.sh          # then: .cache/moto/bin/moto_server --help
set -euo pipefail

VERSION="${MOTO_VERSION:-5.2.6}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/moto"
MARKER="$VENV/.installed-$VERSION"

if [[ -x "$VENV/bin/moto_server" ]] && [[ -f "$MARKER" ]]; then
  echo "moto $VERSION already installed: $VENV/bin/moto_server"
  exit 0
fi

PYTHON="$(command -v python3 || true)"
if [[ -z "$PYTHON" ]]; then
  echo "install-moto: python3 is required (moto is a Python package); install Python 3.9+" >&2
  exit 1
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1; then
  echo "install-moto: python3 has no venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2
  exit 1
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "moto[server]==$VERSION"
touch "$MARKER"
echo "installed moto $VERSION: $VENV/bin/moto_server"
