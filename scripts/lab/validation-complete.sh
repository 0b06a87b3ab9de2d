#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The workshop's validation-complete.sh: health and status checks, then the reliability, load and
# error scripts, then test-toxiproxy.sh when TOXIPROXY_URL is set. Exits non-zero if any failed.
#   BASE_URL=http://localhost:18081 [TOXIPROXY_URL=http://localhost:8474] scripts/lab/validation-complete.sh
set -uo pipefail
here=$(dirname "$0")
# shellcheck source=common.sh
. "$here/common.sh"

title "Complete validation of $BASE_URL"

get /health
expect "GET /health (liveness)" 200

get /health/ready
expect "GET /health/ready (the cluster answers)" 200

get /api/v1/status
if expect "GET /api/v1/status" 200; then
  for mode in plain idempotent; do
    if printf '%s' "$BODY_OUT" | grep -q "\"$mode\""; then
      ok "status lists the $mode mode"
    else
      ko "status does not list the $mode mode"
    fi
  done
fi

scripts=(test-reliability.sh test-load.sh test-errors.sh)
if [ -n "${TOXIPROXY_URL:-}" ]; then
  scripts+=(test-toxiproxy.sh)
else
  detail "TOXIPROXY_URL not set: skipping test-toxiproxy.sh"
fi

for script in "${scripts[@]}"; do
  if [ ! -f "$here/$script" ]; then
    ko "$script: not found in $here"
  elif bash "$here/$script"; then
    ok "$script"
  else
    ko "$script (exit $?)"
  fi
done

summary "validation-complete"
