# shellcheck shell=bash
# scripts/lib/kafka/start.sh — starting brokers: `scripts/kafka start` (one broker), and the
# launch and wait that cluster and secure starts use too.

# `start`, once its options are checked: the single broker the B_* variables describe.
start_single() {
    broker_config_single

    local t0
    t0=$(now_ms)
    launch_broker
    await_broker "$B_NAME" "$B_PORT" "$LAUNCHED_PID" "$LAUNCHED_AT" "$t0"
}

# Starts the broker that the B_* variables describe, unless it runs already
# (with the same settings), and returns without waiting for it. Sets
# LAUNCHED_PID and LAUNCHED_AT (ms; the readiness deadline counts from there).
LAUNCHED_PID=""
LAUNCHED_AT=""
launch_broker() {
    local dir props pid
    dir="$(state_dir "$B_NAME")"
    acquire_lock "$RUN_ROOT/.start-$B_NAME.lock" "start of broker '$B_NAME'"
    # Its passwords are in server.properties, which the check below compares.
    [[ $B_SECURE != true ]] || secure_config "$dir"

    if pid="$(broker_pid "$dir")"; then
        props="$(render_server_properties "$dir")"
        if [[ $props != "$(cat "$dir/server.properties" 2>/dev/null)" ]]; then
            die "broker '$B_NAME' is already running (pid $pid) with different settings ($dir/server.properties); stop it first: $PROG stop --name $B_NAME"
        fi
        LAUNCHED_PID=$pid
        LAUNCHED_AT=$(now_ms)
        return 0
    fi

    local p
    for p in "$B_PORT" "$B_CPORT" ${B_PROXIED_PORT:+"$B_PROXIED_PORT"} ${B_EXTRA_PORTS[@]+"${B_EXTRA_PORTS[@]}"}; do
        if port_open "$HOST" "$p"; then
            die "port $p is already in use by another process; pick another --port/--controller-port/--proxied-port"
        fi
    done

    install_kafka quiet
    need_cmd "$JAVA" "install a Java 17+ runtime"

    mkdir -p "$dir/data"
    rm -f "$dir/kafka.pid"
    [[ $B_SECURE != true ]] || secure_materials "$dir"
    render_server_properties "$dir" >"$dir/server.properties"
    write_broker_log4j_config "$dir/log4j2.xml"
    printf '%s:%s\n' "$HOST" "$B_PORT" >"$dir/bootstrap"

    if [[ ! -f $dir/data/meta.properties ]]; then
        local cluster_id
        if [[ -n $B_CLUSTER_ID ]]; then
            cluster_id=$B_CLUSTER_ID
            echo "$cluster_id" >"$dir/cluster.id"
        elif [[ -s $dir/cluster.id ]]; then
            cluster_id="$(cat "$dir/cluster.id")"
        else
            cluster_id="$(new_cluster_id)"
            echo "$cluster_id" >"$dir/cluster.id"
        fi
        say "formatting KRaft storage for '$B_NAME' (cluster id $cluster_id)…"
        if ! run_tool "$STORAGE_TOOL_CLASS" format --ignore-formatted \
            --cluster-id "$cluster_id" --config "$dir/server.properties" \
            ${B_FORMAT_ARGS[@]+"${B_FORMAT_ARGS[@]}"} >"$dir/format.log" 2>&1; then
            cat "$dir/format.log" >&2
            die "formatting storage in $dir/data failed"
        fi
    else
        say "reusing existing storage in $dir/data"
    fi

    if [[ -f $dir/kafka.log ]]; then
        mv -f "$dir/kafka.log" "$dir/kafka.log.prev"
    fi
    local launched
    local -a heap perf cds launcher=()
    read -r -a heap <<<"$KAFKA_HEAP_OPTS"
    read -r -a perf <<<"$KAFKA_JVM_PERFORMANCE_OPTS"
    cds_opts "$dir"
    cds=(${CDS_OPTS[@]+"${CDS_OPTS[@]}"})
    # Detach from the caller's session (if setsid exists) so that the broker
    # outlives the shell/CI step that started it; nohup ignores SIGHUP.
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    say "starting broker '$B_NAME' on $HOST:$B_PORT (controller $HOST:$B_CPORT${B_PROXIED_PORT:+, proxied listener $HOST:$B_PROXIED_PORT advertised as $B_PROXIED_ADVERTISE}$B_EXTRA_DESC, auto-create $B_AUTO_CREATE, partitions $B_PARTITIONS, replication $B_REPLICATION_FACTOR)…"
    launched=$(now_ms)
    nohup ${launcher[@]+"${launcher[@]}"} "$JAVA" "${heap[@]}" "${perf[@]}" ${cds[@]+"${cds[@]}"} \
        "-Dlog4j2.configurationFile=$dir/log4j2.xml" \
        "-Dkafka.logs.dir=$dir" \
        -cp "$LIBS_DIR/*" \
        "$BROKER_MAIN_CLASS" "$dir/server.properties" \
        >"$dir/kafka.log" 2>&1 </dev/null &
    pid=$!
    # setsid may fork (if it was a process-group leader); then find the JVM.
    if ! pid_is_broker "$pid" "$dir"; then
        sleep 0.2
        pid="$(first_scanned_pid "$dir")" || { print_log_tail "$dir/kafka.log" 40; die "broker '$B_NAME' failed to launch"; }
    fi
    echo "$pid" >"$dir/kafka.pid"
    LAUNCHED_PID=$pid
    LAUNCHED_AT=$launched
}

# Waits until a broker started by launch_broker answers Kafka requests.
await_broker() { # NAME PORT PID LAUNCHED_AT_MS STARTED_MS
    local name=$1 port=$2 pid=$3 launched=$4 t0=$5 dir
    dir="$(state_dir "$name")"
    if broker_answers "$port"; then
        say "broker '$name' is running (pid $pid) on $HOST:$port"
        return 0
    fi
    B_NAME=$name
    wait_ready "$dir" "$port" "$pid" "$launched"
    say "broker '$name' ready on $HOST:$port (pid $pid) after $(elapsed_since "$t0")s"
}
