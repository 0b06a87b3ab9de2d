# shellcheck shell=bash
# scripts/lib/kafka/topics.sh — Kafka's topic tool against a running broker, its bootstrap
# address and its log (the commands topics, bootstrap and logs, for broker B_NAME).

# The running broker's state dir and port for NAME, or die.
require_running() {
    local dir
    dir="$(state_dir "$B_NAME")"
    [[ -f $dir/server.properties ]] || die "no broker named '$B_NAME' (start it: $PROG start --name $B_NAME)"
    broker_pid "$dir" >/dev/null || die "broker '$B_NAME' is not running (start it: $PROG start --name $B_NAME)"
    RUN_PORT="$(broker_port "$dir")" || die "cannot read the port from $dir/server.properties"
}

# The topic tool with ARGS; --bootstrap-server is added unless given.
topics_run() { # ARGS...
    is_installed || die "Kafka is not installed (run: $PROG install)"
    require_running
    local a has_bootstrap=false
    for a in "$@"; do
        [[ $a == --bootstrap-server || $a == --bootstrap-server=* ]] && has_bootstrap=true
    done
    if [[ $has_bootstrap == true ]]; then
        run_tool "$TOPIC_TOOL_CLASS" "$@"
    else
        run_tool "$TOPIC_TOOL_CLASS" --bootstrap-server "$HOST:$RUN_PORT" "$@"
    fi
}

print_bootstrap() {
    local dir port
    dir="$(state_dir "$B_NAME")"
    port="$(broker_port "$dir")" || die "no broker named '$B_NAME'"
    printf '%s:%s\n' "$HOST" "$port"
}

print_log() { # LINES
    local dir
    dir="$(state_dir "$B_NAME")"
    [[ -f $dir/kafka.log ]] || die "no log for broker '$B_NAME' ($dir/kafka.log)"
    tail -n "$1" "$dir/kafka.log"
}
