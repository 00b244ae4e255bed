#!/usr/bin/env bash
# School-side encryption and vault-side ingest throughput, through the release `eduvault` binary.
# Usage: Benchmarks/ingest.sh [N] [BITS]   (defaults: 100000 2048)
#   N     records in total, spread over SCHOOLS schools (env, default 40) and three subjects
#   BITS  key size; uses Keys/test/eduvault-BITS (1024 adds --insecure-test-key)
# Env: SCRATCH (SwiftPM scratch path, default .build), KEEP=1 keeps the work directory.
# Prints records/s for `school encrypt` (all schools, one after another, each on all cores) and `vault ingest`
# (all batches in one call), the database size, and the peak resident memory of each step (GNU time, if present).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-100000}
BITS=${2:-2048}
SCHOOLS=${SCHOOLS:-40}
SCRATCH=${SCRATCH:-.build}
KEYDIR="$ROOT/Keys/test/eduvault-$BITS"
[ -f "$KEYDIR/public.json" ] || { echo "no test key for $BITS bits in Keys/test (have: $(ls Keys/test))" >&2; exit 1; }
FLAG=()
[ "$BITS" -lt 2048 ] && FLAG=(--insecure-test-key)

echo "building release binary…" >&2
swift build -c release --product eduvault --scratch-path "$SCRATCH" >/dev/null
BIN="$ROOT/$SCRATCH/release/eduvault"

WORK=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
TIME=()
[ -x /usr/bin/time ] && TIME=(/usr/bin/time -v -o "$WORK/time.txt")
now() { date +%s.%N; }
peak_kb() { [ -f "$WORK/time.txt" ] && awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt" || echo 0; }

echo "generating $N records for $SCHOOLS schools…" >&2
python3 - "$WORK" "$N" "$SCHOOLS" <<'PY'
import random, sys
work, n, schools = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20050101)
subjects = ["math", "chinese", "english"]
for s in range(schools):
    rows = n // schools + (1 if s < n % schools else 0)
    with open(f"{work}/school-{s:03d}.csv", "w") as f:
        f.write("student_id,subject,score,sex,residence,grade,term\n")
        for i in range(rows):
            score = min(100.0, max(0.0, rng.gauss(70, 12)))
            f.write(f"S{s:03d}-{i // 3:07d},{subjects[i % 3]},{score:.1f},{'FM'[i // 3 % 2]},"
                    f"{'rural' if s % 2 else 'urban'},{7 + i // 3 % 3},2024\n")
PY

"$BIN" vault init --vault "$WORK/vault" --public-key "$KEYDIR/public.json" "${FLAG[@]}" >/dev/null
for s in $(seq 0 $((SCHOOLS - 1))); do
  id=$(printf 'school-%03d' "$s")
  region=$([ $((s % 2)) = 1 ] && echo rural || echo urban)
  "$BIN" school add --vault "$WORK/vault" --id "$id" --attr "region=$region" --attr "province=P$((s % 5))" \
    --keys-out "$WORK/$id.keys.json" >/dev/null
done

echo "encrypting…" >&2
enc_peak=0
start=$(now)
for s in $(seq 0 $((SCHOOLS - 1))); do
  id=$(printf 'school-%03d' "$s")
  CI=1 "${TIME[@]}" "$BIN" school encrypt --descriptor "$WORK/vault/descriptor.json" --school "$id" \
    --keys "$WORK/$id.keys.json" --input "$WORK/$id.csv" --output "$WORK/$id.batch" "${FLAG[@]}" >/dev/null
  kb=$(peak_kb); [ "${kb:-0}" -gt "$enc_peak" ] && enc_peak=$kb
done
enc_s=$(echo "$(now) - $start" | bc -l)

echo "ingesting…" >&2
start=$(now)
CI=1 "${TIME[@]}" "$BIN" vault ingest --vault "$WORK/vault" "$WORK"/school-*.batch >/dev/null
ing_s=$(echo "$(now) - $start" | bc -l)
ing_peak=$(peak_kb)
"$BIN" vault check --vault "$WORK/vault" >/dev/null

db_bytes=$(( $(stat -c %s "$WORK/vault/vault.sqlite") + $( [ -f "$WORK/vault/vault.sqlite-wal" ] && stat -c %s "$WORK/vault/vault.sqlite-wal" || echo 0) ))
batch_bytes=$(cat "$WORK"/school-*.batch | wc -c)
printf 'records %d, schools %d, key %d bits, %d cores\n' "$N" "$SCHOOLS" "$BITS" "$(nproc)"
printf 'encrypt: %8.1f s  %9.0f records/s  peak RSS %s MB per school\n' "$enc_s" "$(echo "$N / $enc_s" | bc -l)" \
  "$([ -n "${TIME[*]}" ] && echo $((enc_peak / 1024)) || echo '?')"
printf 'ingest:  %8.1f s  %9.0f records/s  peak RSS %s MB\n' "$ing_s" "$(echo "$N / $ing_s" | bc -l)" \
  "$([ -n "${TIME[*]}" ] && echo $((ing_peak / 1024)) || echo '?')"
printf 'batches: %.1f MB; database: %.1f MB (%.0f bytes/record)\n' "$(echo "$batch_bytes / 1000000" | bc -l)" \
  "$(echo "$db_bytes / 1000000" | bc -l)" "$(echo "$db_bytes / $N" | bc -l)"
