# shellcheck shell=bash
# scripts/lib/kafka/process.sh — broker processes: finding them, their port, whether they
# answer Kafka requests, waiting until they do.

# Is PID a broker JVM started for STATE_DIR?
pid_is_broker() { # PID STATE_DIR
    pid_alive "$1" "$(broker_cmdline "$2")"
}

# What a broker's command line for STATE_DIR contains.
broker_cmdline() { printf ' %s %s/server.properties' "$BROKER_MAIN_CLASS" "$1"; } # STATE_DIR

# Find broker JVMs by scanning /proc for our command line. Prints PIDs.
# With STATE_DIR: brokers of that dir; without: every broker under RUN_ROOT.
scan_broker_pids() { # [STATE_DIR]
    scan_pids " $BROKER_MAIN_CLASS ${1:-$RUN_ROOT/}"
}

# The first broker PID for STATE_DIR found by scan_broker_pids, or fail.
first_scanned_pid() { # STATE_DIR
    local p
    for p in $(scan_broker_pids "$1"); do
        printf '%s' "$p"
        return 0
    done
    return 1
}

# Print the PID of the running broker for STATE_DIR, or fail.
broker_pid() { # STATE_DIR
    local dir=$1 pid
    if pid="$(pidfile_pid "$dir/kafka.pid" "$(broker_cmdline "$dir")")"; then
        printf '%s' "$pid"
        return 0
    fi
    if pid="$(first_scanned_pid "$dir")"; then
        echo "$pid" >"$dir/kafka.pid"
        printf '%s' "$pid"
        return 0
    fi
    return 1
}

broker_port() { # STATE_DIR -> the PLAINTEXT port it was configured with
    local line
    line="$(grep -m1 -E '^advertised\.listeners=' "$1/server.properties" 2>/dev/null)" || return 1
    line=${line##*PLAINTEXT://}
    line=${line%%,*}
    printf '%s' "${line##*:}"
}

# A real Kafka round trip without starting a JVM: send an ApiVersions request
# (api key 18, version 3) over bash's /dev/tcp and check that the response
# carries our correlation id and error code 0 (NONE). The broker only opens
# its PLAINTEXT acceptor once it has caught up with the metadata log and been
# unfenced, so an answer here means it is serving requests.
#   request = int32 size(42) | int16 api_key(18) | int16 api_version(3)
#           | int32 correlation_id("KPRB") | int16-length client_id("kafka-producer")
#           | header tagged fields(0) | compact client_software_name("scripts-kafka")
#           | compact client_software_version("1") | body tagged fields(0)
#   response starts with: int32 size | int32 correlation_id | int16 error_code
KAFKA_API_VERSIONS_REQUEST='\x00\x00\x00\x2a\x00\x12\x00\x03KPRB\x00\x0ekafka-producer\x00\x0escripts-kafka\x021\x00'
broker_answers() { # PORT
    local head
    head="$(
        exec 2>/dev/null
        exec 3<>"/dev/tcp/$HOST/$1" || exit 1
        # shellcheck disable=SC2059 # the format string is the request bytes
        printf "$KAFKA_API_VERSIONS_REQUEST" >&3
        timeout 5 head -c 10 <&3 | od -An -v -tx1 | tr -d ' \n'
    )" || return 1
    # bytes 4-7: correlation id "KPRB" = 4b505242; bytes 8-9: error code 0
    [[ ${#head} -eq 20 && ${head:8:12} == 4b5052420000 ]]
}

# Wait until the broker for STATE_DIR serves requests: its process is alive,
# the port accepts connections, the log says "Kafka Server started" (or the
# port has been open for 15 s), and it answers a Kafka ApiVersions request.
wait_ready() { # STATE_DIR PORT PID DEADLINE_BASE_MS
    local dir=$1 port=$2 pid=$3 t0=$4 deadline open_since=0 now
    deadline=$(( t0 + KAFKA_READY_TIMEOUT * 1000 ))
    while :; do
        now=$(now_ms)
        if (( now > deadline )); then
            print_log_tail "$dir/kafka.log" 40
            warn "broker '$B_NAME' did not become ready within ${KAFKA_READY_TIMEOUT}s; stopping it"
            stop_dir "$dir" >&2
            die "broker '$B_NAME' failed to start (log: $dir/kafka.log)"
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            print_log_tail "$dir/kafka.log" 40
            rm -f "$dir/kafka.pid"
            die "broker '$B_NAME' exited during startup (log: $dir/kafka.log)"
        fi
        if port_open "$HOST" "$port"; then
            (( open_since > 0 )) || open_since=$now
            if grep -qF "$STARTED_LOG_LINE" "$dir/kafka.log" 2>/dev/null \
                || (( now - open_since > 15000 )); then
                if broker_answers "$port"; then
                    return 0
                fi
            fi
        fi
        sleep 0.25
    done
}

# Every state dir under RUN_ROOT, one a line.
all_state_dirs() {
    local d
    [[ -d $RUN_ROOT ]] || return 0
    for d in "$RUN_ROOT"/*/; do
        [[ -d $d ]] && printf '%s\n' "${d%/}"
    done
    return 0
}

