# shellcheck shell=bash
# shellcheck disable=SC2034 # these are read by the other sections of scripts/kafka
# scripts/lib/kafka/settings.sh — scripts/kafka's versions, places and JVM settings (all
# overridable from the environment) and its constants. Sourced first, after ../common.sh.

LOG_PREFIX="kafka"   # messages: "kafka: ..." (say on stdout; warn and die on stderr)
PROG="scripts/kafka"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_SCALA_VERSION="${KAFKA_SCALA_VERSION:-2.13}"
# log4j-core/log4j-api come with kafka-server; the SLF4J binding does not, and
# must match them. Kafka 4.1 uses slf4j-api 1.7.x, hence log4j-slf4j-impl (the
# binding for SLF4J 1.x), not log4j-slf4j2-impl.
KAFKA_LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.24.3}"

# Not a KAFKA_* name: the service reads every KAFKA_* variable as a librdkafka property.
KP_CACHE="${KP_CACHE:-$HOME/.cache/kafka-producer}"
KAFKA_HOME="$KP_CACHE/kafka-$KAFKA_VERSION"
LIBS_DIR="$KAFKA_HOME/libs"
INSTALL_MARKER="$KAFKA_HOME/.install-complete"
RUN_ROOT="$KP_CACHE/run"

JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"
# Extra arguments for mvn, word-split (e.g. "-Dmaven.repo.local=/tmp/m2").
KAFKA_MVN_OPTS="${KAFKA_MVN_OPTS:-}"

# The broker JVM: small heap, G1 with Kafka's usual low-pause settings.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"
# Short-lived tool JVMs (storage format, topics, readiness probe): start fast.
KAFKA_TOOL_JVM_OPTS="${KAFKA_TOOL_JVM_OPTS:--Xmx256m -Xms32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true}"

KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"   # seconds `start` waits for the broker
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"     # seconds `stop` waits before SIGKILL
# Class-data sharing (AppCDS): with "true", a broker started while there is no
# archive dumps the classes it loaded when it is stopped cleanly (that stop
# takes ~7 s longer, once), and later starts map the archive, which cuts
# broker startup from ~10 s to ~7 s on this 2-core machine. "use" only maps an
# existing archive (the default under CI=true, whose machines are thrown
# away); "false" turns it off.
if [[ ${CI:-} == true ]]; then
    KAFKA_CDS="${KAFKA_CDS:-use}"
else
    KAFKA_CDS="${KAFKA_CDS:-true}"
fi

HOST="127.0.0.1"
STORAGE_TOOL_CLASS="kafka.tools.StorageTool"               # in kafka_2.13
TOPIC_TOOL_CLASS="org.apache.kafka.tools.TopicCommand"     # in kafka-tools
BROKER_MAIN_CLASS="kafka.Kafka"
STARTED_LOG_LINE="Kafka Server started"                    # KafkaRaftServer, at INFO
