#!/usr/bin/env bash
# Schemathesis against the OpenAPI document and a live `eduvault serve` on a loopback port: every response must match
# the document (status, content type, schema, headers) and none may be a 5xx. Requests are signed by .ci/st_hooks.py
# with keys of every role, so the fuzzer reaches the handlers, not only the 401 path. Runs after `swift test` (which
# built .build/debug/eduvault). Bounded: --max-time, and the server is stopped (SIGTERM, by its pid) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
E="$PWD/.build/debug/eduvault"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; wait "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$E" vault init --vault "$work/v" --public-key Keys/test/eduvault-1024/public.json --insecure-test-key >/dev/null 2>&1
"$E" school keygen --school GP --descriptor "$work/v/descriptor.json" --out "$work/school.key" >/dev/null
"$E" school add --vault "$work/v" --id GP --attr region=rural --public-key "$work/school.key.pub" >/dev/null
for role in bureau auditor operator; do
  "$E" member keygen --out "$work/$role.key" >/dev/null
  "$E" member add --vault "$work/v" --role "$role" --name "$role" --public-key "$work/$role.key.pub" >/dev/null
done
printf 'student_id,subject,score\n' > "$work/gp.csv"
for i in $(seq 1 24); do printf 's%d,math,%d\ns%d,chinese,%d\n' "$i" $((40 + i)) "$i" $((50 + i)) >> "$work/gp.csv"; done
"$E" school encrypt --descriptor "$work/v/descriptor.json" --school GP --keys "$work/school.key" --input "$work/gp.csv" \
  --output "$work/gp.batch" --insecure-test-key >/dev/null
"$E" vault ingest --vault "$work/v" "$work/gp.batch" >/dev/null

"$E" serve --vault "$work/v" --listen 127.0.0.1:0 --rate-limit 100000 > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/serve.out")"
[ -n "$port" ] || { echo "schemathesis: the server did not start"; cat "$work/serve.log"; exit 1; }

export EDUVAULT_ST_KEYS="$work" EDUVAULT_ST_URL="http://127.0.0.1:$port" SCHEMATHESIS_HOOKS=st_hooks
status=0
PYTHONPATH="$PWD/.ci" .venv/bin/st run Sources/VaultHTTP/openapi.yaml --url "http://127.0.0.1:$port" --checks all \
  --exclude-checks positive_data_acceptance,negative_data_rejection,missing_required_header,ignored_auth \
  --max-examples "${EDUVAULT_ST_EXAMPLES:-40}" --max-time "${EDUVAULT_ST_SECONDS:-240}" --workers 2 \
  --suppress-health-check all --no-color > "$work/st.out" 2>&1 || status=$?
tail -40 "$work/st.out"
if grep -q ' status=5[0-9][0-9]' "$work/serve.log"; then
  echo "schemathesis: the server answered with a 5xx:"; grep ' status=5[0-9][0-9]' "$work/serve.log" | head -5
  status=1
fi
exit $status
