#!/usr/bin/env bash
# Sets up, builds Drover and runs a server in the foreground on the embedded SQLite
# store, with a demo work pool and queue created once the server is up.
# Ctrl-C stops the server gracefully. Environment: DROVER_HOME (default ~/.drover),
# BUILD (release or debug; default release).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
config=${BUILD:-release}
swift build -c "$config" --product drover
drover="$(swift build -c "$config" --show-bin-path)/drover"

# The server prints one line on stdout once it serves requests; wait for it (bounded).
coproc SERVER { exec "$drover" server start; }
server=$SERVER_PID
trap 'kill -INT $server 2>/dev/null; wait $server' EXIT INT TERM
if ! read -r -t 60 ready <&"${SERVER[0]}"; then
  echo "run-demo: the server did not start; see its log above." >&2
  exit 1
fi
echo "$ready"

"$drover" work-pool inspect demo-pool >/dev/null 2>&1 || "$drover" work-pool create demo-pool --type process
"$drover" work-queue inspect high --pool demo-pool >/dev/null 2>&1 \
  || "$drover" work-queue create high --pool demo-pool --priority 1 >/dev/null
"$drover" work-pool set-concurrency-limit demo-pool 1
"$drover" work-pool ls
"$drover" work-queue ls --pool demo-pool
echo
echo "Drover is running (binary: $drover). Try:  $drover work-pool inspect demo-pool"
echo "Press Ctrl-C to stop the server."
wait $server
