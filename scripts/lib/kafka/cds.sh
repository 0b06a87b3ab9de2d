# shellcheck shell=bash
# scripts/lib/kafka/cds.sh — class-data sharing (AppCDS) for the broker JVM (KAFKA_CDS).
#
# One archive per install and Java runtime. Without it, a start asks the JVM to
# dump one into the state dir at exit (-XX:ArchiveClassesAtExit); a clean `stop`
# then moves it into place. A JVM that cannot use an archive just runs without.
cds_archive_path() {
    local jv
    jv="$("$JAVA" -version 2>&1 | cksum | cut -d' ' -f1)"
    printf '%s/cds/broker-java%s.jsa' "$KAFKA_HOME" "$jv"
}

CDS_OPTS=()
# shellcheck disable=SC2034 # CDS_OPTS is read by launch_broker (start.sh)
cds_opts() { # STATE_DIR -> sets CDS_OPTS
    local dir=$1 archive d
    CDS_OPTS=()
    rm -f "$dir/cds.jsa.tmp" "$dir/cds.pending"
    [[ $KAFKA_CDS == true || $KAFKA_CDS == use ]] || return 0
    archive="$(cds_archive_path)"
    if [[ -s $archive ]]; then
        # -Xlog: an archive that does not fit (other jars) is skipped quietly.
        CDS_OPTS=("-XX:SharedArchiveFile=$archive" "-Xlog:cds*=error")
        return 0
    fi
    [[ $KAFKA_CDS == true ]] || return 0
    # One dumping broker at a time is enough.
    while IFS= read -r d; do
        if [[ $d != "$dir" && -f $d/cds.pending ]] && broker_pid "$d" >/dev/null; then
            return 0
        fi
    done < <(all_state_dirs)
    printf '%s\n' "$archive" >"$dir/cds.pending"
    # -Xlog: the dump warns about every class it cannot archive (hundreds).
    CDS_OPTS=("-XX:ArchiveClassesAtExit=$dir/cds.jsa.tmp" "-Xlog:cds*=error")
}

cds_promote() { # STATE_DIR — after a clean exit, keep the dumped archive
    local dir=$1 archive
    [[ -f $dir/cds.pending ]] || return 0
    archive="$(cat "$dir/cds.pending")"
    if [[ -s $dir/cds.jsa.tmp && ! -s $archive ]]; then
        mkdir -p "$(dirname "$archive")"
        mv -f "$dir/cds.jsa.tmp" "$archive.tmp.$$"
        mv -f "$archive.tmp.$$" "$archive"
    fi
    rm -f "$dir/cds.jsa.tmp" "$dir/cds.pending"
}
