#!/usr/bin/env bash
# The relocatable bundle (make bundle) made from this build and checked as a user without the
# Debian packages meets it (tools/check-bundle): extracted into an empty directory, every
# library resolved inside it, a run in a bare environment.
#   tests/bundle/relocatable_bundle_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$src/tools/make-bundle" "${1:?usage: relocatable_bundle_test.sh BUILD_DIR}" "$out"
"$src/tools/check-bundle" "$out"/dosemap-*-linux-x86_64.tar.xz
