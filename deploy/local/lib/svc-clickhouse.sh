# shellcheck shell=bash
# ClickHouse from Debian's clickhouse-server (18.16 on bookworm). Config generated into the run dir;
# data lives in $RUN_DIR/clickhouse/data and survives a restart.

clickhouse_procs() { echo clickhouse; }
clickhouse_ports() { echo "$CLICKHOUSE_HTTP_PORT $CLICKHOUSE_TCP_PORT $CLICKHOUSE_INTERSERVER_PORT"; }
clickhouse_version() { deb_version "$CLICKHOUSE_DEB"; }
clickhouse_install() { deb_install "$CLICKHOUSE_DEB"; }

clickhouse_config() {
  local dir=$1 data="$RUN_DIR/clickhouse/data"
  mkdir -p "$data/tmp" "$data/user_files" "$data/format_schemas"
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>$LOG_DIR/clickhouse.server.log</log>
    <errorlog>$LOG_DIR/clickhouse.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
    <console>1</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CLICKHOUSE_HTTP_PORT</http_port>
  <tcp_port>$CLICKHOUSE_TCP_PORT</tcp_port>
  <interserver_http_port>$CLICKHOUSE_INTERSERVER_PORT</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>64</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$data/</path>
  <tmp_path>$data/tmp/</tmp_path>
  <user_files_path>$data/user_files/</user_files_path>
  <format_schema_path>$data/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
XML
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default>
  </quotas>
</yandex>
XML
}

clickhouse_start() {
  local dir="$RUN_DIR/clickhouse"
  mkdir -p "$dir"
  clickhouse_config "$dir"
  spawn clickhouse /usr/sbin/clickhouse-server --config-file="$dir/config.xml"
}

clickhouse_ready_probe() {
  [[ $(curl -fsS --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/?query=SELECT%201" 2>/dev/null) == 1 ]]
}
clickhouse_wait() { wait_ready clickhouse 60 clickhouse_ready_probe; }
clickhouse_stop() { stop_proc clickhouse 30; }
clickhouse_env() { echo "CLICKHOUSE_URL=http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"; }
