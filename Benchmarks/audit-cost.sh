#!/usr/bin/env bash
# LIN-AUDIT's cost on a large vault, side by side with an earlier build of EduVault (before the audit existed).
#
#   Benchmarks/audit-cost.sh OLD_EDUVAULT [RECORDS] [RUNS]
#
# OLD_EDUVAULT is a release build of an earlier commit (e.g. `git worktree add ../old 77e65a7 && (cd ../old &&
# swift build -c release --product eduvault)` → ../old/.build/release/eduvault). Runs alternate between the two so
# machine noise hits both; prints each run's query time and the audit's own time, state size and rank.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?give the path of an earlier eduvault release binary}
records=${2:-1000000}
runs=${3:-2}
swift build -c release --product eduvault >/dev/null
new=.build/release/eduvault
key=Keys/test/eduvault-2048/private.json
report() {
  python3 -c '
import json, sys
label, o = sys.argv[1], json.load(sys.stdin)
line = "%-8s query %6.2f s, peak %4.0f MiB" % (label, o["query_seconds"], o["peak_memory_bytes"] / 2**20)
if "audit_ms" in o:
    line += ", audit %.3f ms (max over earlier releases %.3f ms), state %.1f KiB, rank %d over %d atoms" % (
        o["audit_ms"], o["audit_ms_max_prior"], o["audit_state_bytes"] / 1024,
        o["audit_rank"], o["audit_atoms"])
print(line)' "$1"
}
for run in $(seq 1 "$runs"); do
  "$old" bench --query-records "$records" --bits 2048 --private-key "$key" --json 2>/dev/null | report "old"
  for prior in 0 100; do
    "$new" bench --query-records "$records" --prior-releases "$prior" --bits 2048 --private-key "$key" --json \
      2>/dev/null | report "new/$prior"
  done
done
