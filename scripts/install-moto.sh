#!/usr/bin/env bash
# moto, AWS APIs emulated by one local server process, pinned, into .cache/moto
# (scripts/install-python-tool.sh). This project uses its Secrets Manager: broker/moto.ts starts it.
exec "$(dirname "${BASH_SOURCE[0]}")/install-python-tool.sh" moto "moto[server]==${MOTO_VERSION:-5.2.6}"
