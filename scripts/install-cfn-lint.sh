#!/usr/bin/env bash
# cfn-lint, the CloudFormation linter, pinned, into .cache/cfn-lint (scripts/install-python-tool.sh). The
# template test (test/unit/deploy/template.test.ts) uses .cache/cfn-lint/bin/cfn-lint, else one on PATH.
exec "$(dirname "${BASH_SOURCE[0]}")/install-python-tool.sh" cfn-lint "cfn-lint==${CFN_LINT_VERSION:-1.58.0}"
