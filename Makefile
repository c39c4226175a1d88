# pullgate — plain make with pkg-config.
#   make            build/pullgate (optimised)
#   make run        install build dependencies when root, build, run the demo
#   make test       unit + end-to-end tests, built with ASan and UBSan
#   make fuzz       run each fuzz target (HTTP parser, TLS records, ClientHello) for FUZZ_SECONDS
#   make test-tsan  the threaded end-to-end tests under ThreadSanitizer
#   make bench      side-by-side benchmark against nginx and HAProxy

PKGS      := libssl libcrypto yaml-0.1
CC        ?= cc
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen $(WARN) $(PKG_CFLAGS) -g -MMD -MP
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PYTHON    ?= /usr/bin/python3
FUZZ_SECONDS ?= 30

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(shell find tests/unit -name '*.c' | sort)
GEN       := build/gen/trust_presets.c

REL_OBJS  := $(SRCS:%.c=build/rel/%.o) build/rel/gen/trust_presets.o
SAN_OBJS  := $(SRCS:%.c=build/san/%.o) build/san/gen/trust_presets.o
SAN_LIB_OBJS := $(LIB_SRCS:%.c=build/san/%.o) build/san/gen/trust_presets.o
UNIT_OBJS := $(UNIT_SRCS:%.c=build/san/%.o)

.PHONY: all run test test-tsan unit e2e fuzz bench bench-handshake deps clean check-deps
all: build/pullgate

# The trust presets ship inside the binary, so it runs without share/.
$(GEN): share/trust/cloudflare-origin-pull-ca.pem tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $@ preset_cloudflare_pem share/trust/cloudflare-origin-pull-ca.pem

build/rel/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O2 -c $< -o $@
build/rel/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O2 -c $< -o $@
build/san/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@
build/san/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

build/pullgate: $(REL_OBJS)
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread
build/san/pullgate: $(SAN_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
build/san/unit-tests: $(SAN_LIB_OBJS) $(UNIT_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies: run 'make deps' as root (Debian: libssl-dev libyaml-dev pkg-config)"; exit 1; }

# Debian packages the build, the tests and the demo use.
DEPS_BUILD := build-essential pkg-config libssl-dev libyaml-dev
DEPS_TEST  := python3 python3-pytest curl openssl nginx-light haproxy clang
deps:
	sh tools/install-deps.sh $(DEPS_BUILD) $(DEPS_TEST)

run:
	@sh tools/install-deps.sh $(DEPS_BUILD) curl openssl python3
	@$(MAKE) --no-print-directory build/pullgate
	@bash demo/run.sh

unit: build/san/unit-tests
	ASAN_OPTIONS=detect_leaks=1 build/san/unit-tests

# The end-to-end tests run the sanitizer build; the idle-memory test measures
# the release build (PULLGATE_RELEASE_BIN), whose allocator is the real one.
E2E_ENV := PULLGATE_BIN=$(CURDIR)/build/san/pullgate PULLGATE_RELEASE_BIN=$(CURDIR)/build/pullgate

e2e: build/san/pullgate build/pullgate
	$(E2E_ENV) $(PYTHON) -m pytest -q tests/e2e $(PYTEST_ARGS)

test: build/san/pullgate build/san/unit-tests build/pullgate
	@echo "== unit tests"
	ASAN_OPTIONS=detect_leaks=1 build/san/unit-tests
	@echo "== end-to-end tests"
	$(E2E_ENV) $(PYTHON) -m pytest -q tests/e2e $(PYTEST_ARGS)

# The threads (reloads, cache fills across workers, metrics scrapes) under
# ThreadSanitizer: the end-to-end tests that exercise them.
TSAN_TESTS := tests/e2e/test_ops_reload_under_load.py tests/e2e/test_ops_reload_first_handshakes.py tests/e2e/test_ops_upgrade.py \
	tests/e2e/test_cache_collapsing.py tests/e2e/test_cache_stale.py tests/e2e/test_cache_purge_metrics.py \
	tests/e2e/test_guard_metrics.py tests/e2e/test_guard_reload.py tests/e2e/test_guard_shutdown.py \
	tests/e2e/test_guard_headers.py
build/tsan/pullgate: $(SRCS) $(GEN) | check-deps
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen -g -O1 -fsanitize=thread $(SRCS) $(GEN) $(PKG_CFLAGS) \
		-o $@ $(PKG_LIBS) -lpthread

test-tsan: build/tsan/pullgate
	PULLGATE_BIN=$(CURDIR)/build/tsan/pullgate TSAN_OPTIONS=halt_on_error=0 \
		$(PYTHON) -m pytest -q $(TSAN_TESTS) $(PYTEST_ARGS)

build/fuzz/fuzz_http_parser: fuzz/fuzz_http_parser.c src/http/*.c src/http/*.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(filter %.c,$^) -o $@

RECORD_FUZZ_SRCS := src/tls/tls13_records.c src/tls/transport_records.c src/tls/transport.c \
		    src/tls/transport_tls.c src/tls/tls_release.c src/tls/tls13_kdf.c src/tls/tls13_hkdf.c \
		    src/tls/tls13_accept.c src/tls/tls13_server.c src/tls/tls13_client_hello.c \
		    src/tls/tls13_ticket.c src/tls/x25519.c src/tls/x25519_pool.c \
		    src/tls/builtin_engine.c
build/fuzz/fuzz_tls_records: fuzz/fuzz_tls_records.c $(RECORD_FUZZ_SRCS) src/tls/*.h src/core/*.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		$(filter %.c,$^) -o $@ $(PKG_LIBS)

build/fuzz/fuzz_tls_client_hello: fuzz/fuzz_tls_client_hello.c src/tls/tls13_client_hello.c src/tls/tls13_client_hello.h src/core/slice.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(filter %.c,$^) -o $@

fuzz: build/fuzz/fuzz_http_parser build/fuzz/fuzz_tls_records build/fuzz/fuzz_tls_client_hello
	@mkdir -p build/fuzz/corpus build/fuzz/corpus_records build/fuzz/corpus_client_hello
	build/fuzz/fuzz_http_parser -max_total_time=$(FUZZ_SECONDS) -max_len=16384 build/fuzz/corpus fuzz/corpus/http_parser
	build/fuzz/fuzz_tls_records -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus_records
	build/fuzz/fuzz_tls_client_hello -max_total_time=$(FUZZ_SECONDS) -max_len=2048 build/fuzz/corpus_client_hello fuzz/corpus/client_hello

HANDSHAKE_CPU_OBJS := $(addprefix build/rel/src/tls/,tls13_server.o tls13_client_hello.o tls13_hkdf.o \
		      tls13_records.o tls13_kdf.o builtin_engine.o x25519.o x25519_pool.o) \
		      $(addprefix build/rel/src/pki/,pki_build.o pki_keys.o pki_err.o pki_files.o)
build/bench/handshake_cpu: bench/handshake_cpu.c $(HANDSHAKE_CPU_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) -O2 $^ -o $@ $(PKG_LIBS)

# Server CPU per full mutual-TLS handshake: our own handshake beside OpenSSL's.
bench-handshake: build/bench/handshake_cpu
	taskset -c 0 build/bench/handshake_cpu $(HANDSHAKES)

bench: build/pullgate
	sh bench/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- install
#   make install    PREFIX (default /usr/local) and DESTDIR honoured
#   make uninstall  removes what make install put there
#   make deb        the Debian package, built in a copy of the tree, to build/deb
# The systemd units go where systemd looks for them: /lib/systemd/system for
# PREFIX=/usr (where Debian's packaged units live and dh_installsystemd finds
# them), else $(PREFIX)/lib/systemd/system (/usr/local/lib/systemd/system is on
# systemd's unit path). Their ExecStart names $(PREFIX)/bin/pullgate. The
# sysusers.d file declares the pullgate user; make install creates no user.
PREFIX      ?= /usr/local
DESTDIR     ?=
INSTALL     ?= install
BINDIR       = $(PREFIX)/bin
MANDIR       = $(PREFIX)/share/man
DOCDIR       = $(PREFIX)/share/doc/pullgate
SYSUSERSDIR  = $(PREFIX)/lib/sysusers.d
SYSCTLDIR    = $(PREFIX)/lib/sysctl.d
UNITDIR      = $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
UNITS       := pullgate-edge.service pullgate-guard.service
DOC_FILES   := README.md docs/guard.conf.md docs/edge.conf.md docs/cache.md docs/pki.md
EXAMPLES    := examples/guard.yaml examples/guard-cloudflare.yaml examples/edge.yaml

.PHONY: install uninstall deb
install: build/pullgate
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/trust $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCTLDIR)
	$(INSTALL) -m 755 build/pullgate $(DESTDIR)$(BINDIR)/pullgate
	$(INSTALL) -m 644 man/pullgate.8 $(DESTDIR)$(MANDIR)/man8/pullgate.8
	$(INSTALL) -m 644 man/pullgate.conf.5 $(DESTDIR)$(MANDIR)/man5/pullgate.conf.5
	$(INSTALL) -m 644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 644 share/trust/README.md share/trust/cloudflare-origin-pull-ca.pem $(DESTDIR)$(DOCDIR)/trust/
	for u in $(UNITS); do \
		sed 's|/usr/bin/pullgate|$(BINDIR)/pullgate|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u.tmp && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -m 644 systemd/pullgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/pullgate.conf
	$(INSTALL) -m 644 systemd/pullgate.sysctl $(DESTDIR)$(SYSCTLDIR)/60-pullgate.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pullgate $(DESTDIR)$(MANDIR)/man8/pullgate.8 \
		$(DESTDIR)$(MANDIR)/man5/pullgate.conf.5 $(DESTDIR)$(SYSUSERSDIR)/pullgate.conf \
		$(DESTDIR)$(SYSCTLDIR)/60-pullgate.conf \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -rf $(DESTDIR)$(DOCDIR)

deb:
	sh tools/build-deb.sh build/deb
