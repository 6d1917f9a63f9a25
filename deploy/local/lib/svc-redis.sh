# shellcheck shell=bash
# Redis from Debian's redis-server, append-only file in the run dir so data survives a restart.

redis_procs() { echo redis; }
redis_ports() { echo "$REDIS_PORT"; }
redis_version() { deb_version "$REDIS_DEB"; }
redis_install() { deb_install "$REDIS_DEB"; }

redis_start() {
  local data="$RUN_DIR/redis"
  mkdir -p "$data"
  spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize no \
    --dir "$data" --appendonly yes --appendfsync everysec --save "60 1" --logfile "" \
    --unixsocket "" --supervised no
}

redis_ready_probe() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
redis_wait() { wait_ready redis 20 redis_ready_probe; }
redis_stop() { stop_proc redis 20; }
redis_env() { echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"; }
