#!/usr/bin/env bash
# Sets up the build dependencies, builds everything and runs every test suite:
# unit tests of each module and the integration tests that drive the real `drover`
# binary against real servers on 127.0.0.1. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
swift build --build-tests
swift test "$@"
