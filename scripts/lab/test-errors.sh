#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Module 5, test 3: the error cases, with the status each answers.
#   BASE_URL=http://localhost:18081 scripts/lab/test-errors.sh
# A topic that does not exist is created by a broker with auto-creation on (200) and answers
# 404 topic-not-found otherwise: both are accepted. Bad input must be a 400 problem.
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

title "Errors against $BASE_URL"

post /api/v1/test/plain \
  "{\"topic\":\"$(topic nonexistent-topic)\",\"key\":\"error-test\",\"message\":\"This should fail\"}"
expect "nonexistent topic (200 if the broker auto-creates topics, else 404)" 200 404

post /api/v1/send '{"topic":"no spaces allowed","key":"bad-topic","message":"x"}'
expect "invalid topic name" 400

long=$(printf 'a%.0s' $(seq 1 250))
post /api/v1/send "{\"topic\":\"$long\",\"key\":\"long-topic\",\"message\":\"x\"}"
expect "topic name over 249 characters" 400

post /api/v1/send "{\"topic\":\"$(topic errors)\",\"key\":\"truncated\",\"message\":"
expect "malformed JSON (truncated)" 400

post /api/v1/send "{\"topic\":\"$(topic errors)\",\"key\":\"wrong-type\",\"message\":\"x\",\"isAsync\":\"yes\"}"
expect "wrong type (isAsync as a string)" 400

post /api/v1/send "{\"topic\":\"$(topic errors)\",\"key\":\"reserved\",\"message\":\"x\",\"headers\":{\"producer-mode\":\"x\"}}"
expect "reserved header name" 400

post /api/v1/send "{\"topic\":\"$(topic errors)\",\"key\":\"negative\",\"message\":\"x\",\"partition\":-1}"
expect "negative partition" 400

summary "test-errors"
