#!/usr/bin/env bash
# Regenerates Sources/DroverProto from proto/*.proto. The output is committed, so a
# normal build needs neither protoc nor the plugin.
#
# Needs: protoc from Debian's protobuf-compiler (3.21), and protoc-gen-swift built once,
# outside this repository, from swift-protobuf 1.39.0:
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# then put .build/release on PATH or set PROTOC_GEN_SWIFT to the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
if [ -z "$plugin" ]; then
  echo "protoc-gen-swift not found: build it (see the comment at the top of $0) and set PROTOC_GEN_SWIFT." >&2
  exit 1
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
protoc \
  --plugin=protoc-gen-swift="$plugin" \
  --proto_path="$here" \
  --swift_out="$root/Sources/DroverProto" \
  --swift_opt=Visibility=Public \
  "$here"/*.proto
echo "generated $(ls "$root"/Sources/DroverProto/*.pb.swift | xargs -n1 basename)"
