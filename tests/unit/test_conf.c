/* Unit tests for the guard's configuration loader: values, defaults, every
 * kind of error with its exact file:line, and pin parsing. Each test writes
 * its YAML to a fresh file under /tmp and removes it afterwards. */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/guard_conf.h"
#include "conf/yaml_doc.h"

/* One load: the file it came from, its result and its errors. */
struct conf_run {
	char path[64];
	struct guard_conf *conf;
	struct conf_errors errs;
};

static void conf_test_write(char *path, const char *yaml)
{
	strcpy(path, "/tmp/pullgate-conf-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	size_t len = strlen(yaml);
	if (write(fd, yaml, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void conf_test_load(struct conf_run *r, const char *yaml)
{
	memset(r, 0, sizeof *r);
	conf_test_write(r->path, yaml);
	r->conf = guard_conf_load(r->path, &r->errs);
}

static void conf_test_done(struct conf_run *r)
{
	guard_conf_free(r->conf);
	conf_errors_free(&r->errs);
	unlink(r->path);
}

static void conf_test_dump(const struct conf_run *r)
{
	for (size_t i = 0; i < r->errs.count; i++)
		fprintf(stderr, "    got: %s\n", r->errs.msgs[i]);
}

/* True when errs holds exactly "path:line: msg". */
static bool conf_test_has(const struct conf_run *r, int line, const char *fmt, ...)
{
	char msg[512], want[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(want, sizeof want, "%s:%d: %s", r->path, line, msg);
	for (size_t i = 0; i < r->errs.count; i++)
		if (!strcmp(r->errs.msgs[i], want))
			return true;
	fprintf(stderr, "    wanted: %s\n", want);
	conf_test_dump(r);
	return false;
}

/* The smallest valid guard section, lines 1-8; tests append from line 9. */
#define CONF_MINIMAL                           \
	"guard:\n"                             \
	"  listen: 127.0.0.1:8443\n"           \
	"  certificate: server.pem\n"          \
	"  key: server.key\n"                  \
	"  trust:\n"                           \
	"    ca: ca.pem\n"                     \
	"  backend:\n"                         \
	"    address: 127.0.0.1:9000\n"

static const char conf_full_yaml[] =
	"guard:\n"
	"  workers: 2\n"
	"  listen:\n"
	"    - 127.0.0.1:8443\n"
	"    - \"[::1]:8443\"\n"
	"  plain_listen:\n"
	"    - address: 127.0.0.1:8080\n"
	"      action: redirect\n"
	"      redirect_port: 8443\n"
	"    - 127.0.0.1:8081\n"
	"  certificate: server.pem\n"
	"  key: /etc/pullgate/server.key\n"
	"  hosts:\n"
	"    - hostnames: [app.example.com, \"*.app.example.com\"]\n"
	"      certificate: app.pem\n"
	"      key: app.key\n"
	"      pins:\n"
	"        spki_sha256: [\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"]\n"
	"    - hostnames: api.example.com\n"
	"  trust:\n"
	"    ca: [edge-ca.pem, other-ca.pem]\n"
	"    preset: [cloudflare]\n"
	"    crl: [edge-ca.crl]\n"
	"  pins:\n"
	"    sha256: [\"00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\"]\n"
	"    spki_sha256: [\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"]\n"
	"    subject: [edge.example.com, \"*.edge.example.com\"]\n"
	"  backend:\n"
	"    address: unix:/run/app.sock\n"
	"    connect_timeout: 2s\n"
	"    response_timeout: 2m\n"
	"    idle_timeout: 1500ms\n"
	"    pool_size: 16\n"
	"  headers:\n"
	"    client_cert: false\n"
	"    client_cert_chain: yes\n"
	"    verified: X-Verified\n"
	"    subject: \"\"\n"
	"    san: false\n"
	"    fingerprint: true\n"
	"    not_after: X-Not-After\n"
	"  limits:\n"
	"    request_line: 4k\n"
	"    header_bytes: 64k\n"
	"    header_count: 128\n"
	"    body_bytes: 1g\n"
	"  timeouts:\n"
	"    handshake: 5s\n"
	"    header: 20\n"
	"    idle: 1h\n"
	"    body: 45s\n"
	"    grace: 0\n"
	"  log_level: debug\n"
	"  watch_files: off\n"
	"edge:\n"
	"  anything: [goes, here]\n";

TEST(conf_full_config)
{
	struct conf_run r;
	conf_test_load(&r, conf_full_yaml);
	struct guard_conf *c = r.conf;
	if (!c)
		conf_test_dump(&r);
	REQUIRE(c);
	CHECK_STR(c->file, r.path);
	CHECK_EQ_INT(c->workers, 2);
	REQUIRE(c->listen_count == 2);
	CHECK_STR(c->listen[0].host, "127.0.0.1");
	CHECK_EQ_INT(c->listen[0].port, 8443);
	CHECK_EQ_INT(c->listen[0].line, 4);
	CHECK_STR(c->listen[1].host, "::1");
	CHECK_STR(c->listen[1].text, "[::1]:8443");
	CHECK_EQ_INT(c->listen[1].line, 5);
	REQUIRE(c->plain_count == 2);
	CHECK_STR(c->plain[0].addr.host, "127.0.0.1");
	CHECK_EQ_INT(c->plain[0].addr.port, 8080);
	CHECK_EQ_INT(c->plain[0].action, PLAIN_ACTION_REDIRECT);
	CHECK_EQ_INT(c->plain[0].redirect_port, 8443);
	CHECK_EQ_INT(c->plain[1].addr.port, 8081);
	CHECK_EQ_INT(c->plain[1].action, PLAIN_ACTION_CLOSE);
	CHECK_EQ_INT(c->plain[1].redirect_port, 443);
	CHECK_STR(c->certificate, "/tmp/server.pem");
	CHECK_STR(c->key, "/etc/pullgate/server.key");

	REQUIRE(c->host_count == 2);
	REQUIRE(c->hosts[0].hostnames.count == 2);
	CHECK_STR(c->hosts[0].hostnames.items[0], "app.example.com");
	CHECK_STR(c->hosts[0].hostnames.items[1], "*.app.example.com");
	CHECK_STR(c->hosts[0].certificate, "/tmp/app.pem");
	CHECK_STR(c->hosts[0].key, "/tmp/app.key");
	CHECK(c->hosts[0].has_pins);
	CHECK_EQ_INT(c->hosts[0].line, 14);
	REQUIRE(c->hosts[0].pins.spki_sha256_count == 1);
	CHECK_EQ_INT(c->hosts[0].pins.spki_sha256[0][0], 0);
	CHECK_EQ_INT(c->hosts[0].pins.spki_sha256[0][31], 31);
	REQUIRE(c->hosts[1].hostnames.count == 1);
	CHECK_STR(c->hosts[1].hostnames.items[0], "api.example.com");
	CHECK(!c->hosts[1].has_pins);
	CHECK(!c->hosts[1].certificate && !c->hosts[1].key);

	REQUIRE(c->ca_files.count == 2);
	CHECK_STR(c->ca_files.items[0], "/tmp/edge-ca.pem");
	CHECK_STR(c->ca_files.items[1], "/tmp/other-ca.pem");
	REQUIRE(c->presets.count == 1);
	CHECK_STR(c->presets.items[0], "cloudflare");
	REQUIRE(c->crl_files.count == 1);
	CHECK_STR(c->crl_files.items[0], "/tmp/edge-ca.crl");

	CHECK(c->has_pins);
	REQUIRE(c->pins.cert_sha256_count == 1);
	CHECK_EQ_INT(c->pins.cert_sha256[0][10], 10);
	REQUIRE(c->pins.spki_sha256_count == 1);
	CHECK_EQ_INT(c->pins.spki_sha256[0][31], 31);
	REQUIRE(c->pins.subjects.count == 2);
	CHECK_STR(c->pins.subjects.items[1], "*.edge.example.com");

	CHECK(c->backend.addr.is_unix);
	CHECK_STR(c->backend.addr.path, "/run/app.sock");
	CHECK(!c->backend.addr.host);
	CHECK_EQ_INT(c->backend.connect_timeout_ms, 2000);
	CHECK_EQ_INT(c->backend.response_timeout_ms, 120000);
	CHECK_EQ_INT(c->backend.idle_timeout_ms, 1500);
	CHECK_EQ_INT(c->backend.pool_size, 16);

	CHECK(!c->headers.client_cert);
	CHECK(c->headers.client_cert_chain);
	CHECK_STR(c->headers.verified, "X-Verified");
	CHECK(!c->headers.subject);
	CHECK(!c->headers.san);
	CHECK_STR(c->headers.fingerprint, "X-Client-Fingerprint");
	CHECK_STR(c->headers.not_after, "X-Not-After");

	CHECK_EQ_INT(c->limits.request_line, 4096);
	CHECK_EQ_INT(c->limits.header_bytes, 65536);
	CHECK_EQ_INT(c->limits.header_count, 128);
	CHECK_EQ_INT(c->limits.body_bytes, 1ll << 30);

	CHECK_EQ_INT(c->timeouts.handshake_ms, 5000);
	CHECK_EQ_INT(c->timeouts.header_ms, 20000);
	CHECK_EQ_INT(c->timeouts.idle_ms, 3600000);
	CHECK_EQ_INT(c->timeouts.body_ms, 45000);
	CHECK_EQ_INT(c->timeouts.grace_ms, 0);
	CHECK_STR(c->log_level, "debug");
	CHECK(!c->watch_files);
	conf_test_done(&r);
}

TEST(conf_defaults)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL);
	struct guard_conf *c = r.conf;
	REQUIRE(c);
	CHECK_EQ_INT(r.errs.count, 0);
	CHECK_EQ_INT(c->workers, 0);
	CHECK_EQ_INT(c->listen_count, 1);
	CHECK_EQ_INT(c->plain_count, 0);
	CHECK_EQ_INT(c->host_count, 0);
	CHECK_EQ_INT(c->presets.count, 0);
	CHECK_EQ_INT(c->crl_files.count, 0);
	CHECK(!c->has_pins);
	CHECK_EQ_INT(c->backend.addr.port, 9000);
	CHECK_EQ_INT(c->backend.connect_timeout_ms, 5000);
	CHECK_EQ_INT(c->backend.response_timeout_ms, 60000);
	CHECK_EQ_INT(c->backend.idle_timeout_ms, 30000);
	CHECK_EQ_INT(c->backend.pool_size, 64);
	CHECK(c->headers.client_cert);
	CHECK(!c->headers.client_cert_chain);
	CHECK_STR(c->headers.verified, "X-Client-Verified");
	CHECK_STR(c->headers.subject, "X-Client-Subject");
	CHECK_STR(c->headers.san, "X-Client-SAN");
	CHECK_STR(c->headers.fingerprint, "X-Client-Fingerprint");
	CHECK_STR(c->headers.not_after, "X-Client-Not-After");
	CHECK_EQ_INT(c->limits.request_line, 8192);
	CHECK_EQ_INT(c->limits.header_bytes, 32768);
	CHECK_EQ_INT(c->limits.header_count, 100);
	CHECK_EQ_INT(c->limits.body_bytes, 0);
	CHECK_EQ_INT(c->timeouts.handshake_ms, 10000);
	CHECK_EQ_INT(c->timeouts.header_ms, 15000);
	CHECK_EQ_INT(c->timeouts.idle_ms, 60000);
	CHECK_EQ_INT(c->timeouts.body_ms, 30000);
	CHECK_EQ_INT(c->timeouts.grace_ms, 10000);
	CHECK_STR(c->log_level, "info");
	CHECK(c->watch_files);
	conf_test_done(&r);
}

TEST(conf_missing_file)
{
	struct conf_errors errs = { 0 };
	CHECK(!guard_conf_load("/nonexistent/pullgate.yaml", &errs));
	REQUIRE(errs.count == 1);
	CHECK_STR(errs.msgs[0], "/nonexistent/pullgate.yaml: No such file or directory");
	conf_errors_free(&errs);

	CHECK(!guard_conf_load("/tmp", &errs));
	REQUIRE(errs.count == 1);
	CHECK_STR(errs.msgs[0], "/tmp: Is a directory");
	conf_errors_free(&errs);
}

TEST(conf_errors_format)
{
	struct conf_errors errs = { 0 };
	conf_errors_add(&errs, "a.yaml", 0, "cannot %s", "read");
	conf_errors_add(&errs, "a.yaml", 7, "bad %d", 42);
	REQUIRE(errs.count == 2);
	CHECK_STR(errs.msgs[0], "a.yaml: cannot read");
	CHECK_STR(errs.msgs[1], "a.yaml:7: bad 42");
	conf_errors_free(&errs);
	CHECK(errs.count == 0 && !errs.msgs);
}

TEST(conf_yaml_syntax_error)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen: [127.0.0.1:8443\n"
			   "  certificate: x.pem\n"
			   "  key: : :\n");
	CHECK(!r.conf);
	REQUIRE(r.errs.count == 1);
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%s:", r.path);
	CHECK(!strncmp(r.errs.msgs[0], prefix, strlen(prefix)));
	CHECK(strstr(r.errs.msgs[0], ": YAML syntax error: "));
	conf_test_done(&r);

	/* A problem on a known line. */
	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  key: \"unterminated\n");
	CHECK(!r.conf);
	REQUIRE(r.errs.count == 1);
	CHECK(conf_test_has(&r, 4, "YAML syntax error: found unexpected end of stream"));
	conf_test_done(&r);

	/* libyaml's reader reports bad UTF-8 by byte offset; it becomes a line. */
	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  key: \xff\xfe\n");
	CHECK(!r.conf);
	REQUIRE(r.errs.count == 1);
	CHECK(conf_test_has(&r, 3, "YAML syntax error: invalid leading UTF-8 octet"));
	conf_test_done(&r);
}

TEST(conf_no_guard_section)
{
	struct conf_run r;
	conf_test_load(&r, "");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 1, "no guard section"));
	conf_test_done(&r);

	conf_test_load(&r, "# only the edge here\n"
			   "edge:\n"
			   "  listen: 0.0.0.0:443\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 1, "no guard section"));
	conf_test_done(&r);

	conf_test_load(&r, "- guard\n");
	CHECK(!r.conf);
	CHECK(conf_test_has(&r, 1, "expected a mapping with a guard section at the top level, got a list"));
	conf_test_done(&r);

	conf_test_load(&r, "guard:\n");
	CHECK(!r.conf);
	CHECK(conf_test_has(&r, 1, "guard: expected a mapping, got nothing"));
	conf_test_done(&r);
}

TEST(conf_top_level_keys)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "edge:\n"
					"  whatever: 1\n"
					"gaurd:\n"
					"  listen: x\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 11, "unknown top-level key \"gaurd\""));
	conf_test_done(&r);

	conf_test_load(&r, "edge: {}\n" CONF_MINIMAL);
	CHECK(r.conf);
	CHECK_EQ_INT(r.errs.count, 0);
	conf_test_done(&r);
}

TEST(conf_unknown_and_duplicate_keys)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  lisen: 127.0.0.1:1\n"
					"  backend: {address: 127.0.0.1:2}\n"
					"  timeouts: {header: 1s, headr: 2s}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 3);
	CHECK(conf_test_has(&r, 9, "guard: unknown key \"lisen\""));
	CHECK(conf_test_has(&r, 10, "guard: duplicate key \"backend\""));
	CHECK(conf_test_has(&r, 11, "guard.timeouts: unknown key \"headr\""));
	conf_test_done(&r);
}

TEST(conf_bad_duration)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  timeouts:\n"
					"    header: 10x\n"
					"    idle: 2h\n"
					"    body: -5s\n"
					"    handshake: 50ms\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(conf_test_has(&r, 10, "guard.timeouts.header: \"10x\" is not a duration (use 500ms, 10s, 2m)"));
	CHECK(conf_test_has(&r, 11, "guard.timeouts.idle: 2h is out of range (100ms to 1h)"));
	CHECK(conf_test_has(&r, 12, "guard.timeouts.body: \"-5s\" is not a duration (use 500ms, 10s, 2m)"));
	CHECK(conf_test_has(&r, 13, "guard.timeouts.handshake: 50ms is out of range (100ms to 5m)"));
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  timeouts:\n"
					"    header: 99999999999999999999999h\n");
	CHECK(!r.conf);
	CHECK(conf_test_has(&r, 10, "guard.timeouts.header: 99999999999999999999999h is out of range (100ms to 1h)"));
	conf_test_done(&r);
}

TEST(conf_durations_units)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  timeouts:\n"
					"    header: 500ms\n"
					"    idle: 2M\n"
					"    body: 30\n"
					"    handshake: \"7s\"\n");
	REQUIRE(r.conf);
	CHECK_EQ_INT(r.conf->timeouts.header_ms, 500);
	CHECK_EQ_INT(r.conf->timeouts.idle_ms, 120000);
	CHECK_EQ_INT(r.conf->timeouts.body_ms, 30000);
	CHECK_EQ_INT(r.conf->timeouts.handshake_ms, 7000);
	conf_test_done(&r);
}

TEST(conf_listen_addresses)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen:\n"
			   "    - 127.0.0.1:70000\n"
			   "    - ::1:8443\n"
			   "    - 127.0.0.1\n"
			   "    - 300.1.1.1:80\n"
			   "    - \"[::1]:0\"\n"
			   "    - \"[zz]:80\"\n"
			   "    - bad_host:80\n"
			   "    - localhost:http\n"
			   "    - :8443\n"
			   "    - \"[::1]:\"\n"
			   "  certificate: a\n"
			   "  key: b\n"
			   "  trust: {ca: c}\n"
			   "  backend: {address: 127.0.0.1:1}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 10);
	CHECK(conf_test_has(&r, 12, "guard.listen[9]: no port number after the colon"));
	CHECK(conf_test_has(&r, 3, "guard.listen[0]: port 70000 is out of range"));
	CHECK(conf_test_has(&r, 4, "guard.listen[1]: an IPv6 address needs brackets, as in \"[::1]:8443\""));
	CHECK(conf_test_has(&r, 5, "guard.listen[2]: \"127.0.0.1\" is not an address (use host:port, [v6]:port or unix:/path)"));
	CHECK(conf_test_has(&r, 6, "guard.listen[3]: \"300.1.1.1\" is not an IPv4 address"));
	CHECK(conf_test_has(&r, 7, "guard.listen[4]: port 0 is out of range"));
	CHECK(conf_test_has(&r, 8, "guard.listen[5]: \"zz\" is not an IPv6 address"));
	CHECK(conf_test_has(&r, 9, "guard.listen[6]: \"bad_host\" is not a hostname or IP address"));
	CHECK(conf_test_has(&r, 10, "guard.listen[7]: \"http\" is not a port number"));
	CHECK(conf_test_has(&r, 11, "guard.listen[8]: \":8443\" has no host (use 0.0.0.0:port or [::]:port for all addresses)"));
	conf_test_done(&r);

	conf_test_load(&r, "guard:\n"
			   "  listen: []\n"
			   "  certificate: a\n"
			   "  key: b\n"
			   "  trust: {ca: c}\n"
			   "  backend: {address: \"unix:app.sock\"}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 2, "guard.listen: at least one address is required"));
	conf_test_done(&r);
}

TEST(conf_addresses_valid)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen: [\"[::]:443\", 0.0.0.0:443, origin.example.com:8443]\n"
			   "  certificate: a\n"
			   "  key: b\n"
			   "  trust: {ca: c}\n"
			   "  backend: {address: \"localhost:65535\"}\n");
	REQUIRE(r.conf);
	REQUIRE(r.conf->listen_count == 3);
	CHECK_STR(r.conf->listen[0].host, "::");
	CHECK_EQ_INT(r.conf->listen[0].port, 443);
	CHECK_STR(r.conf->listen[1].host, "0.0.0.0");
	CHECK_STR(r.conf->listen[2].host, "origin.example.com");
	CHECK_STR(r.conf->backend.addr.host, "localhost");
	CHECK_EQ_INT(r.conf->backend.addr.port, 65535);
	conf_test_done(&r);

	/* unix: is for the backend; listeners bind host:port. */
	conf_test_load(&r, "guard:\n"
			   "  listen: \"unix:sock/guard.sock\"\n"
			   "  plain_listen: [\"unix:/run/plain.sock\"]\n"
			   "  certificate: a\n"
			   "  key: b\n"
			   "  trust: {ca: c}\n"
			   "  backend: {address: \"unix:sock/app.sock\"}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 2);
	CHECK(conf_test_has(&r, 2, "guard.listen: a listener needs host:port; unix: sockets are for backend.address"));
	CHECK(conf_test_has(&r, 3, "guard.plain_listen[0]: a listener needs host:port; unix: sockets are for backend.address"));
	conf_test_done(&r);

	char long_path[160];
	memset(long_path, 'p', sizeof long_path);
	long_path[sizeof long_path - 1] = 0;
	char yaml[512];
	snprintf(yaml, sizeof yaml,
		 "guard:\n"
		 "  listen: 127.0.0.1:1\n"
		 "  certificate: a\n"
		 "  key: b\n"
		 "  trust: {ca: c}\n"
		 "  backend: {address: \"unix:/%s\"}\n",
		 long_path);
	conf_test_load(&r, yaml);
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	char want[256];
	snprintf(want, sizeof want, "guard.backend.address: socket path /%s is too long (at most 107 bytes)", long_path);
	CHECK(conf_test_has(&r, 6, "%s", want));
	conf_test_done(&r);
}

TEST(conf_duplicate_listeners)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  plain_listen:\n"
					"    - address: 127.0.0.1:8443\n"
					"    - address: 127.0.0.1:80\n"
					"      redirect_port: 8443\n"
					"    - address: 127.0.0.1:81\n"
					"      action: drop\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 3);
	CHECK(conf_test_has(&r, 10, "guard.plain_listen[0]: 127.0.0.1:8443 is already given in guard.listen[0]"));
	CHECK(conf_test_has(&r, 12, "guard.plain_listen[1]: redirect_port is only used with action: redirect"));
	CHECK(conf_test_has(&r, 14, "guard.plain_listen[2].action: unknown action \"drop\" (known: close, redirect)"));
	conf_test_done(&r);
}

TEST(conf_trust_errors)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  certificate: server.pem\n"
			   "  key: server.key\n"
			   "  trust:\n"
			   "    crl: x.crl\n"
			   "  backend:\n"
			   "    address: 127.0.0.1:9000\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 6, "guard.trust: no trust anchor (give ca or preset)"));
	conf_test_done(&r);

	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  certificate: server.pem\n"
			   "  key: server.key\n"
			   "  trust:\n"
			   "    preset:\n"
			   "      - cloudflare\n"
			   "      - cloudfare\n"
			   "  backend:\n"
			   "    address: 127.0.0.1:9000\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 8, "guard.trust.preset: unknown preset \"cloudfare\" (known: cloudflare)"));
	conf_test_done(&r);

	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  certificate: server.pem\n"
			   "  key: server.key\n"
			   "  trust: [ca.pem]\n"
			   "  backend:\n"
			   "    address: 127.0.0.1:9000\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 5, "guard.trust: expected a mapping, got a list"));
	conf_test_done(&r);
}

TEST(conf_missing_required)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  workers: auto\n"
			   "  backend:\n"
			   "    pool_size: 3\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(conf_test_has(&r, 2, "guard: missing required key \"listen\""));
	CHECK(conf_test_has(&r, 2, "guard: missing required key \"certificate\""));
	CHECK(conf_test_has(&r, 2, "guard: missing required key \"key\""));
	CHECK(conf_test_has(&r, 2, "guard: missing required key \"trust\""));
	CHECK(conf_test_has(&r, 4, "guard.backend: missing required key \"address\""));
	conf_test_done(&r);

	conf_test_load(&r, "guard:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  certificate:\n"
			   "  key: \"\"\n"
			   "  trust: {ca: a}\n"
			   "  backend: {address: 127.0.0.1:9000}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 2);
	CHECK(conf_test_has(&r, 3, "guard.certificate: no value given"));
	CHECK(conf_test_has(&r, 4, "guard.key: no value given"));
	conf_test_done(&r);
}

TEST(conf_multiple_errors_together)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  lisen: 127.0.0.1:8443\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  key: server.key\n"
			   "  trust: {ca: ca.pem}\n"
			   "  backend:\n"
			   "    address: 127.0.0.1:9000\n"
			   "    connect_timeout: 10x\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 3);
	CHECK(conf_test_has(&r, 2, "guard: unknown key \"lisen\""));
	CHECK(conf_test_has(&r, 2, "guard: missing required key \"certificate\""));
	CHECK(conf_test_has(&r, 8, "guard.backend.connect_timeout: \"10x\" is not a duration (use 500ms, 10s, 2m)"));
	conf_test_done(&r);
}

TEST(conf_hosts_errors)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  hosts:\n"
					"    - hostnames: a.example.com\n"
					"      certificate: a.pem\n"
					"    - hostnames: b.example.com\n"
					"      key: b.key\n"
					"    - hostnames: [\"c.*.example.com\", \"A.example.com\"]\n"
					"    - certificate: d.pem\n"
					"      key: d.key\n"
					"    - hostnames: []\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(conf_test_has(&r, 11, "guard.hosts[0]: certificate given without key"));
	CHECK(conf_test_has(&r, 13, "guard.hosts[1]: key given without certificate"));
	CHECK(conf_test_has(&r, 14, "guard.hosts[2].hostnames[0]: \"c.*.example.com\" is not a hostname pattern (use name.example.com or *.example.com)"));
	CHECK(conf_test_has(&r, 15, "guard.hosts[3]: missing required key \"hostnames\""));
	CHECK(conf_test_has(&r, 17, "guard.hosts[4].hostnames: at least one hostname is required"));
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  hosts:\n"
					"    - hostnames: a.example.com\n"
					"    - hostnames: [b.example.com, A.Example.com]\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 11, "guard.hosts[1].hostnames: hostname \"A.Example.com\" is already listed in guard.hosts[0]"));
	conf_test_done(&r);
}

TEST(conf_host_pins_flag)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  hosts:\n"
					"    - hostnames: a.example.com\n"
					"      pins: {}\n"
					"    - hostnames: b.example.com\n"
					"      pins:\n"
					"        subject: b.example.com\n");
	REQUIRE(r.conf);
	REQUIRE(r.conf->host_count == 2);
	CHECK(r.conf->hosts[0].has_pins);
	CHECK_EQ_INT(r.conf->hosts[0].pins.subjects.count, 0);
	CHECK(r.conf->hosts[1].has_pins);
	REQUIRE(r.conf->hosts[1].pins.subjects.count == 1);
	CHECK_STR(r.conf->hosts[1].pins.subjects.items[0], "b.example.com");
	CHECK(!r.conf->has_pins);
	conf_test_done(&r);
}

TEST(conf_relative_paths)
{
	char dir[] = "/tmp/pullgate-confdir-XXXXXX";
	REQUIRE(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/guard.yaml", dir);
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fputs("guard:\n"
	      "  listen: 127.0.0.1:8443\n"
	      "  certificate: certs/server.pem\n"
	      "  key: /abs/server.key\n"
	      "  trust:\n"
	      "    ca: [../ca.pem, ca2.pem]\n"
	      "    crl: crl/edge.crl\n"
	      "  backend:\n"
	      "    address: unix:run/app.sock\n",
	      f);
	fclose(f);
	struct conf_errors errs = { 0 };
	struct guard_conf *c = guard_conf_load(path, &errs);
	CHECK_EQ_INT(errs.count, 0);
	if (c) {
		char want[192];
		snprintf(want, sizeof want, "%s/certs/server.pem", dir);
		CHECK_STR(c->certificate, want);
		CHECK_STR(c->key, "/abs/server.key");
		snprintf(want, sizeof want, "%s/../ca.pem", dir);
		CHECK_STR(c->ca_files.items[0], want);
		snprintf(want, sizeof want, "%s/ca2.pem", dir);
		CHECK_STR(c->ca_files.items[1], want);
		snprintf(want, sizeof want, "%s/crl/edge.crl", dir);
		CHECK_STR(c->crl_files.items[0], want);
		snprintf(want, sizeof want, "%s/run/app.sock", dir);
		CHECK_STR(c->backend.addr.path, want);
	}
	guard_conf_free(c);
	conf_errors_free(&errs);

	/* A path without a folder: relative paths stay relative to the
	 * working directory, which is the file's folder. */
	char cwd[256];
	REQUIRE(getcwd(cwd, sizeof cwd));
	REQUIRE(chdir(dir) == 0);
	c = guard_conf_load("guard.yaml", &errs);
	CHECK_EQ_INT(errs.count, 0);
	if (c) {
		CHECK_STR(c->file, "guard.yaml");
		CHECK_STR(c->certificate, "certs/server.pem");
		CHECK_STR(c->ca_files.items[0], "../ca.pem");
	}
	guard_conf_free(c);
	conf_errors_free(&errs);
	CHECK(chdir(cwd) == 0);
	unlink(path);
	rmdir(dir);
}

TEST(conf_pins_hex_and_base64)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  pins:\n"
					"    sha256:\n"
					"      - \"00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\"\n"
					"      - 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n"
					"    spki_sha256: ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n");
	REQUIRE(r.conf);
	CHECK(r.conf->has_pins);
	REQUIRE(r.conf->pins.cert_sha256_count == 2);
	for (int i = 0; i < 32; i++) {
		CHECK_EQ_INT(r.conf->pins.cert_sha256[0][i], i);
		CHECK_EQ_INT(r.conf->pins.cert_sha256[1][i], i);
	}
	REQUIRE(r.conf->pins.spki_sha256_count == 1);
	for (int i = 0; i < 32; i++)
		CHECK_EQ_INT(r.conf->pins.spki_sha256[0][i], 32 + i);
	CHECK_EQ_INT(r.conf->pins.subjects.count, 0);
	conf_test_done(&r);
}

TEST(conf_pins_invalid)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  pins:\n"
					"    sha256:\n"
					"      - \"00:01:02\"\n"
					"      - 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n"
					"      - \"00:01:0203\"\n"
					"      - ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n"
					"    spki_sha256:\n"
					"      - ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n"
					"      - ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9=\n"
					"      - 0001020304\n"
					"    subject: [\"*.*.example.com\", \"edge.*\", ok.example.com]\n"
					"    issuer: x\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 10);
	CHECK(conf_test_has(&r, 11, "guard.pins.sha256[0]: \"00:01:02\" has 3 bytes; a SHA-256 has 32 (64 hex digits)"));
	CHECK(conf_test_has(&r, 12, "guard.pins.sha256[1]: \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\" has 33 bytes; a SHA-256 has 32 (64 hex digits)"));
	CHECK(conf_test_has(&r, 13, "guard.pins.sha256[2]: \"00:01:0203\" is not a SHA-256 in hex (64 hex digits, colons optional)"));
	CHECK(conf_test_has(&r, 14, "guard.pins.sha256[3]: \"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\" is not a SHA-256 in hex (64 hex digits, colons optional)"));
	CHECK(conf_test_has(&r, 16, "guard.pins.spki_sha256[0]: \"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\" has 43 characters; a base64 SHA-256 has 44 (with = padding)"));
	CHECK(conf_test_has(&r, 17, "guard.pins.spki_sha256[1]: \"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9=\" is not a SHA-256 in base64 (44 characters) or hex (64 digits)"));
	CHECK(conf_test_has(&r, 18, "guard.pins.spki_sha256[2]: \"0001020304\" has 5 bytes; a SHA-256 has 32 (64 hex digits)"));
	CHECK(conf_test_has(&r, 19, "guard.pins.subject[0]: \"*.*.example.com\" is not a hostname pattern (use name.example.com or *.example.com)"));
	CHECK(conf_test_has(&r, 19, "guard.pins.subject[1]: \"edge.*\" is not a hostname pattern (use name.example.com or *.example.com)"));
	CHECK(conf_test_has(&r, 20, "guard.pins: unknown key \"issuer\""));
	conf_test_done(&r);
}

TEST(conf_pin_parsers)
{
	uint8_t fp[32];
	char why[96];
	CHECK(conf_parse_sha256_any("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", fp, why, sizeof why));
	CHECK_EQ_INT(fp[31], 31);
	CHECK(conf_parse_sha256_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_hex("00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_hex("0:01", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_hex("", fp, why, sizeof why));
	CHECK_STR(why, "has 0 bytes; a SHA-256 has 32 (64 hex digits)");
	CHECK(!conf_parse_sha256_hex("000", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_any("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_any("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=", fp, why, sizeof why));
	CHECK(!conf_parse_sha256_any("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", fp, why, sizeof why));
}

TEST(conf_name_validation)
{
	CHECK(conf_hostname_pattern_valid("example.com", false));
	CHECK(conf_hostname_pattern_valid("*.example.com", true));
	CHECK(!conf_hostname_pattern_valid("*.example.com", false));
	CHECK(!conf_hostname_pattern_valid("*", true));
	CHECK(!conf_hostname_pattern_valid("*.", true));
	CHECK(!conf_hostname_pattern_valid("a*.example.com", true));
	CHECK(!conf_hostname_pattern_valid("-a.example.com", true));
	CHECK(!conf_hostname_pattern_valid("a-.example.com", true));
	CHECK(!conf_hostname_pattern_valid("a..example.com", true));
	CHECK(!conf_hostname_pattern_valid("example.com.", true));
	CHECK(conf_hostname_pattern_valid("xn--bcher-kva.example", true));
	char label[70];
	memset(label, 'a', 64);
	label[64] = 0;
	CHECK(!conf_hostname_pattern_valid(label, false));
	label[63] = 0;
	CHECK(conf_hostname_pattern_valid(label, false));

	CHECK(conf_http_token_valid("X-Client-Verified"));
	CHECK(conf_http_token_valid("x_y.z!#$%&'*+^`|~"));
	CHECK(!conf_http_token_valid(""));
	CHECK(!conf_http_token_valid("X Client"));
	CHECK(!conf_http_token_valid("X-Client:"));
	CHECK(!conf_http_token_valid("X-Cl\xc3\xa9"));
}

TEST(conf_header_names)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  headers:\n"
					"    verified: \"X Verified\"\n"
					"    subject: Content-Length\n"
					"    san: [a]\n"
					"    client_cert: maybe\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(conf_test_has(&r, 10, "guard.headers.verified: \"X Verified\" is not a valid header name"));
	CHECK(conf_test_has(&r, 11, "guard.headers.subject: \"Content-Length\" cannot be an identity header (it carries HTTP framing or routing)"));
	CHECK(conf_test_has(&r, 12, "guard.headers.san: expected a single value, got a list"));
	CHECK(conf_test_has(&r, 13, "guard.headers.client_cert: \"maybe\" is not a boolean (use true or false)"));
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  headers:\n"
					"    san: x-client-subject\n"
					"    fingerprint: CLIENT-CERT\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 2);
	CHECK(conf_test_has(&r, 10, "guard.headers.san: \"x-client-subject\" is already used by subject"));
	CHECK(conf_test_has(&r, 11, "guard.headers.fingerprint: \"CLIENT-CERT\" is already used by client_cert"));
	conf_test_done(&r);

	/* With Client-Cert off, its name is free. */
	conf_test_load(&r, CONF_MINIMAL "  headers:\n"
					"    client_cert: no\n"
					"    fingerprint: Client-Cert\n"
					"    not_after: ~\n");
	REQUIRE(r.conf);
	CHECK_STR(r.conf->headers.fingerprint, "Client-Cert");
	CHECK(!r.conf->headers.not_after);
	conf_test_done(&r);
}

TEST(conf_limits)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  limits:\n"
					"    request_line: 8x\n"
					"    header_bytes: 2m\n"
					"    header_count: 129\n"
					"    body_bytes: -1\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(conf_test_has(&r, 10, "guard.limits.request_line: \"8x\" is not a size (use 8192, 8k, 1m)"));
	CHECK(conf_test_has(&r, 11, "guard.limits.header_bytes: 2m is out of range (1k to 1m)"));
	CHECK(conf_test_has(&r, 12, "guard.limits.header_count: 129 is out of range (1 to 128)"));
	CHECK(conf_test_has(&r, 13, "guard.limits.body_bytes: \"-1\" is not a size (use 8192, 8k, 1m)"));
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  limits:\n"
					"    request_line: 16k\n"
					"    header_bytes: 16383\n"
					"    body_bytes: 10M\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 10, "guard.limits: request_line (16384 bytes) cannot exceed header_bytes (16383 bytes), which includes it"));
	conf_test_done(&r);
}

TEST(conf_scalars_misc)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "  workers: many\n"
					"  log_level: verbose\n"
					"  watch_files: sometimes\n"
					"  backend:\n"
					"    address: 127.0.0.1:9000\n");
	CHECK(!r.conf);
	CHECK(conf_test_has(&r, 9, "guard.workers: \"many\" is not an integer"));
	CHECK(conf_test_has(&r, 10, "guard.log_level: unknown level \"verbose\" (known: debug, info, warn, error)"));
	CHECK(conf_test_has(&r, 11, "guard.watch_files: \"sometimes\" is not a boolean (use true or false)"));
	CHECK(conf_test_has(&r, 12, "guard: duplicate key \"backend\""));
	CHECK_EQ_INT(r.errs.count, 4);
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  workers: 2000\n"
					"  log_level: warning\n"
					"  watch_files: On\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 9, "guard.workers: 2000 is out of range (0 to 1024)"));
	conf_test_done(&r);

	conf_test_load(&r, CONF_MINIMAL "  log_level: warning\n");
	REQUIRE(r.conf);
	CHECK_STR(r.conf->log_level, "warn");
	conf_test_done(&r);
}

TEST(conf_wrong_node_kinds)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen: {a: b}\n"
			   "  certificate: [a, b]\n"
			   "  key: k\n"
			   "  trust: {ca: {x: y}}\n"
			   "  backend: unix:/x\n"
			   "  ? [complex]\n"
			   "  : key\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(conf_test_has(&r, 2, "guard.listen: expected a single value, got a mapping"));
	CHECK(conf_test_has(&r, 3, "guard.certificate: expected a single value, got a list"));
	CHECK(conf_test_has(&r, 5, "guard.trust.ca: expected a single value, got a mapping"));
	CHECK(conf_test_has(&r, 6, "guard.backend: expected a mapping, got a value"));
	CHECK(conf_test_has(&r, 7, "guard: a key must be a plain name, got a list"));
	conf_test_done(&r);
}

TEST(conf_second_document)
{
	struct conf_run r;
	conf_test_load(&r, CONF_MINIMAL "---\n"
					"guard:\n"
					"  listen: 127.0.0.1:1\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 10, "only one YAML document is allowed in a configuration file"));
	conf_test_done(&r);
}

TEST(conf_anchors_and_nul)
{
	struct conf_run r;
	conf_test_load(&r, "guard:\n"
			   "  listen: &l 127.0.0.1:8443\n"
			   "  certificate: \"a\\0b\"\n"
			   "  key: k\n"
			   "  trust: {ca: c}\n"
			   "  backend: {address: *l}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(conf_test_has(&r, 3, "guard.certificate: the value contains a NUL byte"));
	conf_test_done(&r);
}
