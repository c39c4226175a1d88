#!/bin/sh
# make bench: pullgate against nginx and HAProxy on this machine.
# Installs the peers and load tools from Debian when missing, builds the
# client-certificate shim for wrk, then runs the Python driver (bench.py),
# which writes bench/results/YYYY-MM-DD-HHMM.md and prints it.
# Settings are environment variables: see bench/README.md (BENCH_QUICK=1 for
# a one-minute trial).
set -eu
cd "$(dirname "$0")/.."

sh tools/install-deps.sh nginx-light haproxy wrk nghttp2-client apache2-utils openssl python3 util-linux

PG=${PULLGATE_BIN:-build/pullgate}
[ -x "$PG" ] || { echo "bench: $PG is missing: run 'make bench'" >&2; exit 1; }

mkdir -p build/bench
SHIM=build/bench/tls_client_shim.so
SHIM_SRCS="bench/tls_client_shim.c src/tls/key_decode.c src/tls/shared_ec_keys.c src/tls/builtin_engine.c src/tls/fixed_base_verify.c src/tls/inverse_mod.c"
stale=0
for f in $SHIM_SRCS src/tls/key_decode.h src/tls/shared_ec_keys.h src/tls/builtin_engine.h src/tls/fixed_base_verify.h src/tls/inverse_mod.h; do
	[ "$f" -nt "$SHIM" ] && stale=1
done
if [ ! -e "$SHIM" ] || [ "$stale" = 1 ]; then
	${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
		-Wstrict-prototypes -O2 -shared -fPIC -Isrc $SHIM_SRCS \
		-o "$SHIM" -ldl $(pkg-config --libs libssl libcrypto)
fi

# 2000 idle connections and 50-connection load need more than 1024 files.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec /usr/bin/python3 bench/bench.py "$@"
