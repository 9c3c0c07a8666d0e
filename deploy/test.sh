#!/usr/bin/env bash
# Sets up the build dependencies, builds everything and runs every test suite:
# unit tests of each module and the integration tests that drive the real `drover`
# binary against real servers on 127.0.0.1. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
# The multi-host test makes network namespaces (iproute2) and captures on their bridge
# (tcpdump); it needs root, and is skipped, saying so, without it.
if [ "$(id -u)" -eq 0 ] && { ! command -v tcpdump >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; }; then
  echo "test: installing tcpdump and iproute2 for the multi-host test"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump iproute2 >/dev/null
fi
# The schedule tests check Drover's cron and rrule against independent implementations,
# croniter and python-dateutil from PyPI, installed into a virtual environment of the build.
test_python=.build/test-python
if ! "$test_python/bin/python3" -c "import croniter, dateutil" >/dev/null 2>&1; then
  echo "test: installing croniter and python-dateutil into $test_python"
  python3 -m venv "$test_python"
  "$test_python/bin/pip" install -q --disable-pip-version-check croniter==7.0.0 python-dateutil==4.0.0
fi
# The sources' layout (.swift-format): seconds, and a clear message on a difference.
bash deploy/lint.sh
swift build --build-tests
swift test "$@"
# Two short chaos soaks against the real binary, after the tests rather than among them (they
# start servers, workers and runs of their own): the server, workers and a standalone limit
# service are killed on a seeded schedule, and nothing may be lost, run twice or run past a
# limit. The second runs everything --secure, with keys. Each exits 1 on a violation and
# prints it.
.build/debug/drover bench chaos --seed 7 --duration 20 --server-kills 3 --worker-kills 2 --worker-stops 2
.build/debug/drover bench chaos --seed 11 --duration 12 --server-kills 1 --worker-kills 0 --worker-stops 0 \
  --limit-service standalone --limit-service-kills 2 --secure
# The systemd units in deploy/ must load: systemd-analyze checks them (where it is installed).
if command -v systemd-analyze >/dev/null 2>&1; then
  units=$(mktemp -d)
  for unit in deploy/systemd/*.service; do
    sed "s#/usr/local/bin/drover#$PWD/.build/debug/drover#" "$unit" > "$units/$(basename "$unit")"
  done
  mv "$units/drover-worker@.service" "$units/drover-worker@check.service"
  systemd-analyze verify "$units"/*.service
  rm -rf "$units"
  echo "test: the systemd units in deploy/systemd load"
fi
# The container file and the Kubernetes manifests: hadolint and a strict schema check (no
# container engine or cluster runs here; docs/containers.md).
bash deploy/check-deploy-files.sh
# Coverage-guided fuzzing of every decoder and message handler for a minute (deploy/fuzz.sh).
bash deploy/fuzz.sh 60
