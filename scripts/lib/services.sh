# shellcheck shell=bash
# Test services for Simple Scheduler: a private SecantusDB (MongoDB wire
# protocol) and a private RabbitMQ, both bound to 127.0.0.1 on free ports,
# owned by PID and torn down by stop_all.
#
# Source this file; it defines functions only (plus ROOT) and starts nothing.
# Callers are expected to run with `set -euo pipefail`.
#
# Bookkeeping lives in $SS_TMPDIR (one private `mktemp -d` directory per run):
#   pids/NAME.pid      PID of every process we started (kept current across
#                      broker restarts, so stop_all always kills the live one)
#   pids/NAME.match    a substring of that process's command line, checked
#                      before signalling so a recycled PID is never hit
#   rabbitmq/broker.env  ports/node name of the broker, read by scripts/test-broker
#   logs/*.log         stdout/stderr of each service
#
# Set SIMPLE_SCHEDULER_TEST_KEEP_TMP=1 to keep $SS_TMPDIR (logs) after stop_all.

# Repo root, from this file's location (never from the environment: CI may
# have an unrelated ROOT set).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

# The SecantusDB release the tests are written against.
SS_SECANTUS_REQUIREMENT="secantusdb==0.7.0b3"
# The cron oracle of the differential test (Tests/Oracles/croniter_oracle.py).
SS_CRONITER_REQUIREMENT="croniter==6.0.0"
# The example Python worker's AMQP client (examples/python-worker/worker.py).
SS_PIKA_REQUIREMENT="pika==1.3.2"
# Only scripts/faults needs it (property-based tests of the API against its OpenAPI document).
SS_SCHEMATHESIS_REQUIREMENT="schemathesis==4.32.5"
SS_RABBITMQ_BIN=/usr/lib/rabbitmq/bin

ss_log() { printf '[services] %s\n' "$*" >&2; }
ss_die() { ss_log "ERROR: $*"; return 1; }

# ---------------------------------------------------------------------------
# Packages and the Python venv
# ---------------------------------------------------------------------------

# Install whatever the build and the tests need and is missing (plus any
# package names given as arguments). Quiet when everything is there (the
# common case on a reused machine).
# What building needs (the Dockerfile's build stage installs only these).
SS_BUILD_PACKAGES=(pkg-config libmongoc-dev librabbitmq-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev tzdata)

ensure_build_packages() {
    local missing=() p
    for p in "${SS_BUILD_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    ss_log "installing ${missing[*]}"
    local sudo=()
    [[ "$(id -u)" != 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_packages() {
    local wanted=(pkg-config libmongoc-dev librabbitmq-dev libsqlite3-dev libssl-dev openssl ca-certificates
                  rabbitmq-server python3-venv tzdata curl "$@")
    local missing=() p
    for p in "${wanted[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) && return 0

    local sudo=()
    [[ "$(id -u)" -ne 0 ]] && sudo=(sudo)
    ss_log "installing missing packages: ${missing[*]}"
    # One update only, and only because something is missing: package lists
    # on a fresh machine may be empty or stale.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # Installing rabbitmq-server would start the system broker (and an epmd
    # on 4369) as a service: CPU and memory the tests need, and processes
    # nobody stops. A policy-rc.d that says 101 ("not allowed") keeps any
    # service from starting during this install; it is removed afterwards
    # unless it was there before.
    local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
    if [[ ! -e "$policy" ]]; then
        "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
        own_policy=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
    ((own_policy)) && "${sudo[@]}" rm -f "$policy"
    return "$rc"
}

# $ROOT/.venv with SecantusDB (which brings pymongo along as its dependency).
# ensure_schemathesis: the fault suite's API checker, into the same venv.
ensure_schemathesis() {
    ensure_venv
    local have
    have="$("$ROOT/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
    if [[ "$have" != "${SS_SCHEMATHESIS_REQUIREMENT#*==}" ]]; then
        ss_log "installing $SS_SCHEMATHESIS_REQUIREMENT into $ROOT/.venv"
        "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SS_SCHEMATHESIS_REQUIREMENT"
    fi
}

ensure_venv() {
    local venv="$ROOT/.venv"
    local want="${SS_SECANTUS_REQUIREMENT#*==}"
    # A venv whose interpreter is gone (e.g. copied from another machine) is
    # useless: rebuild it.
    if [[ -d "$venv" && ! -x "$venv/bin/python" ]]; then
        ss_log "removing broken venv $venv"
        rm -rf "$venv"
    fi
    if [[ ! -d "$venv" ]]; then
        ss_log "creating $venv"
        /usr/bin/python3 -m venv "$venv"
    fi
    local have
    have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("secantusdb"))' 2>/dev/null || true)"
    if [[ "$have" != "$want" || ! -x "$venv/bin/secantusd-py" ]]; then
        ss_log "installing $SS_SECANTUS_REQUIREMENT into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SS_SECANTUS_REQUIREMENT"
    fi
    have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("croniter"))' 2>/dev/null || true)"
    if [[ "$have" != "${SS_CRONITER_REQUIREMENT#*==}" ]]; then
        ss_log "installing $SS_CRONITER_REQUIREMENT into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SS_CRONITER_REQUIREMENT"
    fi
    have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pika"))' 2>/dev/null || true)"
    if [[ "$have" != "${SS_PIKA_REQUIREMENT#*==}" ]]; then
        ss_log "installing $SS_PIKA_REQUIREMENT into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SS_PIKA_REQUIREMENT"
    fi
}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

# A TCP port that is free on 127.0.0.1 right now (the kernel picks it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Is PID a live process? A zombie counts as dead: once our parent shell is
# gone, PID 1 here reaps orphans only after a delay.
pid_alive() {
    local pid="$1" state
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != Z ]]
}

# Does TCP connect to 127.0.0.1:PORT succeed?
port_open() {
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}

# Does 127.0.0.1:PORT answer the AMQP 0-9-1 protocol header with a method
# frame (Connection.Start)? Stronger than port_open: the broker is serving.
amqp_answers() {
    python3 - "$1" 2>/dev/null <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.settimeout(2)
s.sendall(b"AMQP\x00\x00\x09\x01")
frame = s.recv(7)
s.close()
sys.exit(0 if frame[:1] == b"\x01" else 1)
PY
}

# Create the private temp dir of this run (once) and set SS_TMPDIR.
init_tmpdir() {
    if [[ -z "${SS_TMPDIR:-}" || ! -d "${SS_TMPDIR:-}" ]]; then
        SS_TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/simple-scheduler-test.XXXXXX")"
    fi
    mkdir -p "$SS_TMPDIR/pids" "$SS_TMPDIR/logs"
    # Not exported: a child (a test that runs scripts/test again, say) must
    # not adopt, and then tear down, this run's services.
}

# start_background NAME MATCH LOGFILE CMD...: start CMD detached with its
# output in LOGFILE and record its PID under NAME. The subshell exits at once,
# so CMD is reparented and never lingers as a zombie of whoever started it
# (scripts/test-broker runs are short-lived). stdin is /dev/null and fd 9 (the
# lock of scripts/test-broker) is closed, so the service never holds a
# caller's pipe or lock open.
start_background() {
    local name="$1" match="$2" log="$3"
    shift 3
    (
        "$@" </dev/null >>"$log" 2>&1 9>&- &
        echo "$!" >"$SS_TMPDIR/pids/$name.pid"
    )
    printf '%s\n' "$match" >"$SS_TMPDIR/pids/$name.match"
}

# PID recorded under NAME, if that process is alive and still the one we
# started (its command line contains the recorded match string).
recorded_pid() {
    local name="$1" pid match
    pid="$(cat "$SS_TMPDIR/pids/$name.pid" 2>/dev/null || true)"
    match="$(cat "$SS_TMPDIR/pids/$name.match" 2>/dev/null || true)"
    pid_alive "$pid" || return 1
    if [[ -n "$match" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match"; then
        return 1
    fi
    echo "$pid"
}

# wait_pid_exit PID SECONDS: 0 once PID is gone, 1 if it outlives the bound.
wait_pid_exit() {
    local pid="$1" deadline=$((SECONDS + $2))
    while pid_alive "$pid"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}

# stop_recorded NAME SECONDS: TERM, then KILL after the bound.
stop_recorded() {
    local name="$1" bound="$2" pid
    pid="$(recorded_pid "$name")" || { rm -f "$SS_TMPDIR/pids/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" "$bound"; then
        ss_log "$name (pid $pid) ignored TERM for ${bound}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 5 || ss_log "$name (pid $pid) still alive after KILL"
    fi
    rm -f "$SS_TMPDIR/pids/$name.pid"
}

# Print the last lines of a log, to explain a failed start.
log_tail() {
    ss_log "last lines of $1:"
    tail -n "${2:-40}" "$1" >&2 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# SecantusDB
# ---------------------------------------------------------------------------

# start_secantus DIR|:memory:  — exports SIMPLE_SCHEDULER_TEST_MONGODB_URL.
start_secantus() {
    local storage="${1:?start_secantus needs a storage dir or :memory:}"
    init_tmpdir
    local bin="$ROOT/.venv/bin/secantusd-py"
    [[ -x "$bin" ]] || ss_die "$bin missing (run ensure_venv first)" || return 1
    local dir="$SS_TMPDIR/secantus" port log
    mkdir -p "$dir/tmp"
    # An empty config file: passing --config turns off the auto-discovery of
    # ./secantusd.toml, ~/.secantus/… and /etc/secantus/…, so nothing on the
    # machine changes how the test server behaves.
    : >"$dir/secantusd.toml"
    port="$(free_port)"
    log="$SS_TMPDIR/logs/secantus.log"
    # TMPDIR: ':memory:' storage is a temp dir the server removes on a clean
    # shutdown; keeping it inside $SS_TMPDIR means stop_all removes it even
    # after a KILL.
    start_background secantus "secantusd-py" "$log" \
        env TMPDIR="$dir/tmp" "$bin" --config "$dir/secantusd.toml" \
        --host 127.0.0.1 --port "$port" --storage-path "$storage"

    local pid deadline=$((SECONDS + 30))
    pid="$(cat "$SS_TMPDIR/pids/secantus.pid")"
    until port_open "$port"; do
        if ! pid_alive "$pid"; then
            log_tail "$log"
            ss_die "SecantusDB exited during start-up" || return 1
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$log"
            ss_die "SecantusDB did not listen on 127.0.0.1:$port within 30 s" || return 1
        fi
        sleep 0.1
    done
    # No URI option is needed: the server advertises itself as the primary of
    # a one-node replica set named "secantus" whose host list is exactly
    # 127.0.0.1:PORT, so libmongoc/pymongo discovery lands back on this address.
    export SIMPLE_SCHEDULER_TEST_MONGODB_URL="mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=5000"
}

# ---------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------

# Load the broker's bookkeeping (ports, node name, dirs) written by
# start_rabbitmq. Used by scripts/test-broker, which runs in another process.
load_broker_env() {
    local file="${1:-${SIMPLE_SCHEDULER_TEST_BROKER_ENV:-}}"
    [[ -n "$file" && -f "$file" ]] || ss_die "broker env file '${file}' not found (is SIMPLE_SCHEDULER_TEST_BROKER_ENV set?)" || return 1
    # shellcheck disable=SC1090
    source "$file"
}

# rabbit_env_exec CMD...: replace the current (sub)shell by CMD running with
# the private broker's environment. Only call it where exec is wanted: in a
# background job or through rabbit_env_run. The same env is used for the
# server and for every rabbitmqctl call, so both agree on HOME (hence the
# Erlang cookie), the epmd port and the node name.
rabbit_env_exec() {
    # Stray RABBITMQ_* settings from the caller's environment (e.g.
    # RABBITMQ_USE_LONGNAME) would change node naming or file locations.
    local v
    for v in $(compgen -e | grep '^RABBITMQ_' || true); do unset "$v"; done
    local d="$SS_RMQ_DIR"
    export HOME="$d/home"
    # Our own epmd on our own port, loopback only; Erlang finds it through
    # ERL_EPMD_PORT, and the system epmd (port 4369) is never touched.
    export ERL_EPMD_PORT="$SS_RMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_NODENAME="$SS_RMQ_NODE"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$SS_RMQ_PORT"
    export RABBITMQ_DIST_PORT="$SS_RMQ_DIST_PORT"
    export RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log"
    export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
    export RABBITMQ_PID_FILE="$d/rabbitmq.pid"
    # Without this the scripts source /etc/rabbitmq/rabbitmq-env.conf.
    export RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf"
    # ALLOW_INPUT makes rabbitmq-server `exec erl` (-> erlexec -> beam.smp,
    # all exec) instead of running erl as a child of a signal-forwarding
    # shell, so the PID we record IS the Erlang VM. -noinput then keeps the
    # VM from reading a shell from stdin; +B i ignores SIGINT (what the
    # script does by default) so a Ctrl-C reaches our trap, which stops the
    # broker properly. inet_dist_use_interface binds Erlang distribution to
    # loopback (the AMQP listener is bound by RABBITMQ_NODE_IP_ADDRESS, epmd
    # by its -address). -start_epmd false: if our epmd is gone, fail rather
    # than have Erlang spawn an `epmd -daemon` that nobody would stop.
    export RABBITMQ_ALLOW_INPUT=1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-noinput +B i -start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"
    exec "$@"
}

# rabbit_env_run CMD...: run CMD with the private broker's environment.
rabbit_env_run() {
    ( rabbit_env_exec "$@" )
}

# rabbitmqctl for the private node, bounded by `timeout` (a wedged node must
# not hang the tests).
rabbitmqctl_private() {
    rabbit_env_run timeout 120 "$SS_RABBITMQ_BIN/rabbitmqctl" -q -n "$SS_RMQ_NODE" "$@"
}

# Start epmd (if ours is not running) and the broker from the existing
# bookkeeping; wait until it serves AMQP. Used for the first start and for
# restarts, which reuse the same ports and mnesia dir (durable queues and
# persistent messages survive).
_rabbitmq_launch() {
    local timeout="${SIMPLE_SCHEDULER_TEST_RABBITMQ_START_TIMEOUT:-90}"
    local log="$SS_TMPDIR/logs/rabbitmq.log" epmd_log="$SS_TMPDIR/logs/epmd.log"
    local deadline=$((SECONDS + timeout)) pid

    # Our own epmd, in the foreground (not -daemon) so its PID is ours.
    if ! recorded_pid epmd >/dev/null; then
        start_background epmd "epmd -address 127.0.0.1 -port $SS_RMQ_EPMD_PORT" "$epmd_log" \
            epmd -address 127.0.0.1 -port "$SS_RMQ_EPMD_PORT"
        until port_open "$SS_RMQ_EPMD_PORT"; do
            ((SECONDS < deadline)) || { log_tail "$epmd_log"; ss_die "epmd did not listen on port $SS_RMQ_EPMD_PORT"; return 1; }
            sleep 0.05
        done
    fi

    # rabbit_env_exec: the background job execs, so $! is the VM itself.
    start_background rabbitmq "beam.smp" "$log" rabbit_env_exec "$SS_RABBITMQ_BIN/rabbitmq-server"
    pid="$(cat "$SS_TMPDIR/pids/rabbitmq.pid")"

    # Poll the AMQP port: `rabbitmqctl await_startup` fails at once while the
    # node is not yet registered and then re-checks only every 10 s, so it is
    # used below once the listener is up, just to confirm the boot finished.
    until amqp_answers "$SS_RMQ_PORT"; do
        if ! pid_alive "$pid"; then
            log_tail "$log"
            ss_die "RabbitMQ exited during start-up (logs in $SS_RMQ_DIR/log)" || return 1
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$log"
            ss_die "RabbitMQ did not serve AMQP on 127.0.0.1:$SS_RMQ_PORT within ${timeout} s" || return 1
        fi
        sleep 0.2
    done
    local left=$((deadline - SECONDS))
    ((left < 5)) && left=5
    if ! rabbitmqctl_private await_startup --timeout "$left" >/dev/null; then
        log_tail "$log"
        ss_die "rabbitmqctl await_startup failed for $SS_RMQ_NODE" || return 1
    fi
}

# A throwaway CA and a server certificate for localhost / 127.0.0.1 (test brokers only).
_make_test_certificates() {
    local dir="$1"
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=simple-scheduler test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" >/dev/null 2>&1
    chmod 644 "$dir"/*.pem "$dir"/*.key
}

# Start a private broker; exports SIMPLE_SCHEDULER_TEST_AMQP_URL, SIMPLE_SCHEDULER_TEST_AMQPS_URL,
# SIMPLE_SCHEDULER_TEST_BROKER_ENV and SIMPLE_SCHEDULER_TEST_BROKER_CTL.
start_rabbitmq() {
    init_tmpdir
    SS_RMQ_DIR="$SS_TMPDIR/rabbitmq"
    SS_RMQ_NODE="rabbit-test-$$@localhost"
    SS_RMQ_PORT="$(free_port)"
    SS_RMQ_TLS_PORT="$(free_port)"
    while [[ "$SS_RMQ_TLS_PORT" == "$SS_RMQ_PORT" ]]; do SS_RMQ_TLS_PORT="$(free_port)"; done
    SS_RMQ_DIST_PORT="$(free_port)"
    SS_RMQ_EPMD_PORT="$(free_port)"
    while [[ "$SS_RMQ_DIST_PORT" == "$SS_RMQ_PORT" ]]; do SS_RMQ_DIST_PORT="$(free_port)"; done
    while [[ "$SS_RMQ_EPMD_PORT" == "$SS_RMQ_PORT" || "$SS_RMQ_EPMD_PORT" == "$SS_RMQ_DIST_PORT" ]]; do
        SS_RMQ_EPMD_PORT="$(free_port)"
    done

    mkdir -p "$SS_RMQ_DIR/home" "$SS_RMQ_DIR/mnesia" "$SS_RMQ_DIR/log"
    # No plugins at all (notably no management plugin and its HTTP port).
    echo '[].' >"$SS_RMQ_DIR/enabled_plugins"
    : >"$SS_RMQ_DIR/rabbitmq-env.conf"
    _make_test_certificates "$SS_RMQ_DIR/tls"
    cat >"$SS_RMQ_DIR/rabbitmq.conf" <<EOF
# Private test broker. guest/guest may log in from loopback only (the default).
loopback_users.guest = true
# A TLS listener with a throwaway CA, so amqps:// is tested for real.
listeners.ssl.1 = 127.0.0.1:$SS_RMQ_TLS_PORT
ssl_options.cacertfile = $SS_RMQ_DIR/tls/ca.pem
ssl_options.certfile = $SS_RMQ_DIR/tls/server.pem
ssl_options.keyfile = $SS_RMQ_DIR/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
EOF

    # The bookkeeping scripts/test-broker needs, in another process.
    local env_file="$SS_RMQ_DIR/broker.env" v
    : >"$env_file"
    for v in SS_TMPDIR SS_RMQ_DIR SS_RMQ_NODE SS_RMQ_PORT SS_RMQ_TLS_PORT SS_RMQ_DIST_PORT SS_RMQ_EPMD_PORT; do
        printf '%s=%q\n' "$v" "${!v}" >>"$env_file"
    done

    _rabbitmq_launch

    export SIMPLE_SCHEDULER_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$SS_RMQ_PORT/"
    export SIMPLE_SCHEDULER_TEST_AMQPS_URL="amqps://guest:guest@localhost:$SS_RMQ_TLS_PORT/?cacertfile=$SS_RMQ_DIR/tls/ca.pem"
    export SIMPLE_SCHEDULER_TEST_BROKER_ENV="$env_file"
    export SIMPLE_SCHEDULER_TEST_BROKER_CTL="$ROOT/scripts/test-broker"
}

# Graceful stop (rabbitmqctl stop), bounded; KILL if the VM lingers.
# Leaves epmd running: a restart reuses it.
stop_rabbitmq() {
    local pid
    pid="$(recorded_pid rabbitmq)" || { rm -f "$SS_TMPDIR/pids/rabbitmq.pid"; return 0; }
    if ! rabbit_env_run timeout 60 "$SS_RABBITMQ_BIN/rabbitmqctl" -q -n "$SS_RMQ_NODE" stop >/dev/null 2>&1; then
        ss_log "rabbitmqctl stop failed; sending TERM to $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    if ! wait_pid_exit "$pid" 30; then
        ss_log "RabbitMQ (pid $pid) still running 30 s after stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 5 || true
    fi
    rm -f "$SS_TMPDIR/pids/rabbitmq.pid"
}

# Simulate a crash: KILL the VM, no shutdown at all.
kill_rabbitmq() {
    local pid
    pid="$(recorded_pid rabbitmq)" || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 10 || true
    rm -f "$SS_TMPDIR/pids/rabbitmq.pid"
}

# Start the broker again on the same port, node name and data dir.
start_rabbitmq_again() {
    [[ -n "${SS_RMQ_DIR:-}" ]] || ss_die "start_rabbitmq has not run (no broker bookkeeping)" || return 1
    if recorded_pid rabbitmq >/dev/null; then
        return 0  # already running
    fi
    _rabbitmq_launch
}

# ---------------------------------------------------------------------------
# Teardown
# ---------------------------------------------------------------------------

# Stop every process recorded in $SS_TMPDIR/pids (TERM to all at once, KILL
# after a bound), then remove $SS_TMPDIR. Safe to call more than once.
stop_all() {
    [[ -n "${SS_TMPDIR:-}" && -d "$SS_TMPDIR/pids" ]] || return 0
    local f name pid pids=() names=()
    # epmd last: the VM unregisters from it while shutting down.
    for f in "$SS_TMPDIR"/pids/*.pid; do
        [[ -e "$f" ]] || continue
        name="$(basename "$f" .pid)"
        [[ "$name" == epmd ]] && continue
        if pid="$(recorded_pid "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid"); names+=("$name")
        fi
    done
    local i
    for i in "${!pids[@]}"; do
        if ! wait_pid_exit "${pids[$i]}" 20; then
            ss_log "${names[$i]} (pid ${pids[$i]}) ignored TERM; killing it"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
            wait_pid_exit "${pids[$i]}" 5 || ss_log "${names[$i]} (pid ${pids[$i]}) survived KILL"
        fi
    done
    stop_recorded epmd 5
    if [[ "${SIMPLE_SCHEDULER_TEST_KEEP_TMP:-0}" == 1 ]]; then
        ss_log "kept $SS_TMPDIR"
    else
        rm -rf "$SS_TMPDIR"
    fi
    SS_TMPDIR=""
}

# EXIT runs stop_all and keeps the script's exit code; INT/TERM exit through
# EXIT with the conventional 128+N codes.
install_cleanup_trap() {
    # shellcheck disable=SC2154  # ss_rc is assigned inside the trap string
    trap 'ss_rc=$?; trap - EXIT; stop_all || true; exit "$ss_rc"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
