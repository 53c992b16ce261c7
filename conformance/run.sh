#!/usr/bin/env bash
# Runs the OCI runtime-tools suite against runc, crun and paddock-runtime and
# writes CONFORMANCE.md (see conformance/main.go). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./conformance "$@"
