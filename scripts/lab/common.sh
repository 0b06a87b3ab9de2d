# shellcheck shell=bash source-path=SCRIPTDIR
# Shared by the lab scripts (sourced, not run): settings, output helpers, one POST. The helpers
# shared with the other scripts (now_ms, ...) come from scripts/lib/common.sh.
#
#   BASE_URL      the service (default http://localhost:18081, the workshop's port)
#   TOPIC_PREFIX  prepended to every topic name, e.g. "run42-" (default: none)
#   CURL_MAX_TIME seconds one request may take (default 30)

BASE_URL="${BASE_URL:-http://localhost:18081}"
BASE_URL="${BASE_URL%/}"
TOPIC_PREFIX="${TOPIC_PREFIX:-}"
CURL_MAX_TIME="${CURL_MAX_TIME:-30}"

# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PASSED=0
FAILED=0

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  C_OK=$'\033[32m' C_KO=$'\033[31m' C_DIM=$'\033[2m' C_END=$'\033[0m'
else
  C_OK='' C_KO='' C_DIM='' C_END=''
fi

title() { printf '\n== %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '%s✓%s %s\n' "$C_OK" "$C_END" "$*"; }
ko() { FAILED=$((FAILED + 1)); printf '%s✗%s %s\n' "$C_KO" "$C_END" "$*"; }
detail() { printf '  %s%s%s\n' "$C_DIM" "$*" "$C_END"; }

# topic NAME: the topic with TOPIC_PREFIX applied.
topic() { printf '%s%s' "$TOPIC_PREFIX" "$1"; }

# json_escape TEXT: TEXT as the inside of a JSON string.
json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s"
}

# post PATH BODY: POSTs BODY as JSON; sets STATUS (000 when no answer) and BODY_OUT.
post() {
  local out
  out=$(curl -sS -m "$CURL_MAX_TIME" -X POST "$BASE_URL$1" \
    -H 'Content-Type: application/json' --data-binary "$2" \
    -w '\n%{http_code}' 2>&1) || true
  STATUS=${out##*$'\n'}
  BODY_OUT=${out%$'\n'*}
  BODY_OUT=${BODY_OUT%$'\n'}
  case $STATUS in
    [0-9][0-9][0-9]) ;;
    *) BODY_OUT=$out STATUS=000 ;;
  esac
}

# get PATH: sets STATUS and BODY_OUT.
get() {
  local out
  out=$(curl -sS -m "$CURL_MAX_TIME" "$BASE_URL$1" -w '\n%{http_code}' 2>&1) || true
  STATUS=${out##*$'\n'}
  BODY_OUT=${out%$'\n'*}
  BODY_OUT=${BODY_OUT%$'\n'}
  case $STATUS in
    [0-9][0-9][0-9]) ;;
    *) BODY_OUT=$out STATUS=000 ;;
  esac
}

# expect WHAT WANTED...: ✓ when STATUS is one of WANTED, ✗ otherwise (with the body).
expect() {
  local what=$1 want
  shift
  for want in "$@"; do
    if [ "$STATUS" = "$want" ]; then
      ok "$what → $STATUS"
      detail "$BODY_OUT"
      return 0
    fi
  done
  ko "$what → $STATUS (expected $*)"
  detail "$BODY_OUT"
  return 1
}

# summary NAME: prints the counts; returns non-zero when anything failed.
summary() {
  printf '\n%s: %d passed, %d failed\n' "$1" "$PASSED" "$FAILED"
  [ "$FAILED" -eq 0 ]
}
