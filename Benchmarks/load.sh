#!/usr/bin/env bash
# The vault as a service under load: SCHOOLS schools upload BATCHES batches of RECORDS records each, concurrently over
# HTTP (one connection per school, signed requests) to a live `eduvault serve` (release build, its own process), first
# with uploads only, then while a bureau queries back to back; the same batches are ingested locally (`vault ingest`,
# one after another) into an identical copy of the vault.
# Usage: Benchmarks/load.sh [SCHOOLS] [BATCHES] [RECORDS] [BITS]   (defaults: 64 2 1000 2048)
# Env: SCRATCH (SwiftPM scratch path, default .build), JSON=1 for one JSON object.
# Reports: records/s over HTTP (uploads only, and with queries) next to local ingest and their ratios; p50/p99 query
# latency during the uploads; failed uploads and queries; the server's RSS idle, after the first batch, after 100
# batches, at the end, and its peak. Goals (issue 10): HTTP ≥ 0.8× local; 64 concurrent connections with no failed
# request; RSS after 100 batches ≤ 2× after the first.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHOOLS=${1:-64}
BATCHES=${2:-2}
RECORDS=${3:-1000}
BITS=${4:-2048}
SCRATCH=${SCRATCH:-.build}
KEY="Keys/test/eduvault-$BITS/public.json"
[ -f "$KEY" ] || { echo "no test key for $BITS bits in Keys/test" >&2; exit 1; }
echo "building release binary…" >&2
swift build -c release --product eduvault --scratch-path "$SCRATCH" >/dev/null
ARGS=(bench --load --load-schools "$SCHOOLS" --load-batches "$BATCHES" --load-records "$RECORDS" --public-key "$KEY")
[ "${JSON:-0}" = 1 ] && ARGS+=(--json)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$SCRATCH/release/eduvault" "${ARGS[@]}"
