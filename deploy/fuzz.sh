#!/usr/bin/env bash
# Coverage-guided fuzzing of what Drover reads off its sockets: the dispatch, control and
# limits decoders, the coordinator's and the limit service's handling of each message
# kind, and a worker's session fed by a hostile server (Sources/drover-fuzz).
#
#   bash deploy/fuzz.sh [SECONDS]      # default 60; the test command runs it for 60
#
# It builds drover-fuzz with libFuzzer (-sanitize=fuzzer), optimized (some 4 times as many
# inputs a second as a debug build), into .build-fuzz, starts from the
# seed corpus (valid messages of every kind) plus what earlier runs kept, and fuzzes for
# SECONDS. An input that traps, or breaks a promise (a store failure, a worker past its
# limit, a reply that cannot be serialized), is saved under .build-fuzz/artifacts/ and the
# script exits 1; replay it with: swift build --product drover-fuzz && .build/debug/drover-fuzz replay FILE
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --product drover-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DDROVER_FUZZ
fuzz="$scratch/release/drover-fuzz"
corpus="$scratch/corpus"
artifacts="$scratch/artifacts"
mkdir -p "$corpus" "$artifacts"
"$fuzz" seeds "$corpus"
# Swift's own crash handler would take the signal before libFuzzer saves the input.
export SWIFT_BACKTRACE=enable=no
echo "fuzz: running for ${seconds}s on 1 core"
set +e
"$fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$corpus" >"$scratch/fuzz.log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+.*(DONE|pulse)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$scratch/fuzz.log" | tail -6
if [ "$status" -ne 0 ]; then
  tail -40 "$scratch/fuzz.log"
  echo "fuzz: an input broke Drover; it is in $artifacts/ (replay: .build/debug/drover-fuzz replay FILE)" >&2
  exit 1
fi
echo "fuzz: no failures; the corpus holds $(ls "$corpus" | wc -l) inputs"
