#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Module 6: faults with Toxiproxy. For each of the workshop's toxics (latency 5 s ± 0.5 s, timeout
# 2 s, bandwidth 1 KB/s, all on the broker's answers): add it, send a request through the
# service, show the answer and its time, remove it. Then check that the service recovers.
#
#   BASE_URL=http://localhost:18081 TOXIPROXY_URL=http://localhost:8474 scripts/lab/test-toxiproxy.sh
#
# The service must reach Kafka through the proxy PROXY_NAME (default dotnet-api-proxy, as in
# lab/toxiproxy.json). When that proxy does not exist it is created from PROXY_LISTEN and
# PROXY_UPSTREAM (the workshop's: 0.0.0.0:29093 and kafka:29092). Answers expected under a toxic:
# a success, or 503/504 with a problem body, within the request's time limit; never a 500 or
# no answer. Exits non-zero if any check failed.
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

TOXIPROXY_URL="${TOXIPROXY_URL:-http://localhost:8474}"
TOXIPROXY_URL="${TOXIPROXY_URL%/}"
PROXY_NAME="${PROXY_NAME:-dotnet-api-proxy}"
PROXY_LISTEN="${PROXY_LISTEN:-0.0.0.0:29093}"
PROXY_UPSTREAM="${PROXY_UPSTREAM:-kafka:29092}"
TOXICS=(latency_5s timeout_2s bandwidth_1kb)

# toxiproxy METHOD PATH [BODY]: calls the Toxiproxy API; sets TP_STATUS and TP_BODY.
toxiproxy() {
  local out
  out=$(curl -sS -m 10 -X "$1" "$TOXIPROXY_URL$2" -H 'Content-Type: application/json' \
    ${3:+--data-binary "$3"} -w '\n%{http_code}' 2>&1) || true
  TP_STATUS=${out##*$'\n'}
  TP_BODY=${out%$'\n'*}
  case $TP_STATUS in
    [0-9][0-9][0-9]) ;;
    *) TP_BODY=$out TP_STATUS=000 ;;
  esac
}

remove_toxics() {
  local toxic
  for toxic in "${TOXICS[@]}"; do
    toxiproxy DELETE "/proxies/$PROXY_NAME/toxics/$toxic"
  done
}
trap remove_toxics EXIT

# through_service SHORTCUT TOPIC KEY LIMIT: POST /api/v1/test/SHORTCUT with a LIMIT-second
# time limit; sets STATUS, BODY_OUT and ELAPSED_MS.
through_service() {
  local t0
  t0=$(now_ms)
  CURL_MAX_TIME=$4 post "/api/v1/test/$1" \
    "{\"topic\":\"$(topic "$2")\",\"key\":\"$3\",\"message\":\"Test through $PROXY_NAME\"}"
  ELAPSED_MS=$(( $(now_ms) - t0 ))
}

# under_toxic NAME TYPE ATTRIBUTES SHORTCUT TOPIC LIMIT
under_toxic() {
  local name=$1 type=$2 attributes=$3 shortcut=$4 topic_name=$5 limit=$6
  title "$name ($type $attributes, downstream)"
  toxiproxy POST "/proxies/$PROXY_NAME/toxics" \
    "{\"name\":\"$name\",\"type\":\"$type\",\"stream\":\"downstream\",\"attributes\":$attributes}"
  if [ "$TP_STATUS" != 200 ]; then
    ko "add toxic $name → $TP_STATUS"
    detail "$TP_BODY"
    return 1
  fi
  ok "toxic $name added"
  through_service "$shortcut" "$topic_name" "$name-1" "$limit"
  case $STATUS in
    200)
      ok "POST /api/v1/test/$shortcut → 200 in ${ELAPSED_MS} ms (delivered despite the toxic)" ;;
    503|504)
      if printf '%s' "$BODY_OUT" | grep -q '"type":"urn:kafka-producer:problem:'; then
        ok "POST /api/v1/test/$shortcut → $STATUS in ${ELAPSED_MS} ms (a problem answer, not a hang)"
      else
        ko "POST /api/v1/test/$shortcut → $STATUS in ${ELAPSED_MS} ms without a problem body"
      fi ;;
    000)
      ko "POST /api/v1/test/$shortcut → no answer within ${limit} s" ;;
    *)
      ko "POST /api/v1/test/$shortcut → $STATUS in ${ELAPSED_MS} ms (expected 200, 503 or 504)" ;;
  esac
  detail "$BODY_OUT"
  toxiproxy DELETE "/proxies/$PROXY_NAME/toxics/$name"
  if [ "$TP_STATUS" = 204 ]; then ok "toxic $name removed"; else ko "remove toxic $name → $TP_STATUS"; fi
  recover "$topic_name" "$name"
}

# recover TOPIC WHAT: sends until one succeeds; the service may answer 503 (Retry-After: 1)
# for a moment while it notices the broker is reachable again.
recover() {
  local attempt t0
  t0=$(now_ms)
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    through_service idempotent "$1" "after-$2-$attempt" 10
    [ "$STATUS" = 200 ] && break
    sleep 1
  done
  expect "sending again after $2 was removed: attempt $attempt, $(( $(now_ms) - t0 )) ms" 200
}

title "Toxiproxy at $TOXIPROXY_URL, service at $BASE_URL"
toxiproxy GET /version
if [ "$TP_STATUS" != 200 ]; then
  ko "Toxiproxy API → $TP_STATUS"
  detail "$TP_BODY"
  summary "test-toxiproxy"
  exit 1
fi
ok "Toxiproxy answers: $(printf '%s' "$TP_BODY" | tr -d '\n')"

toxiproxy GET "/proxies/$PROXY_NAME"
if [ "$TP_STATUS" = 404 ]; then
  toxiproxy POST /proxies \
    "{\"name\":\"$PROXY_NAME\",\"listen\":\"$PROXY_LISTEN\",\"upstream\":\"$PROXY_UPSTREAM\",\"enabled\":true}"
  if [ "$TP_STATUS" = 201 ]; then ok "proxy $PROXY_NAME created: $PROXY_LISTEN → $PROXY_UPSTREAM"; else ko "create proxy $PROXY_NAME → $TP_STATUS"; detail "$TP_BODY"; fi
elif [ "$TP_STATUS" = 200 ]; then
  ok "proxy $PROXY_NAME exists"
  detail "$TP_BODY"
else
  ko "proxy $PROXY_NAME → $TP_STATUS"
  detail "$TP_BODY"
fi
remove_toxics

title "Before any toxic (this also creates the topics)"
for topic_name in latency-test timeout-test bandwidth-test; do
  through_service idempotent "$topic_name" baseline-1 10
  expect "POST /api/v1/test/idempotent to $(topic "$topic_name") (${ELAPSED_MS} ms)" 200
done

under_toxic latency_5s latency '{"latency":5000,"jitter":500}' idempotent latency-test 10
under_toxic timeout_2s timeout '{"timeout":2000}' plain timeout-test 10
under_toxic bandwidth_1kb bandwidth '{"rate":1}' plain bandwidth-test 30

title "Clean-up"
toxiproxy GET "/proxies/$PROXY_NAME/toxics"
if [ "$TP_STATUS" = 200 ] && [ "$(printf '%s' "$TP_BODY" | tr -d ' \n')" = "[]" ]; then
  ok "no toxic left on $PROXY_NAME"
else
  ko "toxics left on $PROXY_NAME → $TP_STATUS"
  detail "$TP_BODY"
fi

summary "test-toxiproxy"
