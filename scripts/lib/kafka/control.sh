# shellcheck shell=bash
# scripts/lib/kafka/control.sh — kill, stop, status and wipe of brokers by state dir (the
# commands of the same names, and cluster and secure ones).

# SIGKILL: a crash, for failover tests. The state dir stays; `start` (or
# `cluster start`) brings the broker back with its data.
kill_broker() { # NAME
    local dir pid
    dir="$(state_dir "$1")"
    pid="$(broker_pid "$dir")" || die "broker '$1' is not running"
    kill -KILL "$pid"
    local waited=0
    while pid_is_broker "$pid" "$dir" && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
        (( waited++ < 200 )) || die "broker '$1' (pid $pid) still there 10 s after SIGKILL"
        sleep 0.05
    done
    rm -f "$dir/kafka.pid" "$dir/cds.jsa.tmp" "$dir/cds.pending"
    say "broker '$1' (pid $pid) killed with SIGKILL"
}

# SIGTERM, wait up to KAFKA_STOP_TIMEOUT seconds (longer while it writes its class-data
# archive), then SIGKILL. Fine if not running.
stop_dir() { # STATE_DIR
    local dir=$1 name pid limit
    name=$(basename "$dir")
    if ! pid="$(broker_pid "$dir")"; then
        rm -f "$dir/kafka.pid"
        say "broker '$name' is not running"
        return 0
    fi
    say "stopping broker '$name' (pid $pid)…"
    limit=$KAFKA_STOP_TIMEOUT
    if [[ -f $dir/cds.pending ]]; then
        # The JVM writes its class-data archive after Kafka has shut down.
        say "(broker '$name' is writing the class-data sharing archive for faster starts)"
        limit=$(( limit + 30 ))
    fi
    if ! terminate_pid "$pid" "$limit" "$(broker_cmdline "$dir")"; then
        warn "broker '$name' did not stop within ${limit}s; killed it (SIGKILL)"
        rm -f "$dir/cds.jsa.tmp" "$dir/cds.pending"
    fi
    rm -f "$dir/kafka.pid"
    cds_promote "$dir"
    say "broker '$name' stopped"
}

# `stop --all`: every broker with a state dir, then brokers whose state dir is gone.
stop_all_brokers() {
    local d pid any=false
    while IFS= read -r d; do
        any=true
        stop_dir "$d"
    done < <(all_state_dirs)
    # Brokers whose state dir is gone (e.g. deleted by hand).
    while IFS= read -r pid; do
        [[ -n $pid ]] || continue
        any=true
        warn "stopping stray broker pid $pid (its state dir is gone)"
        terminate_pid "$pid" "$KAFKA_STOP_TIMEOUT" || warn "killed stray broker pid $pid (SIGKILL)"
    done < <(scan_broker_pids)
    [[ $any == true ]] || say "no brokers"
    return 0
}

status_dir() { # STATE_DIR -> 0 if running and answering Kafka requests
    local dir=$1 name pid port
    name=$(basename "$dir")
    port="$(broker_port "$dir" 2>/dev/null || true)"
    if pid="$(broker_pid "$dir")"; then
        if [[ -n $port ]] && broker_answers "$port"; then
            echo "kafka: broker '$name' is running (pid $pid) on $HOST:$port"
            return 0
        fi
        echo "kafka: broker '$name' is starting or unhealthy (pid $pid): not answering on $HOST:${port:-?} yet"
        return 1
    fi
    echo "kafka: broker '$name' is not running"
    return 1
}

# `status --all`: 0 if there are brokers and every one is running and answering.
status_all_brokers() {
    local d rc=0 any=false
    while IFS= read -r d; do
        any=true
        status_dir "$d" || rc=1
    done < <(all_state_dirs)
    [[ $any == true ]] || { echo "kafka: no brokers"; return 1; }
    return "$rc"
}

# Stop the broker and delete its state dir (topics, data, logs).
wipe_dir() { # STATE_DIR
    local d=$1
    [[ -d $d ]] || { say "nothing to wipe for '$(basename "$d")'"; return 0; }
    stop_dir "$d"
    rm -rf -- "$d"
    say "wiped $d"
}
