# shellcheck shell=bash
# scripts/lib/kafka/install.sh — `scripts/kafka install`: Apache Kafka's jars from Maven Central,
# fetched once with a throwaway pom (../maven.sh) into $LIBS_DIR.

is_installed() { [[ -f $INSTALL_MARKER && -d $LIBS_DIR ]]; }

# The pom's dependencies: the broker, the command-line tools and the log4j2 binding.
kafka_pom_dependencies() {
    cat <<EOF
    <!-- The broker (kafka.Kafka) and the storage tool (kafka.tools.StorageTool). -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$KAFKA_SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- Command-line tools (org.apache.kafka.tools.TopicCommand, ...). Kafka
         Connect is only needed by connect-plugin-path, so it is left out. -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion>
          <groupId>org.apache.kafka</groupId>
          <artifactId>connect-runtime</artifactId>
        </exclusion>
        <exclusion>
          <groupId>com.fasterxml.jackson.jakarta.rs</groupId>
          <artifactId>jackson-jakarta-rs-json-provider</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <!-- SLF4J 1.x -> log4j2 binding (log4j-core itself comes with kafka-server). -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
EOF
}

install_kafka() { # [quiet]
    if is_installed; then
        [[ ${1:-} == quiet ]] || say "Apache Kafka $KAFKA_VERSION already installed in $LIBS_DIR"
        return 0
    fi
    need_cmd "$JAVA" "install a Java 17+ runtime"
    need_cmd "$MVN" "install Maven; it is used once to fetch the Kafka jars"
    local lock="$KAFKA_HOME/.install.lock"
    acquire_lock "$lock" "install of Kafka $KAFKA_VERSION"
    if is_installed; then # someone else finished while we waited
        release_lock "$lock"
        return 0
    fi

    local t0 work mvn_log
    t0=$(now_ms)
    say "downloading Apache Kafka $KAFKA_VERSION jars from Maven Central…"
    work="$(mktemp -d "$KAFKA_HOME/.download.XXXXXX")"
    mvn_log="$work/mvn.log"
    write_install_pom "$work/pom.xml" "$PROG" kafka-runtime "$KAFKA_VERSION" "$(kafka_pom_dependencies)"$'\n'
    if ! maven_fetch_jars "$work/pom.xml" "$work/libs" "$mvn_log" "$KAFKA_MVN_OPTS"; then
        tail -n 40 "$mvn_log" >&2 || true
        rm -rf "$work"
        die "mvn failed to fetch Apache Kafka $KAFKA_VERSION (see output above)"
    fi
    require_jars "$work" "kafka_$KAFKA_SCALA_VERSION-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" \
        "kafka-clients-$KAFKA_VERSION.jar" "log4j-core-$KAFKA_LOG4J_VERSION.jar" \
        "log4j-slf4j-impl-$KAFKA_LOG4J_VERSION.jar"
    rm -rf "$LIBS_DIR" "$INSTALL_MARKER" "$KAFKA_HOME/cds"
    mv "$work/libs" "$LIBS_DIR"
    rm -rf "$work"
    local n size
    n=$(find "$LIBS_DIR" -name '*.jar' | wc -l)
    size=$(du -sh "$LIBS_DIR" | cut -f1)
    write_install_marker "$INSTALL_MARKER" "$LIBS_DIR" "kafka_version=$KAFKA_VERSION"
    release_lock "$lock"
    say "installed $n jars ($size) in $LIBS_DIR in $(elapsed_since "$t0")s"
}
