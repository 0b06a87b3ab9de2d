# shellcheck shell=bash
# scripts/lib/common.sh — helpers shared by this repository's scripts (sourced, not run):
# messages, checks of names and ports, time, state dirs, mkdir locks, processes, log tails.
# A script sources it from its own location:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Read by the helpers (set them in the script):
#   LOG_PREFIX  the word before each message (default: the script's file name)
#   SAY_FD      where `say` writes: 1 (stdout, the default) or 2 (stderr, for scripts whose
#               stdout carries only results)
#   RUN_ROOT    the folder of per-instance state dirs (state_dir)

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------
say() { printf '%s: %s\n' "${LOG_PREFIX:-${0##*/}}" "$*" >&"${SAY_FD:-1}"; }
warn() { printf '%s: %s\n' "${LOG_PREFIX:-${0##*/}}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${LOG_PREFIX:-${0##*/}}" "$*" >&2; exit 1; }
# An indented line under a step heading.
note() { printf '    %s\n' "$*"; }

# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
need_cmd() { have "$1" || die "'$1' not found on PATH ($2)"; } # CMD WHY

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
# 1..65535, leading zeros allowed (read as decimal, not octal).
valid_port() { is_uint "$1" && (( 10#$1 >= 1 && 10#$1 <= 65535 )); }
valid_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; }

# True if something accepts TCP connections on HOST PORT (bash's /dev/tcp).
port_open() { # HOST PORT
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# A YAML single-quoted scalar.
yaml_str() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------
# Milliseconds since the epoch.
now_ms() { date +%s%3N; }
format_ms() { printf '%d.%d' $(( $1 / 1000 )) $(( ($1 % 1000) / 100 )); } # MS -> "12.3"
elapsed_since() { format_ms $(( $(now_ms) - $1 )); }                     # START_MS -> "12.3"

# ---------------------------------------------------------------------------
# State dirs and locks
# ---------------------------------------------------------------------------
state_dir() { printf '%s/%s' "$RUN_ROOT" "$1"; }

# mkdir locks (e.g. one per install, one per instance started). A lock whose owner died is
# broken; held locks are released when the script exits (acquire_lock sets the EXIT trap to
# release_locks).
HELD_LOCKS=()
acquire_lock() { # LOCK_DIR WHAT
    local lock=$1 what=$2 waited=0 owner
    mkdir -p "$(dirname "$lock")"
    until mkdir "$lock" 2>/dev/null; do
        owner="$(cat "$lock/pid" 2>/dev/null || true)"
        if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
            rm -rf "$lock"
            continue
        fi
        if (( waited % 10 == 0 )); then
            say "waiting for another $what (pid ${owner:-?}) to finish…"
        fi
        sleep 1
        waited=$(( waited + 1 ))
        (( waited < 900 )) || die "timed out waiting for lock $lock"
    done
    echo $$ >"$lock/pid"
    HELD_LOCKS+=("$lock")
    trap release_locks EXIT
}
release_lock() { # LOCK_DIR
    local lock keep=()
    rm -rf "$1"
    for lock in ${HELD_LOCKS[@]+"${HELD_LOCKS[@]}"}; do
        [[ $lock == "$1" ]] || keep+=("$lock")
    done
    HELD_LOCKS=(${keep[@]+"${keep[@]}"})
}
release_locks() {
    local lock
    for lock in ${HELD_LOCKS[@]+"${HELD_LOCKS[@]}"}; do
        rm -rf "$lock"
    done
    HELD_LOCKS=()
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
# Is PID a live process (not a zombie: its command line is empty) whose command line, NULs
# read as spaces, contains TEXT (if given)?
pid_alive() { # PID [TEXT]
    local pid=$1 cmdline
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
    [[ -n $cmdline && $cmdline == *"${2:-}"* ]]
}

# The PID in PID_FILE, if that process is alive and its command line contains TEXT; fails
# otherwise.
pidfile_pid() { # PID_FILE TEXT
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 1
    pid_alive "$pid" "$2" || return 1
    printf '%s' "$pid"
}

# Prints the PIDs of the processes whose command line contains TEXT.
scan_pids() { # TEXT
    local f pid cmdline
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        cmdline="$(tr '\0' ' ' 2>/dev/null <"$f")" || continue
        [[ $cmdline == *"$1"* ]] && printf '%s\n' "$pid"
    done
    return 0
}

# SIGTERM, wait up to SECONDS, then SIGKILL and wait until it is gone. With TEXT, the process
# counts as gone once its command line no longer contains TEXT (its PID was reused). Fails if
# SIGKILL was needed.
terminate_pid() { # PID SECONDS [TEXT]
    local pid=$1 waited=0 limit=$(( $2 * 10 )) text=${3:-}
    kill -TERM "$pid" 2>/dev/null || return 0
    while pid_alive "$pid" "$text" && (( waited < limit )); do
        sleep 0.1
        waited=$(( waited + 1 ))
    done
    pid_alive "$pid" "$text" || return 0
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid" "$text"; do sleep 0.1; done
    return 1
}

# The last N (default 40) lines of a log file, framed, on stderr.
print_log_tail() { # FILE [N]
    local n=${2:-40}
    if [[ -f $1 ]]; then
        echo "----- last $n lines of $1 -----" >&2
        tail -n "$n" "$1" >&2
        echo "-----" >&2
    else
        warn "no log file at $1"
    fi
}
