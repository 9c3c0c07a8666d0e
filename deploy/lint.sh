#!/usr/bin/env bash
# Checks the Swift sources against .swift-format with swift-format (part of the Swift
# toolchain): any difference fails. `bash deploy/lint.sh --fix` formats them instead.
# The generated protobuf code (Sources/DroverProto) is left as protoc wrote it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t folders < <(ls -d Sources/*/ Tests/*/ | grep -v '^Sources/DroverProto/')
if [ "${1:-}" = "--fix" ]; then
  swift format format --parallel --in-place --recursive "${folders[@]}"
  echo "lint: formatted ${#folders[@]} folders"
else
  swift format lint --strict --parallel --recursive "${folders[@]}"
  echo "lint: the sources follow .swift-format (fix with: bash deploy/lint.sh --fix)"
fi
