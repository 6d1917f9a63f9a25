# shellcheck shell=bash
# Kafka (Maven Central jars) as one combined broker+controller KRaft node on Java 17.
# Storage is formatted once (fixed cluster id); the log dir survives restarts.

KAFKA_CLUSTER_ID=a2xhZ2ctbG9jYWwtMDAx # fixed so a restart reuses the formatted log dir

kafka_procs() { echo kafka; }
kafka_ports() { echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"; }
kafka_version() { echo "$KAFKA_VERSION"; }
kafka_install() {
  deb_install maven openjdk-17-jre-headless
  install_kafka
}

kafka_config() {
  local dir=$1
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  cat >"$dir/log4j2.properties" <<PROPS
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
PROPS
}

# kafka_cmd MAIN ARGS...: sets KAFKA_CMD to the java command line running MAIN from the cached jars.
kafka_cmd() {
  local dir="$RUN_DIR/kafka" libs="$KLAGG_CACHE/tools/kafka-$KAFKA_VERSION/libs"
  KAFKA_CMD=(java -Xms128m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$dir/log4j2.properties" "-Dkafka.logs.dir=$LOG_DIR"
    -cp "$libs/*" "$@")
}

kafka_start() {
  local dir="$RUN_DIR/kafka"
  mkdir -p "$dir/data" "$LOG_DIR"
  kafka_config "$dir"
  if [[ ! -f $dir/data/meta.properties ]]; then
    kafka_cmd kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$dir/server.properties"
    "${KAFKA_CMD[@]}" >>"$LOG_DIR/kafka.log" 2>&1 || fail_with_log kafka "storage format failed"
  fi
  # Readiness reads only what this run appends to the log.
  KAFKA_LOG_OFFSET=$(($(stat -c %s "$LOG_DIR/kafka.log" 2>/dev/null || echo 0) + 1))
  kafka_cmd kafka.Kafka "$dir/server.properties"
  spawn kafka "${KAFKA_CMD[@]}"
}

kafka_ready_probe() {
  port_in_use "$KAFKA_PORT" && tail -c "+${KAFKA_LOG_OFFSET:-1}" "$LOG_DIR/kafka.log" | grep -q "Kafka Server started"
}
kafka_wait() { wait_ready kafka 90 kafka_ready_probe; }
kafka_stop() { stop_proc kafka 30; }
kafka_env() { echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"; }
