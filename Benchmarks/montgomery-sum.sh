#!/usr/bin/env bash
# Side by side: the vault's homomorphic sum in Swift (`eduvault bench --sum-vault`, the engine's own summing path)
# against plain C over libcrypto doing the same Montgomery products on the same bytes (Benchmarks/montgomery-sum.c).
# Usage: Benchmarks/montgomery-sum.sh [RECORDS] [RUNS] [PASSES]   (defaults: 100000 5 3)
#
# Builds the C program (cc -O2) and eduvault (release; SKIP_BUILD=1 reuses .build/release), makes a vault of RECORDS
# records with the 2048-bit test key (`bench --query-records RECORDS --keep-vault`), then per run, interleaved:
#   C from the vault file, Swift from the vault file, C from a flat in-memory buffer, Swift from the same buffer,
# each summing every record PASSES times into 24 cells (one accumulator per cell). Reports per run the CPU seconds
# (user+sys of the process over the timed passes, every thread) of both, the ratio C ÷ Swift (1.0 = as fast as C)
# and the medians, plus the load average; the sums' digests must agree or the script fails.
# SUM_WORKERS (default 1, as the C program) sets Swift's summing threads; its SQLite reader is a thread of its own
# and its CPU counts too.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-100000}
RUNS=${2:-5}
PASSES=${3:-3}
WORKERS=${SUM_WORKERS:-1}
KEY=${KEY:-Keys/test/eduvault-2048/private.json}
mkdir -p .build
cc -O2 -Wall -o .build/montgomery-sum Benchmarks/montgomery-sum.c -lcrypto -lsqlite3
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then swift build -c release --product eduvault >/dev/null; fi
EV=${EDUVAULT:-.build/release/eduvault}  # EDUVAULT=path compares another build (SKIP_BUILD=1)
C=.build/montgomery-sum
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "making a vault of $RECORDS records" >&2
"$EV" bench --query-records "$RECORDS" --private-key "$KEY" --keep-vault "$work/vault" --json >"$work/query.json"
"$EV" bench --sum-vault "$work/vault" --sum-plan-out "$work/plan" --sum-workers "$WORKERS" >/dev/null  # plan, warm cache
"$C" export "$work/plan" "$work/vault/vault.sqlite" "$work/flat.bin"

field() { sed -E "s/(^|.* )$1 ([^ ]+).*/\2/" <<<"$2"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-6s %10s %10s %8s %10s %10s\n' run input "C cpu s" "Swift cpu" "C÷Swift" "C wall" "Swift wall"
results=()
for run in $(seq 1 "$RUNS"); do
  for input in vault flat; do
    if [[ $input == vault ]]; then
      c=$("$C" vault "$work/plan" "$work/vault/vault.sqlite" "$PASSES")
      s=$("$EV" bench --sum-vault "$work/vault" --sum-passes "$PASSES" --sum-workers "$WORKERS")
    else
      c=$("$C" flat "$work/plan" "$work/flat.bin" "$PASSES")
      s=$("$EV" bench --sum-vault "$work/vault" --sum-file "$work/flat.bin" --sum-passes "$PASSES" --sum-workers "$WORKERS")
    fi
    if [[ $(field digest "$c") != $(field digest "$s") || $(field records "$c") != $(field records "$s") ]]; then
      echo "the sums differ: C: $c / Swift: $s" >&2
      exit 1
    fi
    cc=$(field cpu_s "$c"); sc=$(field cpu_s "$s")
    ratio=$(python3 -c "print(f'{$cc / $sc:.3f}')")
    printf '%-4s %-6s %10s %10s %8s %10s %10s\n' "$run" "$input" "$cc" "$sc" "$ratio" "$(field wall_s "$c")" "$(field wall_s "$s")"
    results+=("$input $ratio")
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin]
for input in ("vault", "flat"):
    ratios = sorted(float(r) for i, r in rows if i == input)
    runs = ", ".join("%.3f" % r for r in ratios)
    print("median C÷Swift CPU, %s: %.3f (runs, sorted: %s)" % (input, statistics.median(ratios), runs))
'
echo "records $(field records "$c") per pass, $PASSES passes, Swift summing threads $WORKERS, $(nproc) cores"
