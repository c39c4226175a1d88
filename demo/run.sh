#!/usr/bin/env bash
# make run: the whole system on loopback with certificates made for this run.
# It walks through the concept step by step, then stays up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=$PWD/build/pullgate
W=$PWD/demo/work
rm -rf "$W" && mkdir -p "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT: until something accepts on it, 10 s at most
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on port $1; see $W/*.log" >&2; exit 1
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Certificates, made with pullgate pki"
$PG pki ca --cn "Demo Edge Origin-Pull CA" --cert "$W/edge-ca.pem" --key "$W/edge-ca.key"
$PG pki issue client --cn edge.demo --ca-cert "$W/edge-ca.pem" --ca-key "$W/edge-ca.key" \
	--cert "$W/edge-client.pem" --key "$W/edge-client.key"
$PG pki ca --cn "Demo Origin CA" --cert "$W/origin-ca.pem" --key "$W/origin-ca.key"
$PG pki issue server --cn origin.demo --dns origin.demo --dns localhost --ip 127.0.0.1 \
	--ca-cert "$W/origin-ca.pem" --ca-key "$W/origin-ca.key" --cert "$W/origin.pem" --key "$W/origin.key"
$PG pki ca --cn "Somebody Else CA" --cert "$W/other-ca.pem" --key "$W/other-ca.key"
$PG pki issue client --cn edge.demo --ca-cert "$W/other-ca.pem" --ca-key "$W/other-ca.key" \
	--cert "$W/stranger.pem" --key "$W/stranger.key"
ls "$W"

APP_PORT=$(free_port)
GUARD_PORT=$(free_port)
cat > "$W/pullgate.yaml" <<YAML
guard:
  workers: 2
  listen: [127.0.0.1:$GUARD_PORT]
  certificate: origin.pem
  key: origin.key
  trust:
    ca: [edge-ca.pem]
  pins:
    subject: [edge.demo]
  backend:
    address: 127.0.0.1:$APP_PORT
YAML

step "Origin app on 127.0.0.1:$APP_PORT, pullgate guard in front of it on 127.0.0.1:$GUARD_PORT"
python3 demo/origin_app.py "$APP_PORT" 2>"$W/app.log" & pids+=($!)
$PG check -c "$W/pullgate.yaml"
$PG guard -c "$W/pullgate.yaml" 2>"$W/guard.log" & pids+=($!)
wait_port "$APP_PORT"; wait_port "$GUARD_PORT"

URL="https://origin.demo:$GUARD_PORT/"
RESOLVE="--resolve origin.demo:$GUARD_PORT:127.0.0.1"
step "1. The edge's pull: a client certificate from the edge CA -> the origin answers"
echo "\$ curl --cert edge-client.pem --key edge-client.key --cacert origin-ca.pem $URL"
curl -sS $RESOLVE --cacert "$W/origin-ca.pem" --cert "$W/edge-client.pem" --key "$W/edge-client.key" "$URL"

step "2. A scanner that found the origin: no client certificate -> refused in the handshake"
echo "\$ curl --cacert origin-ca.pem $URL"
curl -sS $RESOLVE --cacert "$W/origin-ca.pem" "$URL" 2>&1 | sed 's/^/    /' || true

step "3. Another CA's certificate with the same name -> refused in the handshake"
curl -sS $RESOLVE --cacert "$W/origin-ca.pem" --cert "$W/stranger.pem" --key "$W/stranger.key" "$URL" 2>&1 | sed 's/^/    /' || true

step "What the guard logged"
grep -E 'listening|refused' "$W/guard.log" | sed 's/^/    /'

step "Running. Try it yourself (Ctrl-C stops everything):"
cat <<TXT
  with the edge's certificate:
    curl $RESOLVE --cacert $W/origin-ca.pem --cert $W/edge-client.pem --key $W/edge-client.key $URL
  without one:
    curl $RESOLVE --cacert $W/origin-ca.pem $URL
  logs: $W/guard.log, $W/app.log
TXT
wait "${pids[1]}"
