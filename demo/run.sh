#!/usr/bin/env bash
# make run: the whole system of the concept on loopback, with certificates
# made for this run by `pullgate pki`. It walks through what authenticated
# origin pulls change, prints what the logs said, then stays up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PULLGATE_BIN:-$PWD/build/pullgate}
W=$PWD/demo/work
rm -rf "$W" && mkdir -p "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT NAME: until something accepts on PORT, 10 s at most
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "$2 is not listening on port $1; see $W/$2.log" >&2; exit 1
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '   $ %s\n' "$*"; }
logs() { # logs FILE PATTERN: the log lines the last step produced
	grep -E "$2" "$W/$1.log" | tail -n "${3:-2}" | sed "s/^[^ ]* pullgate\[[0-9]*\] /   [$1] /"
}
pki() { "$PG" pki "$@"; }

step "Certificates, made with pullgate pki (in $W)"
pki ca --cn "Demo Origin-Pull CA" --cert "$W/pull-ca.pem" --key "$W/pull-ca.key"
pki issue client --cn edge.global.demo --ca-cert "$W/pull-ca.pem" --ca-key "$W/pull-ca.key" \
	--cert "$W/edge-global.pem" --key "$W/edge-global.key"
pki issue client --cn pull.shop.demo --ca-cert "$W/pull-ca.pem" --ca-key "$W/pull-ca.key" \
	--cert "$W/shop-zone.pem" --key "$W/shop-zone.key"
pki ca --cn "Demo Origin CA" --cert "$W/origin-ca.pem" --key "$W/origin-ca.key"
pki issue server --cn origin.demo --dns origin.demo --ip 127.0.0.1 \
	--ca-cert "$W/origin-ca.pem" --ca-key "$W/origin-ca.key" --cert "$W/origin.pem" --key "$W/origin.key"
pki ca --cn "Demo Visitor CA" --cert "$W/visitor-ca.pem" --key "$W/visitor-ca.key"
for zone in blog.demo shop.demo tenant.demo; do
	pki issue server --cn "$zone" --dns "$zone" --dns "*.$zone" --ca-cert "$W/visitor-ca.pem" \
		--ca-key "$W/visitor-ca.key" --cert "$W/$zone.pem" --key "$W/$zone.key"
done
SHOP_PIN=$(pki inspect "$W/shop-zone.pem" | sed -n 's/^spki_sha256: //p')
echo "   the edge-wide pull certificate, the shop zone's own one, an origin CA, visitor certificates"

APP=$(free_port); BLOG=$(free_port); SHOP=$(free_port); EDGE=$(free_port); EDGE80=$(free_port)
cat > "$W/pullgate.yaml" <<YAML
# One file for the demo: pullgate reads the section of the role it runs.
edge:
  workers: 1
  listen: [127.0.0.1:$EDGE]
  plain_listen: [127.0.0.1:$EDGE80]
  client_certificate: {certificate: edge-global.pem, key: edge-global.key}
  origin_ca: origin-ca.pem
  zones:
    - name: blog.demo
      certificate: blog.demo.pem
      key: blog.demo.key
      ssl: strict
      origin_pull: global
      always_https: true
      records:
        - {name: www.blog.demo, origin: "127.0.0.1:$BLOG", origin_sni: origin.demo}
        - {name: direct.blog.demo, origin: "127.0.0.1:$BLOG", proxied: false}
    - name: shop.demo
      certificate: shop.demo.pem
      key: shop.demo.key
      ssl: strict
      origin_pull: zone
      client_certificate: {certificate: shop-zone.pem, key: shop-zone.key}
      records:
        - {name: www.shop.demo, origin: "127.0.0.1:$SHOP", origin_sni: origin.demo}
    - name: tenant.demo
      certificate: tenant.demo.pem
      key: tenant.demo.key
      ssl: strict
      origin_pull: global
      error_codes: cloudflare
      records:
        - {name: www.tenant.demo, origin: "127.0.0.1:$SHOP", origin_sni: origin.demo}
YAML
guard_conf() { # guard_conf PORT [pins]
	cat <<YAML
guard:
  workers: 1
  listen: [127.0.0.1:$1]
  certificate: origin.pem
  key: origin.key
  trust: {ca: [pull-ca.pem]}
  backend: {address: 127.0.0.1:$APP}
YAML
	[ -n "${2:-}" ] && printf '  pins: {spki_sha256: ["%s"]}\n' "$2"
	return 0
}
guard_conf "$BLOG" > "$W/guard-blog.yaml"
guard_conf "$SHOP" "$SHOP_PIN" > "$W/guard-shop.yaml"

step "The system on loopback"
python3 demo/origin_app.py "$APP" 2>"$W/app.log" & pids+=($!)
"$PG" guard -c "$W/guard-blog.yaml" 2>"$W/guard-blog.log" & pids+=($!)
"$PG" guard -c "$W/guard-shop.yaml" 2>"$W/guard-shop.log" & pids+=($!)
"$PG" check -c "$W/pullgate.yaml" | sed 's/^/   /'
"$PG" edge -c "$W/pullgate.yaml" 2>"$W/edge.log" & pids+=($!)
wait_port "$APP" app; wait_port "$BLOG" guard-blog; wait_port "$SHOP" guard-shop; wait_port "$EDGE" edge
cat <<TXT
   origin app          127.0.0.1:$APP   (plain HTTP, reachable only from the guards)
   guard for blog      127.0.0.1:$BLOG  (trusts the origin-pull CA)
   guard for shop      127.0.0.1:$SHOP  (trusts the origin-pull CA, pinned to the shop zone's certificate)
   pullgate edge       127.0.0.1:$EDGE (https), 127.0.0.1:$EDGE80 (http)
TXT

visit() { # visit HOST PORT [curl args]: a visitor's request through the edge
	local host=$1 port=$2; shift 2
	curl -sS --resolve "$host:$port:127.0.0.1" --cacert "$W/visitor-ca.pem" "$@" "https://$host:$port/" 2>&1 | sed 's/^/   /' || true
}

step "1. A visitor through the edge: the edge pulls with its client certificate, the origin answers"
show "curl https://www.blog.demo/"
visit www.blog.demo "$EDGE"
logs guard-blog 'refused|listening' 1

step "2. A scanner that found the origin's address: no client certificate, no HTTP"
show "curl -k https://127.0.0.1:$BLOG/"
curl -sSk "https://127.0.0.1:$BLOG/" 2>&1 | sed 's/^/   /' || true
logs guard-blog 'tls refused' 1

step "3. A DNS-only record: the edge does not serve it, and its visitors are refused at the origin"
show "curl https://direct.blog.demo/   (through the edge)"
visit direct.blog.demo "$EDGE"
show "curl -k https://127.0.0.1:$BLOG/   (what a DNS-only visitor really reaches: the origin)"
curl -sSk -H 'Host: direct.blog.demo' "https://127.0.0.1:$BLOG/" 2>&1 | sed 's/^/   /' || true
logs guard-blog 'tls refused' 1

step "4. A zone with its own certificate, and an origin pinned to it: the shop's pulls get through"
show "curl https://www.shop.demo/"
visit www.shop.demo "$EDGE"

step "5. Another tenant of the same edge, pulling with the edge-wide certificate: the pinned origin refuses it"
show "curl https://www.tenant.demo/   (this zone asks for Cloudflare's status codes)"
visit www.tenant.demo "$EDGE" -o /dev/null -w 'HTTP %{http_code}\n'
logs edge 'upstream' 1
logs guard-shop 'tls refused' 1

step "Running until Ctrl-C. Try:"
cat <<TXT
   curl --resolve www.blog.demo:$EDGE:127.0.0.1 --cacert $W/visitor-ca.pem https://www.blog.demo:$EDGE/
   curl --resolve www.shop.demo:$EDGE:127.0.0.1 --cacert $W/visitor-ca.pem https://www.shop.demo:$EDGE/
   curl -i -H 'Host: www.blog.demo' http://127.0.0.1:$EDGE80/      (always_https: a redirect)
   curl -k https://127.0.0.1:$BLOG/                                 (straight to the origin: refused)
   logs: $W/edge.log $W/guard-blog.log $W/guard-shop.log $W/app.log
TXT
wait "${pids[-1]}"
