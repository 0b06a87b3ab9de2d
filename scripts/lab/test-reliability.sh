#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Module 5, test 1: one record in each of the four modes (the workshop's reliability test).
#   BASE_URL=http://localhost:18081 TOPIC_PREFIX= scripts/lab/test-reliability.sh
# Sync modes must answer 200, async modes 202 (queued) or 200.
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

title "Reliability: the four modes against $BASE_URL"

reliability=$(topic reliability-test)
performance=$(topic performance-test)

post /api/v1/test/plain \
  "{\"topic\":\"$reliability\",\"key\":\"plain-1\",\"message\":\"Plain test message 1\"}"
expect "Test 1: plain (fire & forget, acks=1), sync" 200

post /api/v1/test/idempotent \
  "{\"topic\":\"$reliability\",\"key\":\"idempotent-1\",\"message\":\"Idempotent test message 1\"}"
expect "Test 2: idempotent (acks=all, no duplicates), sync" 200

post /api/v1/test/plain-async \
  "{\"topic\":\"$performance\",\"key\":\"async-1\",\"message\":\"Async test message 1\"}"
expect "Test 3: plain, async (high throughput)" 202 200

post /api/v1/test/idempotent-async \
  "{\"topic\":\"$performance\",\"key\":\"idempotent-async-1\",\"message\":\"Idempotent async test message 1\"}"
expect "Test 4: idempotent, async" 202 200

summary "test-reliability"
