# shellcheck shell=bash
# Jaeger v2 (built from the Go module proxy): OTLP gRPC/HTTP receivers, in-memory storage, query API,
# everything on loopback and non-default ports. Traces do not survive a restart (in-memory by design).

jaeger_procs() { echo jaeger; }
jaeger_ports() {
  echo "$JAEGER_OTLP_GRPC_PORT $JAEGER_OTLP_HTTP_PORT $JAEGER_QUERY_PORT $JAEGER_QUERY_GRPC_PORT $JAEGER_ADMIN_PORT"
}
jaeger_version() { echo "$JAEGER_VERSION"; }
jaeger_install() { install_jaeger; }

jaeger_config() {
  cat >"$1" <<YAML
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:$JAEGER_ADMIN_PORT
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$JAEGER_QUERY_PORT
    grpc:
      endpoint: 127.0.0.1:$JAEGER_QUERY_GRPC_PORT
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: ${JAEGER_MAX_TRACES:-100000}

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$JAEGER_OTLP_GRPC_PORT
      http:
        endpoint: 127.0.0.1:$JAEGER_OTLP_HTTP_PORT

processors:
  batch:
    timeout: 200ms

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
YAML
}

jaeger_start() {
  local dir="$RUN_DIR/jaeger"
  mkdir -p "$dir"
  jaeger_config "$dir/config.yaml"
  spawn jaeger "$KLAGG_CACHE/tools/jaeger-$JAEGER_VERSION/bin/jaeger" --config "$dir/config.yaml"
}

jaeger_ready_probe() {
  http_ok "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" && port_in_use "$JAEGER_OTLP_HTTP_PORT"
}
jaeger_wait() { wait_ready jaeger 30 jaeger_ready_probe; }
jaeger_stop() { stop_proc jaeger 15; }
jaeger_env() {
  echo "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT"
  echo "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
  echo "JAEGER_OTLP_GRPC_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_GRPC_PORT"
  echo "JAEGER_QUERY_URL=http://127.0.0.1:$JAEGER_QUERY_PORT"
}
