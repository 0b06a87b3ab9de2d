# shellcheck shell=bash
# scripts/lib/phases.sh — CI-style headings, and the wall time of each phase of a long script
# (sourced after common.sh; used by .ci/run, scripts/test, scripts/fuzz, bench/run, bench/profile).
#
#   step HEADING...         a blank line, then "==> [HH:MM:SS] HEADING" (UTC time of day)
#   phase NAME HEADING...   end the running phase, print HEADING as a step, time NAME from now
#   phase_end [STATUS]      end the running phase (STATUS: "ok" unless given)
#   phase_close EXIT_CODE   end the running phase as "ok" (0) or "failed (exit N)"
#   phase_table             the phases ended so far, in order: wall time and status; the total
#   phases_on_exit          an EXIT trap: phase_close with the exit code, then phase_table (the
#                           script's exit code is kept)

PHASE_NAMES=()
PHASE_MS=()
PHASE_STATUS=()
PHASE_CURRENT=""
PHASE_STARTED=0

step() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

phase() { # NAME HEADING...
    local name=$1
    shift
    phase_end
    step "$@"
    PHASE_CURRENT=$name
    PHASE_STARTED=$(now_ms)
}

phase_end() { # [STATUS]
    [[ -n $PHASE_CURRENT ]] || return 0
    PHASE_NAMES+=("$PHASE_CURRENT")
    PHASE_MS+=($(( $(now_ms) - PHASE_STARTED )))
    PHASE_STATUS+=("${1:-ok}")
    PHASE_CURRENT=""
}

phase_close() { # EXIT_CODE
    if (( $1 == 0 )); then
        phase_end
    else
        phase_end "failed (exit $1)"
    fi
}

# "  612.3 s  10:12" : seconds, then minutes:seconds.
phase_time() { # MS
    local s=$(( $1 / 1000 ))
    printf '%7s s  %3d:%02d' "$(format_ms "$1")" $(( s / 60 )) $(( s % 60 ))
}

phase_table() {
    local i width=5 total=0
    (( ${#PHASE_NAMES[@]} )) || return 0
    for i in "${!PHASE_NAMES[@]}"; do
        (( ${#PHASE_NAMES[i]} <= width )) || width=${#PHASE_NAMES[i]}
        total=$(( total + PHASE_MS[i] ))
    done
    step "phase times (wall clock)"
    for i in "${!PHASE_NAMES[@]}"; do
        printf '    %-*s  %s  %s\n' "$width" "${PHASE_NAMES[i]}" "$(phase_time "${PHASE_MS[i]}")" "${PHASE_STATUS[i]}"
    done
    printf '    %-*s  %s\n' "$width" "total" "$(phase_time "$total")"
}

phases_on_exit() {
    local rc=$?
    phase_close "$rc"
    phase_table
    return "$rc"
}
