# Sourced by the benchmark scripts that run this server beside other processes on loopback.
# Needs $root (the repository) set by the caller.

# Prints a loopback port that is free now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the jar ($1) on a free loopback port with scripts/jvm.options and $JAVA_OPTS, logging to
# $2, and waits until /health answers. Sets server_port and server_pid; stops it and exits if it
# does not answer. Once it runs, the caller stops it (a trap that sends SIGTERM to $server_pid).
# With TLS_CERTIFICATE set (a certificate naming 127.0.0.1, as lib/self-signed.sh makes) the
# server speaks https, and /health is asked over https trusting that certificate.
start_local_server() {
  local jar="$1" log="$2" health
  server_port="$(free_port)"
  HOST=127.0.0.1 PORT="$server_port" java @"$root/scripts/jvm.options" ${JAVA_OPTS:-} -jar "$jar" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 80); do
    if [ -n "${TLS_CERTIFICATE:-}" ]; then
      health=(--cacert "$TLS_CERTIFICATE" "https://127.0.0.1:$server_port/health")
    else
      health=("http://127.0.0.1:$server_port/health")
    fi
    curl -sf "${health[@]}" >/dev/null && return 0
    sleep 0.25
  done
  kill -TERM "$server_pid" 2>/dev/null || true
  echo "server did not start; see $log" >&2
  exit 1
}
