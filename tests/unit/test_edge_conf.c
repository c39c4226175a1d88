/* Unit tests for the edge's configuration loader: every key, inheritance of
 * SSL mode, origin-pull certificate, CA bundle and visitor certificate,
 * default ports and SNI, every error with its exact file:line, and record
 * lookup. Each test writes its YAML to a fresh file under /tmp. */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/edge_conf.h"

struct edge_run {
	char path[64];
	struct edge_conf *conf;
	struct conf_errors errs;
};

static void edge_test_load(struct edge_run *r, const char *yaml)
{
	memset(r, 0, sizeof *r);
	strcpy(r->path, "/tmp/pullgate-edge-XXXXXX");
	int fd = mkstemp(r->path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	size_t len = strlen(yaml);
	if (write(fd, yaml, len) != (ssize_t)len)
		abort();
	close(fd);
	r->conf = edge_conf_load(r->path, &r->errs);
}

static void edge_test_done(struct edge_run *r)
{
	edge_conf_free(r->conf);
	conf_errors_free(&r->errs);
	unlink(r->path);
}

static void edge_test_dump(const struct edge_run *r)
{
	for (size_t i = 0; i < r->errs.count; i++)
		fprintf(stderr, "    got: %s\n", r->errs.msgs[i]);
}

/* True when errs holds exactly "path:line: msg". */
static bool edge_test_has(const struct edge_run *r, int line, const char *fmt, ...)
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
	edge_test_dump(r);
	return false;
}

/* Loads yaml, expects it to fail with exactly one error: line: msg. */
static bool edge_test_one_error(const char *yaml, int line, const char *msg)
{
	struct edge_run r;
	edge_test_load(&r, yaml);
	bool ok = !r.conf && r.errs.count == 1 && edge_test_has(&r, line, "%s", msg);
	if (!ok && r.errs.count != 1) {
		fprintf(stderr, "    wanted one error, got %zu:\n", r.errs.count);
		edge_test_dump(&r);
	}
	edge_test_done(&r);
	return ok;
}

/* Loads yaml, which must be valid; the caller frees with edge_test_done. */
static struct edge_conf *edge_test_ok(struct edge_run *r, const char *yaml)
{
	edge_test_load(r, yaml);
	if (!r->conf)
		edge_test_dump(r);
	return r->conf;
}

/* Lines 1-3: the edge with a listener and a global client certificate. */
#define EDGE_HEAD                                  \
	"edge:\n"                                  \
	"  listen: 127.0.0.1:8443\n"               \
	"  zones:\n"

#define EDGE_HEAD_GLOBAL                           \
	"edge:\n"                                  \
	"  listen: 127.0.0.1:8443\n"               \
	"  client_certificate:\n"                  \
	"    certificate: edge-client.pem\n"       \
	"    key: edge-client.key\n"               \
	"  origin_ca: edge-ca.pem\n"               \
	"  zones:\n"

static const char edge_full_yaml[] =
	"edge:\n"
	"  workers: 4\n"
	"  listen: [127.0.0.1:8443, \"[::1]:8443\"]\n"
	"  plain_listen: 127.0.0.1:8080\n"
	"  client_certificate:\n"
	"    certificate: edge-client.pem\n"
	"    key: /keys/edge-client.key\n"
	"  origin_ca: /etc/ssl/certs/ca-certificates.crt\n"
	"  connecting_ip_header: X-Real-IP\n"
	"  pool:\n"
	"    size: 8\n"
	"    idle_timeout: 90s\n"
	"  timeouts:\n"
	"    handshake: 5s\n"
	"    header: 20s\n"
	"    idle: 2m\n"
	"    body: 45s\n"
	"    grace: 0\n"
	"    origin_connect: 3s\n"
	"    origin_response: 2m\n"
	"  limits:\n"
	"    request_line: 4k\n"
	"    header_bytes: 64k\n"
	"    header_count: 50\n"
	"    body_bytes: 10m\n"
	"  log_level: warning\n"
	"  watch_files: false\n"
	"  zones:\n"
	"    - name: Example.COM\n"
	"      certificate: example.pem\n"
	"      key: example.key\n"
	"      ssl: strict\n"
	"      origin_pull: zone\n"
	"      client_certificate:\n"
	"        certificate: zone-client.pem\n"
	"        key: zone-client.key\n"
	"      origin_ca: origin-ca.pem\n"
	"      always_https: true\n"
	"      error_codes: cloudflare\n"
	"      records:\n"
	"        - name: www.example.com\n"
	"          origin: 127.0.0.1:9443\n"
	"          proxied: true\n"
	"          origin_sni: origin.example.com\n"
	"          origin_pull: hostname\n"
	"          client_certificate:\n"
	"            certificate: www-client.pem\n"
	"            key: www-client.key\n"
	"          certificate: www.pem\n"
	"          key: www.key\n"
	"        - name: \"*.example.com\"\n"
	"          origin: origin.example.net\n"
	"        - name: dns.example.com\n"
	"          origin: 192.0.2.10\n"
	"          proxied: false\n"
	"          origin_pull: off\n"
	"    - name: example.org\n"
	"      ssl: flexible\n"
	"      certificate: org.pem\n"
	"      key: org.key\n"
	"      records:\n"
	"        - name: example.org\n"
	"          origin: \"[2001:db8::1]\"\n"
	"guard:\n"
	"  anything: [goes, here]\n";

TEST(edge_conf_full_config)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, edge_full_yaml);
	REQUIRE(c);
	CHECK_STR(c->file, r.path);
	CHECK_EQ_INT(c->workers, 4);
	REQUIRE(c->listen_count == 2);
	CHECK_STR(c->listen[0].host, "127.0.0.1");
	CHECK_EQ_INT(c->listen[0].port, 8443);
	CHECK_STR(c->listen[1].host, "::1");
	CHECK_EQ_INT(c->listen[1].line, 3);
	REQUIRE(c->plain_count == 1);
	CHECK_EQ_INT(c->plain[0].port, 8080);
	CHECK(c->has_global_client_cert);
	CHECK_STR(c->global_client_cert.certificate, "/tmp/edge-client.pem");
	CHECK_STR(c->global_client_cert.key, "/keys/edge-client.key");
	CHECK_EQ_INT(c->global_client_cert.line, 6);
	CHECK_STR(c->origin_ca, "/etc/ssl/certs/ca-certificates.crt");
	CHECK_STR(c->connecting_ip_header, "X-Real-IP");
	CHECK_EQ_INT(c->pool.size, 8);
	CHECK_EQ_INT(c->pool.idle_timeout_ms, 90000);
	CHECK_EQ_INT(c->timeouts.handshake_ms, 5000);
	CHECK_EQ_INT(c->timeouts.header_ms, 20000);
	CHECK_EQ_INT(c->timeouts.idle_ms, 120000);
	CHECK_EQ_INT(c->timeouts.body_ms, 45000);
	CHECK_EQ_INT(c->timeouts.grace_ms, 0);
	CHECK_EQ_INT(c->timeouts.origin_connect_ms, 3000);
	CHECK_EQ_INT(c->timeouts.origin_response_ms, 120000);
	CHECK_EQ_INT(c->limits.request_line, 4096);
	CHECK_EQ_INT(c->limits.header_bytes, 65536);
	CHECK_EQ_INT(c->limits.header_count, 50);
	CHECK_EQ_INT(c->limits.body_bytes, 10 << 20);
	CHECK_STR(c->log_level, "warn");
	CHECK(!c->watch_files);

	REQUIRE(c->zone_count == 2);
	struct edge_zone *z = &c->zones[0];
	CHECK_STR(z->name, "example.com");
	CHECK_EQ_INT(z->line, 29);
	CHECK_STR(z->visitor_cert.certificate, "/tmp/example.pem");
	CHECK_STR(z->visitor_cert.key, "/tmp/example.key");
	CHECK_EQ_INT(z->visitor_cert.line, 30);
	CHECK_EQ_INT(z->ssl, SSL_MODE_STRICT);
	CHECK_EQ_INT(z->pull, ORIGIN_PULL_ZONE);
	CHECK_STR(z->client_cert.certificate, "/tmp/zone-client.pem");
	CHECK_STR(z->client_cert.key, "/tmp/zone-client.key");
	CHECK_EQ_INT(z->client_cert.line, 35);
	CHECK_STR(z->origin_ca, "/tmp/origin-ca.pem");
	CHECK(z->always_https);
	CHECK_EQ_INT(z->error_codes, ERROR_CODES_CLOUDFLARE);
	REQUIRE(z->record_count == 3);

	struct edge_record *w = &z->records[0];
	CHECK(w->zone == z);
	CHECK_STR(w->name, "www.example.com");
	CHECK_EQ_INT(w->line, 41);
	CHECK(w->proxied);
	CHECK_STR(w->origin.host, "127.0.0.1");
	CHECK_EQ_INT(w->origin.port, 9443);
	CHECK_STR(w->origin_sni, "origin.example.com");
	CHECK_EQ_INT(w->ssl, SSL_MODE_STRICT);
	CHECK_EQ_INT(w->pull, ORIGIN_PULL_HOSTNAME);
	CHECK(w->client_cert == &w->own_client_cert);
	CHECK_STR(w->own_client_cert.certificate, "/tmp/www-client.pem");
	CHECK_STR(w->own_client_cert.key, "/tmp/www-client.key");
	CHECK(w->visitor_cert == &w->own_visitor_cert);
	CHECK_STR(w->own_visitor_cert.certificate, "/tmp/www.pem");
	CHECK_STR(w->own_visitor_cert.key, "/tmp/www.key");
	CHECK(w->origin_ca == z->origin_ca);

	struct edge_record *star = &z->records[1];
	CHECK_STR(star->name, "*.example.com");
	CHECK_STR(star->origin.host, "origin.example.net");
	CHECK_EQ_INT(star->origin.port, 443);
	CHECK_STR(star->origin_sni, "origin.example.net");
	CHECK_EQ_INT(star->pull, ORIGIN_PULL_ZONE);
	CHECK(star->client_cert == &z->client_cert);
	CHECK(star->visitor_cert == &z->visitor_cert);

	struct edge_record *dns = &z->records[2];
	CHECK(!dns->proxied);
	CHECK_STR(dns->origin.host, "192.0.2.10");
	CHECK_EQ_INT(dns->origin.port, 443);
	CHECK(!dns->origin_sni);
	CHECK_EQ_INT(dns->pull, ORIGIN_PULL_OFF);
	CHECK(!dns->client_cert);

	struct edge_zone *org = &c->zones[1];
	CHECK_STR(org->name, "example.org");
	CHECK_EQ_INT(org->ssl, SSL_MODE_FLEXIBLE);
	CHECK_EQ_INT(org->pull, ORIGIN_PULL_OFF);
	CHECK(!org->always_https);
	CHECK_EQ_INT(org->error_codes, ERROR_CODES_STANDARD);
	REQUIRE(org->record_count == 1);
	struct edge_record *apex = &org->records[0];
	CHECK_STR(apex->origin.host, "2001:db8::1");
	CHECK_EQ_INT(apex->origin.port, 80);
	CHECK(!apex->origin_sni);
	CHECK_EQ_INT(apex->ssl, SSL_MODE_FLEXIBLE);
	CHECK(!apex->client_cert);
	CHECK_STR(apex->origin_ca, "/etc/ssl/certs/ca-certificates.crt");
	CHECK(apex->visitor_cert == &org->visitor_cert);
	edge_test_done(&r);
}

TEST(edge_conf_defaults)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, "edge:\n  listen: 0.0.0.0:443\n");
	REQUIRE(c);
	CHECK_EQ_INT(c->workers, 0);
	CHECK_EQ_INT(c->listen_count, 1);
	CHECK_EQ_INT(c->plain_count, 0);
	CHECK(!c->has_global_client_cert);
	CHECK(!c->global_client_cert.certificate && !c->global_client_cert.line);
	CHECK(!c->origin_ca);
	CHECK_STR(c->connecting_ip_header, "CF-Connecting-IP");
	CHECK_EQ_INT(c->pool.size, 32);
	CHECK_EQ_INT(c->pool.idle_timeout_ms, 60000);
	CHECK_EQ_INT(c->timeouts.handshake_ms, 10000);
	CHECK_EQ_INT(c->timeouts.header_ms, 15000);
	CHECK_EQ_INT(c->timeouts.idle_ms, 60000);
	CHECK_EQ_INT(c->timeouts.body_ms, 30000);
	CHECK_EQ_INT(c->timeouts.grace_ms, 10000);
	CHECK_EQ_INT(c->timeouts.origin_connect_ms, 5000);
	CHECK_EQ_INT(c->timeouts.origin_response_ms, 60000);
	CHECK_EQ_INT(c->limits.request_line, 8192);
	CHECK_EQ_INT(c->limits.header_bytes, 32768);
	CHECK_EQ_INT(c->limits.header_count, 100);
	CHECK_EQ_INT(c->limits.body_bytes, 0);
	CHECK_STR(c->log_level, "info");
	CHECK(c->watch_files);
	CHECK_EQ_INT(c->zone_count, 0);
	CHECK(!edge_conf_find_record(c, "www.example.com", 15));
	edge_test_done(&r);

	/* A zone's defaults: full, no pulls, standard errors, no redirect. */
	c = edge_test_ok(&r, EDGE_HEAD "    - name: example.com\n"
					"      certificate: z.pem\n"
					"      key: z.key\n"
					"      records:\n"
					"        - name: example.com\n"
					"          origin: origin.example.com\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 1 && c->zones[0].record_count == 1);
	CHECK_EQ_INT(c->zones[0].ssl, SSL_MODE_FULL);
	CHECK_EQ_INT(c->zones[0].pull, ORIGIN_PULL_OFF);
	CHECK_EQ_INT(c->zones[0].error_codes, ERROR_CODES_STANDARD);
	CHECK(!c->zones[0].always_https);
	CHECK(!c->zones[0].origin_ca);
	const struct edge_record *rec = &c->zones[0].records[0];
	CHECK(rec->proxied);
	CHECK_EQ_INT(rec->ssl, SSL_MODE_FULL);
	CHECK_EQ_INT(rec->pull, ORIGIN_PULL_OFF);
	CHECK(!rec->client_cert);
	CHECK(!rec->origin_ca);
	CHECK_EQ_INT(rec->origin.port, 443);
	CHECK_STR(rec->origin_sni, "origin.example.com");
	edge_test_done(&r);
}

TEST(edge_conf_no_edge_section)
{
	CHECK(edge_test_one_error("guard:\n  listen: 127.0.0.1:8443\n", 1, "no edge section"));
	CHECK(edge_test_one_error("# comment\n\nguard: {}\n", 1, "no edge section"));
	CHECK(edge_test_one_error("", 1, "no edge section"));
	CHECK(edge_test_one_error("- edge\n", 1,
				  "expected a mapping with an edge section at the top level, got a list"));
	CHECK(edge_test_one_error("\nedge:\n", 2, "edge: expected a mapping, got nothing"));

	struct edge_run r;
	edge_test_load(&r, "edge: [\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(r.errs.count == 1 && strstr(r.errs.msgs[0], "YAML syntax error"));
	edge_test_done(&r);

	memset(&r, 0, sizeof r);
	CHECK(!edge_conf_load("/nonexistent/pullgate-edge.yaml", &r.errs));
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(r.errs.count == 1 &&
	      !strcmp(r.errs.msgs[0], "/nonexistent/pullgate-edge.yaml: No such file or directory"));
	conf_errors_free(&r.errs);
}

TEST(edge_conf_top_level_keys)
{
	/* The guard section is the guard's business: not read here. */
	struct edge_run r;
	CHECK(edge_test_ok(&r, "guard:\n  lisen: nonsense\nedge:\n  listen: 127.0.0.1:443\n"));
	edge_test_done(&r);

	edge_test_load(&r, "edge:\n"
			   "  listen: 127.0.0.1:443\n"
			   "  lisen: 127.0.0.1:444\n"
			   "egde:\n"
			   "  listen: x\n"
			   "guard: {}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 2);
	CHECK(edge_test_has(&r, 4, "unknown top-level key \"egde\""));
	CHECK(edge_test_has(&r, 3, "edge: unknown key \"lisen\""));
	edge_test_done(&r);
}

TEST(edge_conf_inherit_global)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD_GLOBAL
					   "    - name: example.com\n"
					   "      origin_pull: global\n"
					   "      certificate: z.pem\n"
					   "      key: z.key\n"
					   "      records:\n"
					   "        - name: www.example.com\n"
					   "          origin: 10.0.0.1\n"
					   "          origin_pull: inherit\n"
					   "        - name: api.example.com\n"
					   "          origin: 10.0.0.2:8443\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 1 && c->zones[0].record_count == 2);
	CHECK_EQ_INT(c->zones[0].pull, ORIGIN_PULL_GLOBAL);
	for (size_t i = 0; i < 2; i++) {
		const struct edge_record *rec = &c->zones[0].records[i];
		CHECK_EQ_INT(rec->pull, ORIGIN_PULL_GLOBAL);
		CHECK(rec->client_cert == &c->global_client_cert);
		CHECK_STR(rec->client_cert->certificate, "/tmp/edge-client.pem");
		CHECK_STR(rec->client_cert->key, "/tmp/edge-client.key");
	}
	edge_test_done(&r);
}

TEST(edge_conf_inherit_zone_and_off)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD_GLOBAL
					   "    - name: example.com\n"
					   "      origin_pull: zone\n"
					   "      client_certificate: {certificate: zc.pem, key: zc.key}\n"
					   "      certificate: z.pem\n"
					   "      key: z.key\n"
					   "      records:\n"
					   "        - name: www.example.com\n"
					   "          origin: 10.0.0.1\n"
					   "        - name: legacy.example.com\n"
					   "          origin: 10.0.0.2\n"
					   "          origin_pull: off\n"
					   "    - name: example.net\n"
					   "      origin_pull: global\n"
					   "      certificate: n.pem\n"
					   "      key: n.key\n"
					   "      records:\n"
					   "        - name: www.example.net\n"
					   "          origin: 10.0.0.3\n"
					   "          origin_pull: off\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 2);
	const struct edge_zone *z = &c->zones[0];
	REQUIRE(z->record_count == 2);
	CHECK_EQ_INT(z->records[0].pull, ORIGIN_PULL_ZONE);
	CHECK(z->records[0].client_cert == &z->client_cert);
	CHECK_STR(z->records[0].client_cert->certificate, "/tmp/zc.pem");
	CHECK_EQ_INT(z->client_cert.line, 10);
	CHECK_EQ_INT(z->records[1].pull, ORIGIN_PULL_OFF);
	CHECK(!z->records[1].client_cert);
	REQUIRE(c->zones[1].record_count == 1);
	CHECK_EQ_INT(c->zones[1].records[0].pull, ORIGIN_PULL_OFF);
	CHECK(!c->zones[1].records[0].client_cert);
	edge_test_done(&r);
}

TEST(edge_conf_origin_ca_inheritance)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD_GLOBAL
					   "    - name: a.test\n"
					   "      ssl: strict\n"
					   "      origin_ca: zone-ca.pem\n"
					   "      certificate: a.pem\n"
					   "      key: a.key\n"
					   "      records: [{name: a.test, origin: 10.0.0.1}]\n"
					   "    - name: b.test\n"
					   "      ssl: strict\n"
					   "      certificate: b.pem\n"
					   "      key: b.key\n"
					   "      records: [{name: b.test, origin: 10.0.0.2}]\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 2);
	REQUIRE(c->zones[0].record_count == 1 && c->zones[1].record_count == 1);
	CHECK_STR(c->zones[0].records[0].origin_ca, "/tmp/zone-ca.pem");
	CHECK(c->zones[0].records[0].origin_ca == c->zones[0].origin_ca);
	CHECK_STR(c->zones[1].records[0].origin_ca, "/tmp/edge-ca.pem");
	CHECK(c->zones[1].records[0].origin_ca == c->origin_ca);
	edge_test_done(&r);

	/* Neither: the system bundle. */
	c = edge_test_ok(&r, EDGE_HEAD "    - name: a.test\n"
					"      ssl: strict\n"
					"      certificate: a.pem\n"
					"      key: a.key\n"
					"      records: [{name: a.test, origin: 10.0.0.1}]\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 1 && c->zones[0].record_count == 1);
	CHECK(!c->zones[0].records[0].origin_ca);
	edge_test_done(&r);
}

TEST(edge_conf_visitor_cert_inheritance)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD
					   "    - name: example.com\n"
					   "      certificate: wild.pem\n"
					   "      key: wild.key\n"
					   "      records:\n"
					   "        - name: www.example.com\n"
					   "          origin: 10.0.0.1\n"
					   "          certificate: www.pem\n"
					   "          key: www.key\n"
					   "        - name: api.example.com\n"
					   "          origin: 10.0.0.2\n"
					   "    - name: example.net\n"
					   "      records:\n"
					   "        - name: gray.example.net\n"
					   "          origin: 10.0.0.3\n"
					   "          proxied: false\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 2 && c->zones[0].record_count == 2);
	const struct edge_zone *z = &c->zones[0];
	CHECK(z->records[0].visitor_cert == &z->records[0].own_visitor_cert);
	CHECK_STR(z->records[0].visitor_cert->certificate, "/tmp/www.pem");
	CHECK_EQ_INT(z->records[0].own_visitor_cert.line, 10);
	CHECK(z->records[1].visitor_cert == &z->visitor_cert);
	CHECK_STR(z->records[1].visitor_cert->key, "/tmp/wild.key");
	/* A DNS-only record needs none, and has none. */
	REQUIRE(c->zones[1].record_count == 1);
	CHECK(!c->zones[1].records[0].visitor_cert);
	CHECK(!c->zones[1].visitor_cert.line);
	edge_test_done(&r);
}

TEST(edge_conf_default_ports)
{
	static const struct {
		const char *ssl, *origin;
		int port;
	} cases[] = {
		{ "off", "origin.test", 80 },        { "flexible", "origin.test", 80 },
		{ "full", "origin.test", 443 },      { "strict", "origin.test", 443 },
		{ "off", "origin.test:8080", 8080 }, { "strict", "10.0.0.1:8443", 8443 },
		{ "full", "\"[::1]\"", 443 },        { "flexible", "\"[::1]:81\"", 81 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char yaml[512];
		snprintf(yaml, sizeof yaml,
			 EDGE_HEAD "    - name: example.com\n"
				   "      ssl: %s\n"
				   "      certificate: z.pem\n"
				   "      key: z.key\n"
				   "      records: [{name: example.com, origin: %s}]\n",
			 cases[i].ssl, cases[i].origin);
		struct edge_run r;
		struct edge_conf *c = edge_test_ok(&r, yaml);
		CHECK(c);
		if (c && c->zone_count == 1 && c->zones[0].record_count == 1)
			CHECK_EQ_INT(c->zones[0].records[0].origin.port, cases[i].port);
		edge_test_done(&r);
	}
}

TEST(edge_conf_origin_sni)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD
					   "    - name: example.com\n"
					   "      certificate: z.pem\n"
					   "      key: z.key\n"
					   "      records:\n"
					   "        - {name: a.example.com, origin: \"Origin.Example.NET:8443\"}\n"
					   "        - {name: b.example.com, origin: 192.0.2.1}\n"
					   "        - {name: c.example.com, origin: \"[2001:db8::2]:443\"}\n"
					   "        - {name: d.example.com, origin: 192.0.2.1, origin_sni: Backend.Example.com}\n");
	REQUIRE(c);
	REQUIRE(c->zones[0].record_count == 4);
	const struct edge_record *rec = c->zones[0].records;
	CHECK_STR(rec[0].origin_sni, "Origin.Example.NET");
	CHECK(!rec[1].origin_sni);
	CHECK(!rec[2].origin_sni);
	CHECK_STR(rec[3].origin_sni, "backend.example.com");
	edge_test_done(&r);
}

TEST(edge_conf_pull_without_tls)
{
	/* Asked for by the zone: reported once, at the zone's origin_pull,
	 * whether or not its records inherit it. */
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD_GLOBAL "    - name: example.com\n"
					    "      ssl: flexible\n"
					    "      origin_pull: global\n"
					    "      certificate: z.pem\n"
					    "      key: z.key\n"
					    "      records:\n"
					    "        - name: off.example.com\n"
					    "          origin: 10.0.0.1\n"
					    "          origin_pull: off\n"
					    "        - name: www.example.com\n"
					    "          origin: 10.0.0.2\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 1);
	CHECK(edge_test_has(&r, 10,
			    "edge.zones[0]: origin_pull needs ssl full or strict: there is "
			    "no TLS to the origin to authenticate"));
	edge_test_done(&r);

	/* The record's own hostname pull: reported at its origin_pull. */
	CHECK(edge_test_one_error(EDGE_HEAD "    - name: example.com\n"
					    "      ssl: off\n"
					    "      certificate: z.pem\n"
					    "      key: z.key\n"
					    "      records:\n"
					    "        - name: www.example.com\n"
					    "          origin: 10.0.0.1\n"
					    "          origin_pull: hostname\n"
					    "          client_certificate:\n"
					    "            certificate: c.pem\n"
					    "            key: c.key\n",
				  11,
				  "edge.zones[0].records[0]: origin_pull needs ssl full or strict: there "
				  "is no TLS to the origin to authenticate"));
}

TEST(edge_conf_pull_certificates_missing)
{
	/* global without the edge's certificate */
	CHECK(edge_test_one_error(EDGE_HEAD "    - name: example.com\n"
					    "      origin_pull: global\n"
					    "      certificate: z.pem\n"
					    "      key: z.key\n",
				  5, "edge.zones[0]: origin_pull: global needs edge.client_certificate"));
	/* zone without the zone's */
	CHECK(edge_test_one_error(EDGE_HEAD_GLOBAL "    - name: example.com\n"
						   "      certificate: z.pem\n"
						   "      key: z.key\n"
						   "      origin_pull: zone\n",
				  11, "edge.zones[0]: origin_pull: zone needs the zone's client_certificate"));
	/* hostname without the record's */
	CHECK(edge_test_one_error(EDGE_HEAD_GLOBAL "    - name: example.com\n"
						   "      certificate: z.pem\n"
						   "      key: z.key\n"
						   "      origin_pull: global\n"
						   "      records:\n"
						   "        - name: www.example.com\n"
						   "          origin: 10.0.0.1\n"
						   "          origin_pull: hostname\n",
				  15,
				  "edge.zones[0].records[0]: origin_pull: hostname needs the record's "
				  "client_certificate"));
}

TEST(edge_conf_unused_settings)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - name: example.com\n"
				     "      ssl: full\n"
				     "      origin_ca: ca.pem\n"
				     "      client_certificate: {certificate: c.pem, key: c.key}\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - name: www.example.com\n"
				     "          origin: 10.0.0.1\n"
				     "          client_certificate: {certificate: w.pem, key: w.key}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 3);
	CHECK(edge_test_has(&r, 6, "edge.zones[0]: origin_ca is only used with ssl: strict"));
	CHECK(edge_test_has(&r, 7, "edge.zones[0]: client_certificate is only used with origin_pull: zone"));
	CHECK(edge_test_has(&r, 13,
			    "edge.zones[0].records[0]: client_certificate is only used with "
			    "origin_pull: hostname"));
	edge_test_done(&r);
}

TEST(edge_conf_proxied_without_visitor_cert)
{
	CHECK(edge_test_one_error(EDGE_HEAD "    - name: example.com\n"
					    "      records:\n"
					    "        - name: gray.example.com\n"
					    "          origin: 10.0.0.1\n"
					    "          proxied: false\n"
					    "        - name: www.example.com\n"
					    "          origin: 10.0.0.2\n",
				  9,
				  "edge.zones[0].records[1]: a proxied record needs a visitor certificate "
				  "(give certificate and key on the record or its zone)"));
}

TEST(edge_conf_record_names)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - name: example.com\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - {name: www.example.org, origin: 10.0.0.1}\n"
				     "        - {name: badexample.com, origin: 10.0.0.1}\n"
				     "        - {name: \"*.example.com\", origin: 10.0.0.1}\n"
				     "        - {name: \"*.*.example.com\", origin: 10.0.0.1}\n"
				     "        - {name: \"www..example.com\", origin: 10.0.0.1}\n"
				     "    - name: \"*.example.net\"\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(edge_test_has(&r, 8, "edge.zones[0].records[0].name: \"www.example.org\" is not inside zone \"example.com\""));
	CHECK(edge_test_has(&r, 9, "edge.zones[0].records[1].name: \"badexample.com\" is not inside zone \"example.com\""));
	CHECK(edge_test_has(&r, 11, "edge.zones[0].records[3].name: \"*.*.example.com\" is not a hostname pattern (use name.example.com or *.example.com)"));
	CHECK(edge_test_has(&r, 12, "edge.zones[0].records[4].name: \"www..example.com\" is not a hostname pattern (use name.example.com or *.example.com)"));
	CHECK(edge_test_has(&r, 13, "edge.zones[1].name: \"*.example.net\" is not a hostname"));
	edge_test_done(&r);
}

TEST(edge_conf_duplicate_names)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - name: example.com\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - {name: www.example.com, origin: 10.0.0.1}\n"
				     "        - {name: WWW.example.com, origin: 10.0.0.2}\n"
				     "    - name: sub.example.com\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - {name: a.sub.example.com, origin: 10.0.0.1}\n"
				     "    - name: Example.com\n"
				     "      records:\n"
				     "        - {name: a.sub.example.com, origin: 10.0.0.1, proxied: false}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 3);
	CHECK(edge_test_has(&r, 9, "edge.zones[0].records[1].name: \"www.example.com\" is already given in edge.zones[0].records[0]"));
	CHECK(edge_test_has(&r, 15, "edge.zones[2].name: zone \"example.com\" is already given in edge.zones[0]"));
	CHECK(edge_test_has(&r, 17, "edge.zones[2].records[0].name: \"a.sub.example.com\" is already given in edge.zones[1].records[0]"));
	edge_test_done(&r);
}

TEST(edge_conf_cert_key_pairs)
{
	struct edge_run r;
	edge_test_load(&r, "edge:\n"
			   "  listen: 127.0.0.1:8443\n"
			   "  client_certificate:\n"
			   "    certificate: c.pem\n"
			   "  zones:\n"
			   "    - name: example.com\n"
			   "      certificate: z.pem\n"
			   "      origin_pull: zone\n"
			   "      client_certificate: {}\n"
			   "      records:\n"
			   "        - name: www.example.com\n"
			   "          origin: 10.0.0.1\n"
			   "          key: w.key\n"
			   "          origin_pull: hostname\n"
			   "          client_certificate: w-client.pem\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(edge_test_has(&r, 4, "edge.client_certificate: certificate given without key"));
	CHECK(edge_test_has(&r, 7, "edge.zones[0]: certificate given without key"));
	CHECK(edge_test_has(&r, 9, "edge.zones[0].client_certificate: needs certificate and key"));
	CHECK(edge_test_has(&r, 13, "edge.zones[0].records[0]: key given without certificate"));
	CHECK(edge_test_has(&r, 15, "edge.zones[0].records[0].client_certificate: expected a mapping, got a value"));
	edge_test_done(&r);

	CHECK(edge_test_one_error("edge:\n"
				  "  listen: 127.0.0.1:8443\n"
				  "  client_certificate:\n"
				  "    certificate: c.pem\n"
				  "    key: c.key\n"
				  "    chain: x.pem\n",
				  6, "edge.client_certificate: unknown key \"chain\""));
	CHECK(edge_test_one_error("edge:\n"
				  "  listen: 127.0.0.1:8443\n"
				  "  client_certificate:\n"
				  "    certificate: c.pem\n"
				  "    key: \"\"\n",
				  5, "edge.client_certificate.key: no value given"));
}

TEST(edge_conf_unknown_values)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - name: example.com\n"
				     "      ssl: Full\n"
				     "      origin_pull: hostname\n"
				     "      error_codes: nginx\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - name: www.example.com\n"
				     "          origin: 10.0.0.1\n"
				     "          origin_pull: zone\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(edge_test_has(&r, 5, "edge.zones[0].ssl: unknown mode \"Full\" (known: off, flexible, full, strict)"));
	CHECK(edge_test_has(&r, 6, "edge.zones[0].origin_pull: unknown value \"hostname\" (known: off, global, zone)"));
	CHECK(edge_test_has(&r, 7, "edge.zones[0].error_codes: unknown value \"nginx\" (known: standard, cloudflare)"));
	CHECK(edge_test_has(&r, 13, "edge.zones[0].records[0].origin_pull: unknown value \"zone\" (known: inherit, off, hostname)"));
	edge_test_done(&r);
}

TEST(edge_conf_listeners)
{
	CHECK(edge_test_one_error("edge:\n  workers: 2\n", 2, "edge: missing required key \"listen\""));
	CHECK(edge_test_one_error("edge:\n  listen: []\n", 2, "edge.listen: at least one address is required"));

	struct edge_run r;
	edge_test_load(&r, "edge:\n"
			   "  listen:\n"
			   "    - 127.0.0.1:8443\n"
			   "    - unix:/run/edge.sock\n"
			   "    - 127.0.0.1:70000\n"
			   "  plain_listen:\n"
			   "    - 127.0.0.1:8080\n"
			   "    - 127.0.0.1:8443\n"
			   "    - 127.0.0.1:8080\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(edge_test_has(&r, 4, "edge.listen[1]: a listener needs host:port; unix: sockets are not supported"));
	CHECK(edge_test_has(&r, 5, "edge.listen[2]: port 70000 is out of range"));
	CHECK(edge_test_has(&r, 8, "edge.plain_listen[1]: 127.0.0.1:8443 is already given in edge.listen[0]"));
	CHECK(edge_test_has(&r, 9, "edge.plain_listen[2]: 127.0.0.1:8080 is already given in edge.plain_listen[0]"));
	edge_test_done(&r);
}

TEST(edge_conf_records_need_name_and_origin)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - origin: 10.0.0.1\n"
				     "        - name: www.example.com\n"
				     "        - www.example.com\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 4);
	CHECK(edge_test_has(&r, 4, "edge.zones[0]: missing required key \"name\""));
	CHECK(edge_test_has(&r, 7, "edge.zones[0].records[0]: missing required key \"name\""));
	CHECK(edge_test_has(&r, 8, "edge.zones[0].records[1]: missing required key \"origin\""));
	CHECK(edge_test_has(&r, 9, "edge.zones[0].records[2]: expected a mapping, got a value"));
	edge_test_done(&r);
}

TEST(edge_conf_origin_errors)
{
	struct edge_run r;
	edge_test_load(&r, EDGE_HEAD "    - name: example.com\n"
				     "      certificate: z.pem\n"
				     "      key: z.key\n"
				     "      records:\n"
				     "        - {name: a.example.com, origin: \"unix:/run/app.sock\"}\n"
				     "        - {name: b.example.com, origin: \"origin.test:\"}\n"
				     "        - {name: c.example.com, origin: \"::1\"}\n"
				     "        - {name: d.example.com, origin: \"bad_name\"}\n"
				     "        - {name: e.example.com, origin: 10.0.0.1, origin_sni: 10.0.0.1}\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 5);
	CHECK(edge_test_has(&r, 8, "edge.zones[0].records[0].origin: an origin is host or host:port; unix: sockets are not supported"));
	CHECK(edge_test_has(&r, 9, "edge.zones[0].records[1].origin: no port number after the colon"));
	CHECK(edge_test_has(&r, 10, "edge.zones[0].records[2].origin: an IPv6 address needs brackets, as in \"[::1]:8443\""));
	CHECK(edge_test_has(&r, 11, "edge.zones[0].records[3].origin: \"bad_name\" is not a hostname or IP address"));
	CHECK(edge_test_has(&r, 12, "edge.zones[0].records[4].origin_sni: \"10.0.0.1\" is an IP address; SNI carries only names (leave origin_sni out to send none)"));
	edge_test_done(&r);
}

TEST(edge_conf_connecting_ip_header)
{
	static const char *const off[] = { "\"\"", "false", "off", "~" };
	for (size_t i = 0; i < 4; i++) {
		char yaml[128];
		snprintf(yaml, sizeof yaml, "edge:\n  listen: 127.0.0.1:443\n  connecting_ip_header: %s\n",
			 off[i]);
		struct edge_run r;
		struct edge_conf *c = edge_test_ok(&r, yaml);
		CHECK(c && !c->connecting_ip_header);
		edge_test_done(&r);
	}
	struct edge_run r;
	struct edge_conf *c =
		edge_test_ok(&r, "edge:\n  listen: 127.0.0.1:443\n  connecting_ip_header: true\n");
	CHECK(c && c->connecting_ip_header && !strcmp(c->connecting_ip_header, "CF-Connecting-IP"));
	edge_test_done(&r);

	CHECK(edge_test_one_error("edge:\n  listen: 127.0.0.1:443\n  connecting_ip_header: X Real IP\n", 3,
				  "edge.connecting_ip_header: \"X Real IP\" is not a valid header name"));
	CHECK(edge_test_one_error("edge:\n  listen: 127.0.0.1:443\n  connecting_ip_header: Host\n", 3,
				  "edge.connecting_ip_header: \"Host\" cannot carry the visitor's address "
				  "(it carries HTTP framing or routing)"));
	CHECK(edge_test_one_error("edge:\n  listen: 127.0.0.1:443\n  connecting_ip_header: [a]\n", 3,
				  "edge.connecting_ip_header: expected a single value, got a list"));
}

TEST(edge_conf_scalars_and_ranges)
{
	struct edge_run r;
	edge_test_load(&r, "edge:\n"
			   "  listen: 127.0.0.1:443\n"
			   "  workers: many\n"
			   "  log_level: verbose\n"
			   "  watch_files: maybe\n"
			   "  pool:\n"
			   "    size: -1\n"
			   "    idle_timeout: 50ms\n"
			   "    max: 3\n"
			   "  timeouts:\n"
			   "    handshake: 10m\n"
			   "    grace: 2h\n"
			   "    origin_connect: 10x\n"
			   "    origin_response: 25h\n"
			   "  limits:\n"
			   "    header_count: 129\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 11);
	CHECK(edge_test_has(&r, 3, "edge.workers: \"many\" is not an integer"));
	CHECK(edge_test_has(&r, 4, "edge.log_level: unknown level \"verbose\" (known: debug, info, warn, error)"));
	CHECK(edge_test_has(&r, 5, "edge.watch_files: \"maybe\" is not a boolean (use true or false)"));
	CHECK(edge_test_has(&r, 7, "edge.pool.size: -1 is out of range (0 to 100000)"));
	CHECK(edge_test_has(&r, 8, "edge.pool.idle_timeout: 50ms is out of range (100ms to 1h)"));
	CHECK(edge_test_has(&r, 9, "edge.pool: unknown key \"max\""));
	CHECK(edge_test_has(&r, 11, "edge.timeouts.handshake: 10m is out of range (100ms to 5m)"));
	CHECK(edge_test_has(&r, 12, "edge.timeouts.grace: 2h is out of range (0s to 1h)"));
	CHECK(edge_test_has(&r, 13, "edge.timeouts.origin_connect: \"10x\" is not a duration (use 500ms, 10s, 2m)"));
	CHECK(edge_test_has(&r, 14, "edge.timeouts.origin_response: 25h is out of range (100ms to 24h)"));
	CHECK(edge_test_has(&r, 16, "edge.limits.header_count: 129 is out of range (1 to 128)"));
	edge_test_done(&r);

	CHECK(edge_test_one_error("edge:\n"
				  "  listen: 127.0.0.1:443\n"
				  "  limits:\n"
				  "    request_line: 16k\n"
				  "    header_bytes: 8k\n",
				  4,
				  "edge.limits: request_line (16384 bytes) cannot exceed header_bytes "
				  "(8192 bytes), which includes it"));
}

TEST(edge_conf_empty_zones)
{
	static const char *const yamls[] = {
		"edge:\n  listen: 127.0.0.1:443\n  zones: []\n",
		"edge:\n  listen: 127.0.0.1:443\n  zones:\n",
		"edge:\n  listen: 127.0.0.1:443\n  zones:\n    - name: example.com\n",
		"edge:\n  listen: 127.0.0.1:443\n  zones:\n    - name: example.com\n      records: []\n",
	};
	for (size_t i = 0; i < 4; i++) {
		struct edge_run r;
		struct edge_conf *c = edge_test_ok(&r, yamls[i]);
		CHECK(c);
		CHECK_EQ_INT(r.errs.count, 0);
		if (c && c->zone_count)
			CHECK_EQ_INT(c->zones[0].record_count, 0);
		edge_test_done(&r);
	}
}

TEST(edge_conf_many_errors_at_once)
{
	struct edge_run r;
	edge_test_load(&r, "edge:\n"
			   "  listen: 127.0.0.1:99999\n"
			   "  timeouts:\n"
			   "    idle: forever\n"
			   "  zones:\n"
			   "    - name: example.com\n"
			   "      ssl: off\n"
			   "      origin_pull: global\n"
			   "      records:\n"
			   "        - name: www.example.org\n"
			   "          origin: 10.0.0.1\n"
			   "          colour: orange\n");
	CHECK(!r.conf);
	CHECK_EQ_INT(r.errs.count, 7);
	CHECK(edge_test_has(&r, 2, "edge.listen: port 99999 is out of range"));
	CHECK(edge_test_has(&r, 4, "edge.timeouts.idle: \"forever\" is not a duration (use 500ms, 10s, 2m)"));
	CHECK(edge_test_has(&r, 8, "edge.zones[0]: origin_pull: global needs edge.client_certificate"));
	CHECK(edge_test_has(&r, 12, "edge.zones[0].records[0]: unknown key \"colour\""));
	CHECK(edge_test_has(&r, 10, "edge.zones[0].records[0].name: \"www.example.org\" is not inside zone \"example.com\""));
	CHECK(edge_test_has(&r, 8,
			    "edge.zones[0]: origin_pull needs ssl full or strict: there is "
			    "no TLS to the origin to authenticate"));
	CHECK(edge_test_has(&r, 10,
			    "edge.zones[0].records[0]: a proxied record needs a visitor certificate "
			    "(give certificate and key on the record or its zone)"));
	edge_test_done(&r);
}

TEST(edge_conf_find_record)
{
	struct edge_run r;
	struct edge_conf *c = edge_test_ok(&r, EDGE_HEAD
					   "    - name: example.com\n"
					   "      certificate: z.pem\n"
					   "      key: z.key\n"
					   "      records:\n"
					   "        - {name: \"*.example.com\", origin: 10.0.0.1}\n"
					   "        - {name: www.example.com, origin: 10.0.0.2}\n"
					   "        - {name: gray.example.com, origin: 10.0.0.3, proxied: false}\n"
					   "        - {name: example.com, origin: 10.0.0.4}\n"
					   "    - name: example.net\n"
					   "      certificate: n.pem\n"
					   "      key: n.key\n"
					   "      records:\n"
					   "        - {name: \"*.app.example.net\", origin: 10.0.0.5}\n");
	REQUIRE(c);
	REQUIRE(c->zone_count == 2);
	const struct edge_record *star = &c->zones[0].records[0];
	const struct edge_record *www = &c->zones[0].records[1];
	const struct edge_record *gray = &c->zones[0].records[2];
	const struct edge_record *apex = &c->zones[0].records[3];
	const struct edge_record *app = &c->zones[1].records[0];
#define FIND(s) edge_conf_find_record(c, (s), strlen(s))
	CHECK(FIND("www.example.com") == www);
	CHECK(FIND("WWW.Example.COM") == www);
	CHECK(FIND("www.example.com.") == www);
	CHECK(FIND("shop.example.com") == star);
	CHECK(FIND("Shop.Example.com.") == star);
	CHECK(FIND("gray.example.com") == gray);
	CHECK(!FIND("gray.example.com")->proxied);
	CHECK(FIND("example.com") == apex);
	CHECK(FIND("a.app.example.net") == app);
	CHECK(!FIND("a.b.example.com"));
	CHECK(!FIND("app.example.net"));
	CHECK(!FIND("example.net"));
	CHECK(!FIND("www.example.org"));
	CHECK(!FIND(""));
	CHECK(!FIND("."));
#undef FIND
	/* Length, not NUL, bounds the name. */
	CHECK(edge_conf_find_record(c, "www.example.com.evil", 15) == www);
	CHECK(!edge_conf_find_record(c, "www.example.com\0x", 17));
	edge_test_done(&r);
}
