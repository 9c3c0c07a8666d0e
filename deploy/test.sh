#!/usr/bin/env bash
# Sets up the build dependencies, builds everything and runs every test suite:
# unit tests of each module and the integration tests that drive the real `drover`
# binary against real servers on 127.0.0.1. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
# The schedule tests check Drover's cron and rrule against independent implementations,
# croniter and python-dateutil from PyPI, installed into a virtual environment of the build.
test_python=.build/test-python
if ! "$test_python/bin/python3" -c "import croniter, dateutil" >/dev/null 2>&1; then
  echo "test: installing croniter and python-dateutil into $test_python"
  python3 -m venv "$test_python"
  "$test_python/bin/pip" install -q --disable-pip-version-check croniter==7.0.0 python-dateutil==4.0.0
fi
swift build --build-tests
swift test "$@"
