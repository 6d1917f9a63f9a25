# shellcheck shell=bash
# Shared helpers: messages, errors, ports, pid files, readiness waits.
# Every process is started in its own session (setsid) and recorded as "<pid> <start-time>" in
# $PID_DIR/<proc>.pid; stop_proc signals only a process whose pid AND kernel start time still match,
# so a recycled pid is never killed.

info() { printf 'klagg-infra: %s\n' "$*" >&2; }
die() {
  printf 'klagg-infra: error: %s\n' "$*" >&2
  exit 1
}

# proc_start_time PID: field 22 of /proc/PID/stat (start time in clock ticks since boot).
proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the command name may contain spaces; fields after it do not
  # shellcheck disable=SC2086
  set -- $stat
  printf '%s' "${20}"
}

# proc_pid NAME: prints the pid of a live process started under NAME, else fails (and drops a stale pid file).
proc_pid() {
  local file="$PID_DIR/$1.pid" pid start now
  [[ -f $file ]] || return 1
  read -r pid start <"$file" || return 1
  now=$(proc_start_time "$pid") || now=""
  if [[ -n $now && $now == "$start" ]]; then
    printf '%s' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# spawn NAME CMD...: starts CMD detached in a new session, output appended to $LOG_DIR/NAME.log.
spawn() {
  local name=$1
  shift
  mkdir -p "$PID_DIR" "$LOG_DIR"
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$LOG_DIR/$name.log"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null 9>&- &
  local pid=$!
  local start
  start=$(proc_start_time "$pid") || {
    wait "$pid" 2>/dev/null
    fail_with_log "$name" "exited immediately"
  }
  printf '%s %s\n' "$pid" "$start" >"$PID_DIR/$name.pid"
  STARTED_PROCS+=("$name") # stopped again if this `up` fails later
}

# stop_proc NAME [GRACE_SECONDS]: SIGTERM to the process group we created, SIGKILL after the grace period.
stop_proc() {
  local name=$1 grace=${2:-20} pid i
  pid=$(proc_pid "$name") || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    proc_pid "$name" >/dev/null || break
    sleep 0.1
  done
  if proc_pid "$name" >/dev/null; then
    info "$name (pid $pid) did not stop within ${grace}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      proc_pid "$name" >/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$PID_DIR/$name.pid"
}

# fail_with_log NAME WHY: error with the last lines of that process's log.
fail_with_log() {
  local name=$1 why=$2 log="$LOG_DIR/$1.log"
  {
    printf 'klagg-infra: error: %s %s. Last lines of %s:\n' "$name" "$why" "$log"
    tail -n "${KLAGG_LOG_LINES:-40}" "$log" 2>/dev/null | sed 's/^/  | /'
  } >&2
  exit 1
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_port PORT WHAT: fail clearly when the port is taken, naming the holder when ss can see it.
require_free_port() {
  local port=$1 what=$2 holder=""
  if port_in_use "$port" || { command -v ss >/dev/null && ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; }; then
    command -v ss >/dev/null && holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 3)
    die "port $port ($what) on 127.0.0.1 is already taken${holder:+ by: $holder}. Stop that process, or change the port in deploy/local/versions.env"
  fi
}

# wait_ready NAME TIMEOUT PROBE...: polls PROBE until it succeeds; fails with the log if the process dies or
# the timeout passes.
wait_ready() {
  local name=$1 timeout=$2
  shift 2
  timeout=${KLAGG_READY_TIMEOUT:-$timeout}
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    proc_pid "$name" >/dev/null || fail_with_log "$name" "exited before it became ready"
    ((SECONDS < deadline)) || fail_with_log "$name" "did not become ready within ${timeout}s"
    sleep 0.25
  done
}

# http_ok URL [CURL_ARGS...]: true on a 2xx answer.
http_ok() {
  local url=$1
  shift
  curl -fsS -o /dev/null --max-time 2 "$@" "$url"
}
