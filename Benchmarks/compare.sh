#!/usr/bin/env bash
# Side-by-side benchmark: EduVault vs python-paillier (phe + gmpy2), in one run on this machine.
# Usage: Benchmarks/compare.sh [BITS] [SECONDS] [RUNS]   (defaults: 2048 2 3)
# Prints each library's median over RUNS runs and the ratio EduVault / phe. Needs a release build and a
# Python with phe and gmpy2 (PYTHON, default .venv/bin/python; .ci/run creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
BITS=${1:-2048}
SECONDS_PER_OP=${2:-2}
RUNS=${3:-3}
PYTHON=${PYTHON:-.venv/bin/python}
swift build -c release --product eduvault >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$RUNS"); do
  echo "run $i/$RUNS: eduvault" >&2
  .build/release/eduvault bench --bits "$BITS" --seconds "$SECONDS_PER_OP" --json >"$out/eduvault.$i.json"
  echo "run $i/$RUNS: python-paillier" >&2
  "$PYTHON" Benchmarks/bench_phe.py --bits "$BITS" --seconds "$SECONDS_PER_OP" >"$out/phe.$i.json"
done
"$PYTHON" - "$out" "$RUNS" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
ev = [json.load(open(f"{out}/eduvault.{i}.json")) for i in range(1, runs + 1)]
ph = [json.load(open(f"{out}/phe.{i}.json")) for i in range(1, runs + 1)]
def med(rows, k):
    vals = [r[k] for r in rows if k in r]
    return statistics.median(vals) if vals else None
keys = ["keygen_per_s", "encrypt_per_s", "encrypt_per_s_all_cores", "decrypt_per_s", "add_per_s",
        "scalar_mul_per_s", "sum_adds_per_s"]
print(f"bits={ev[0]['bits']} cores={ev[0]['cores']} runs={runs} (median per row); phe: {ph[0]['library']}, gmpy2={ph[0]['gmpy2']}")
print(f"{'operation (per second)':34} {'EduVault':>12} {'phe':>12} {'ratio':>8}")
for k in keys:
    a, b = med(ev, k), med(ph, k)
    if a is None or b is None:
        continue
    print(f"{k:34} {a:12.1f} {b:12.1f} {a / b:7.2f}x")
extra = ["keygen_per_s_all_cores", "add_per_s_all_cores", "scalar_mul_per_s_all_cores", "encrypt_standard_per_s", "encrypt_crt_private_key_per_s", "encrypt_pooled_online_per_s",
         "decrypt_per_s_all_cores", "sum_adds_per_s_all_cores", "table_bytes", "table_build_s", "pool_bytes_per_1000"]
print("EduVault only:")
for k in extra:
    a = med(ev, k)
    if a is not None:
        print(f"  {k:32} {a:12.1f}")
PY
