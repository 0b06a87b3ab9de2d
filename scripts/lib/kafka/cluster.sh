# shellcheck shell=bash
# scripts/lib/kafka/cluster.sh — a cluster: N nodes named NAME-1..NAME-N, each a broker like
# the single one (same state dirs, so stop/status/logs/kill --name NAME-I work on a node).

cluster_nodes() { # NAME -> node state dir names, in order
    local d
    while IFS= read -r d; do
        d=$(basename "$d")
        [[ $d =~ ^$1-[0-9]+$ ]] && printf '%s\n' "$d"
    done < <(all_state_dirs) | sort -t- -k2 -n
    return 0
}

# `cluster SUB`, once its options are checked: N nodes, the first on BASE_PORT.
# CLUSTER_PROXIED: "PROXIED_PORT ADVERTISED_PORT" of node 1 (--proxied-port), or empty.
CLUSTER_PROXIED=""

cluster_cmd() { # SUB NAME N BASE_PORT
    local sub=$1 name=$2 nodes=$3 base=$4 node proxied advertise
    case $sub in
        start)
            check_topic_defaults
            local t0 i cluster_file proxied_file
            t0=$(now_ms)
            cluster_file="$RUN_ROOT/$name.cluster.id"
            mkdir -p "$RUN_ROOT"
            [[ -s $cluster_file ]] || new_cluster_id >"$cluster_file"
            # The proxied listeners are the cluster's: given once, kept for every later start
            # (a node stopped by a test and started again keeps its listener).
            proxied_file="$RUN_ROOT/$name.cluster.proxied"
            if [[ -z $CLUSTER_PROXIED && -s $proxied_file ]]; then
                CLUSTER_PROXIED="$(cat "$proxied_file")"
                [[ $CLUSTER_PROXIED =~ ^[0-9]+\ [0-9]+$ ]] \
                    || die "$proxied_file should hold two port numbers; remove it or start with --proxied-port"
            fi
            # shellcheck disable=SC2034 # read by launch_broker (start.sh)
            B_CLUSTER_ID="$(cat "$cluster_file")"
            local -a names=() ports=() pids=() ats=()
            # Launch every node first: none answers before a quorum of controllers is up.
            for (( i = 1; i <= nodes; i++ )); do
                broker_config_node "$name" "$i" "$nodes" "$base"
                if [[ -n $CLUSTER_PROXIED ]]; then
                    read -r proxied advertise <<<"$CLUSTER_PROXIED"
                    # shellcheck disable=SC2034 # read by add_proxied_listener (broker.sh)
                    B_PROXIED_PORT=$(( proxied + i - 1 ))
                    # shellcheck disable=SC2034 # read by add_proxied_listener (broker.sh)
                    B_PROXIED_ADVERTISE="$HOST:$(( advertise + i - 1 ))"
                    add_proxied_listener
                fi
                launch_broker
                names+=("$B_NAME"); ports+=("$B_PORT"); pids+=("$LAUNCHED_PID"); ats+=("$LAUNCHED_AT")
            done
            # Kept once every node is launched: a start that failed leaves the old choice.
            if [[ -n $CLUSTER_PROXIED ]]; then
                printf '%s\n' "$CLUSTER_PROXIED" >"$proxied_file"
            fi
            for (( i = 0; i < nodes; i++ )); do
                await_broker "${names[i]}" "${ports[i]}" "${pids[i]}" "${ats[i]}" "$t0"
            done
            say "cluster '$name' ready: $(cluster_bootstrap "$nodes" "$base")"
            ;;
        stop|wipe)
            while IFS= read -r node; do
                if [[ $sub == stop ]]; then stop_dir "$(state_dir "$node")"; else wipe_dir "$(state_dir "$node")"; fi
            done < <(cluster_nodes "$name")
            [[ $sub == stop ]] || rm -f "$RUN_ROOT/$name.cluster.id" "$RUN_ROOT/$name.cluster.proxied"
            ;;
        status)
            local rc=0 any=false
            while IFS= read -r node; do
                any=true
                status_dir "$(state_dir "$node")" || rc=1
            done < <(cluster_nodes "$name")
            [[ $any == true ]] || { echo "kafka: no cluster named '$name'"; return 1; }
            return "$rc"
            ;;
        bootstrap) cluster_bootstrap "$nodes" "$base"; echo ;;
        *) die "cluster: unknown command '$sub' (start|stop|status|wipe|bootstrap)" ;;
    esac
}

cluster_bootstrap() { # N BASE_PORT
    local i out=""
    for (( i = 0; i < $1; i++ )); do out+="${out:+,}$HOST:$(( $2 + i ))"; done
    printf '%s' "$out"
}
