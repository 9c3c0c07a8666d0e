#!/usr/bin/env bash
# Sets up and builds Drover, then runs it: a server on the embedded SQLite store, a
# worker, and a demo deployment whose run is followed to the end. Everything stays up
# until Ctrl-C, which stops the worker (it drains) and then the server, gracefully.
# Environment: DROVER_HOME (default ~/.drover), BUILD (release or debug; default release).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
config=${BUILD:-release}
swift build -c "$config" --product drover
drover="$(swift build -c "$config" --show-bin-path)/drover"

# The server prints one line on stdout once it serves requests; wait for it (bounded).
coproc SERVER { exec "$drover" server start; }
server=$SERVER_PID
worker=""
stop() {
  [ -n "$worker" ] && kill -INT "$worker" 2>/dev/null && wait "$worker" || true
  kill -INT "$server" 2>/dev/null && wait "$server" || true
}
trap stop EXIT INT TERM
if ! read -r -t 60 ready <&"${SERVER[0]}"; then
  echo "run-demo: the server did not start; see its log above." >&2
  exit 1
fi
echo "$ready"

"$drover" work-pool inspect demo-pool >/dev/null 2>&1 || "$drover" work-pool create demo-pool --type process
"$drover" work-pool set-concurrency-limit demo-pool 1
"$drover" deployment inspect hello >/dev/null 2>&1 || "$drover" deployment create hello --pool demo-pool \
  --command 'echo "Hello from $DROVER_FLOW_RUN_NAME with $DROVER_PARAMETERS"; sleep 1; echo done' --param who=world
# A scheduled deployment: the server makes its runs ahead and pushes each at its time.
"$drover" deployment inspect ticker >/dev/null 2>&1 || "$drover" deployment create ticker --pool demo-pool \
  --command 'echo "tick at $(date -u +%H:%M:%S)"' --interval 300 --catch-up latest >/dev/null
"$drover" work-pool preview demo-pool --hours 1

"$drover" worker start --pool demo-pool --name demo-worker --limit 1 &
worker=$!

"$drover" deployment run hello --param who=drover --watch
"$drover" flow-run ls --limit 5
"$drover" worker ls
echo
echo "Drover is running (binary: $drover). Try:  $drover deployment run hello --watch"
echo "Press Ctrl-C to stop the worker and the server."
wait "$server"
