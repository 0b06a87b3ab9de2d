# shellcheck shell=bash
# scripts/lib/kafka/java.sh — running Kafka's command-line tools (storage format, topics) in a
# short-lived JVM.

tool_log4j_config() {
    local f="$KAFKA_HOME/config/tools-log4j2.xml"
    mkdir -p "$KAFKA_HOME/config"
    cat >"$f.tmp.$$" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- log4j2 config for Kafka command-line tools run by scripts/kafka -->
<Configuration status="WARN" name="kafka-tools">
  <Appenders>
    <Console name="STDERR" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN">
      <AppenderRef ref="STDERR"/>
    </Root>
  </Loggers>
</Configuration>
EOF
    mv -f "$f.tmp.$$" "$f"
    printf '%s' "$f"
}

# tool_cmd CLASS ARGS... — sets TOOL_CMD to the java command line for a Kafka
# CLI class (an array, so that it can also be run under `timeout`).
TOOL_CMD=()
tool_cmd() {
    local class=$1 log4j
    shift
    log4j="$(tool_log4j_config)"
    local -a jvm_opts
    read -r -a jvm_opts <<<"$KAFKA_TOOL_JVM_OPTS"
    TOOL_CMD=("$JAVA" "${jvm_opts[@]}" "-Dlog4j2.configurationFile=$log4j"
        -cp "$LIBS_DIR/*" "$class" "$@")
}

# run_tool CLASS ARGS... — run a Kafka CLI class in the foreground.
run_tool() {
    tool_cmd "$@"
    "${TOOL_CMD[@]}"
}
