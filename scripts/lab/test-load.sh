#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Module 5, test 2: LOAD_COUNT (100) concurrent idempotent sends, keys load-1..load-N on the
# topic load-test; counts the successes (HTTP 200) and failures.
#   BASE_URL=http://localhost:18081 LOAD_COUNT=100 scripts/lab/test-load.sh
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LOAD_COUNT="${LOAD_COUNT:-100}"
load=$(topic load-test)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

title "Load: $LOAD_COUNT concurrent idempotent requests to $BASE_URL (topic $load)"

started=$(now_ms)
for i in $(seq 1 "$LOAD_COUNT"); do
  curl -s -o /dev/null -m "$CURL_MAX_TIME" -w '%{http_code}' -X POST "$BASE_URL/api/v1/test/idempotent" \
    -H 'Content-Type: application/json' \
    -d "{\"topic\":\"$load\",\"key\":\"load-$i\",\"message\":\"Load test message $i\"}" \
    >"$results/$i" 2>/dev/null &
done
wait
elapsed_ms=$(( $(now_ms) - started ))

declare -A by_status=()
successes=0
for i in $(seq 1 "$LOAD_COUNT"); do
  code=$(cat "$results/$i" 2>/dev/null)
  code=${code:-000}
  by_status[$code]=$((${by_status[$code]:-0} + 1))
  if [ "$code" = 200 ]; then
    successes=$((successes + 1))
  fi
done
failures=$((LOAD_COUNT - successes))

for code in "${!by_status[@]}"; do
  detail "HTTP $code: ${by_status[$code]}"
done
if [ "$failures" -eq 0 ]; then
  ok "$successes/$LOAD_COUNT acknowledged in ${elapsed_ms} ms"
else
  ko "$successes/$LOAD_COUNT acknowledged, $failures failed, in ${elapsed_ms} ms"
fi
printf 'successes=%d failures=%d\n' "$successes" "$failures"

summary "test-load"
