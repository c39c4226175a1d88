/*
 * Unit tests for the edge's TLS (src/tls/edge_tls*.c, client_cert_check.c):
 * visitor SNI and origin pulls are judged through real handshakes over BIO
 * pairs — a visitor client against edge_tls_visitor_ctx, and
 * edge_tls_origin_ssl against an in-memory origin server. The certificates
 * are made here with libcrypto, fresh per run; the configuration is filled
 * by hand.
 */
#include "unit.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include "tls/cert_text.h"
#include "tls/client_cert_check.h"
#include "tls/edge_tls.h"
#include "tls/tls_release.h"
#include "tls/transport.h"

/* ---- certificates -------------------------------------------------- */

#define ET_DAY 86400L

struct et_id {
	X509 *cert;
	EVP_PKEY *key;
};

struct et_spec {
	const char *cn;
	long from_s, to_s;   /* validity relative to now */
	const char *eku;     /* NULL for none */
	bool is_ca;
	const char *san;     /* "DNS:a,IP:1.2.3.4" or NULL */
};

static void et_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext)
		X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* A certificate for a fresh key, issued by ca (self-signed when NULL). */
static struct et_id et_issue(const struct et_spec *sp, const struct et_id *ca)
{
	static long serial = 100;
	struct et_id id = { X509_new(), EVP_EC_gen("P-256") };
	X509 *x = id.cert;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), sp->from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), sp->to_s);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)sp->cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca->cert) : name);
	X509_set_pubkey(x, id.key);
	X509 *signer = ca ? ca->cert : x;
	et_ext(x, signer, NID_basic_constraints, sp->is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	et_ext(x, signer, NID_subject_key_identifier, "hash");
	if (sp->is_ca)
		et_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (sp->eku)
		et_ext(x, signer, NID_ext_key_usage, sp->eku);
	if (sp->san)
		et_ext(x, signer, NID_subject_alt_name, sp->san);
	X509_sign(x, ca ? ca->key : id.key, EVP_sha256());
	return id;
}

static struct et_id et_leaf(const char *cn, long from_s, long to_s, const char *eku,
			    const char *san, const struct et_id *ca)
{
	struct et_spec sp = { cn, from_s, to_s, eku, false, san };
	return et_issue(&sp, ca);
}

/* ---- the fixture: one PKI per run, in a temporary folder ------------ */

enum { F_ORIGIN_CA, F_CLIENT, F_CLIENT_KEY, F_ORG_CLIENT, F_ORG_CLIENT_KEY, F_CA_CLIENT,
       F_CA_CLIENT_KEY, F_OTHER_KEY, F_SRV_ONLY, F_SRV_ONLY_KEY, F_EXPIRED, F_EXPIRED_KEY,
       F_NOTYET, F_NOTYET_KEY, F_SOON, F_SOON_KEY, F_WARN, F_WARN_KEY, F_VZONE, F_VZONE_KEY,
       F_VWWW, F_VWWW_KEY, F_VORG, F_VORG_KEY, F_COUNT };

static const char *const et_file_names[F_COUNT] = {
	"origin-ca.pem", "edge-client.pem", "edge-client.key", "org-client.pem", "org-client.key",
	"ca-client.pem", "ca-client.key", "other.key", "server-only.pem", "server-only.key",
	"expired.pem", "expired.key", "notyet.pem", "notyet.key", "soon.pem", "soon.key",
	"warn.pem", "warn.key", "zone.pem", "zone.key", "www.pem", "www.key", "org.pem", "org.key",
};

struct et_pki {
	char dir[64];
	char path[F_COUNT][128];
	struct et_id origin_ca, origin_ok, origin_expired, origin_wrong_host, origin_self;
	struct et_id edge_ca, foreign_ca, client, org_client, ca_client, other, srv_only, expired,
		notyet, soon, warn, vzone, vwww, vorg;
};

static struct et_pki *et_pki_ptr;

static void et_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (cert)
		PEM_write_X509(f, cert);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void et_write_pair(struct et_pki *p, int file, const struct et_id *id)
{
	et_write(p->path[file], id->cert, NULL);
	et_write(p->path[file + 1], NULL, id->key);
}

static void et_pki_make(struct et_pki *p)
{
	struct et_spec ca = { "Origin CA", -ET_DAY, 3650 * ET_DAY, NULL, true, NULL };
	p->origin_ca = et_issue(&ca, NULL);
	ca.cn = "Edge Origin-Pull CA";
	p->edge_ca = et_issue(&ca, NULL);
	ca.cn = "Foreign CA";
	p->foreign_ca = et_issue(&ca, NULL);

	const char *osan = "DNS:origin.example.com,IP:127.0.0.1";
	p->origin_ok = et_leaf("origin.example.com", -ET_DAY, 365 * ET_DAY, "serverAuth", osan,
			       &p->origin_ca);
	p->origin_expired = et_leaf("origin.example.com", -10 * ET_DAY, -ET_DAY, "serverAuth", osan,
				    &p->origin_ca);
	p->origin_wrong_host = et_leaf("other.example.net", -ET_DAY, 365 * ET_DAY, "serverAuth",
				       "DNS:other.example.net", &p->origin_ca);
	p->origin_self = et_leaf("origin.example.com", -ET_DAY, 365 * ET_DAY, "serverAuth", osan, NULL);

	p->client = et_leaf("edge client", -ET_DAY, 365 * ET_DAY, "clientAuth", NULL, &p->edge_ca);
	p->org_client = et_leaf("org client", -ET_DAY, 365 * ET_DAY, "clientAuth", NULL, &p->edge_ca);
	struct et_spec cac = { "CA as client", -ET_DAY, 365 * ET_DAY, NULL, true, NULL };
	p->ca_client = et_issue(&cac, &p->edge_ca);
	p->other = et_leaf("other", -ET_DAY, ET_DAY, NULL, NULL, NULL);
	p->srv_only = et_leaf("edge client", -ET_DAY, 365 * ET_DAY, "serverAuth", NULL, &p->edge_ca);
	p->expired = et_leaf("edge client", -30 * ET_DAY, -2 * ET_DAY, "clientAuth", NULL, &p->edge_ca);
	p->notyet = et_leaf("edge client", 2 * ET_DAY, 30 * ET_DAY, "clientAuth", NULL, &p->edge_ca);
	p->soon = et_leaf("edge client", -ET_DAY, 10 * ET_DAY, "clientAuth", NULL, &p->edge_ca);
	p->warn = et_leaf("edge client", -ET_DAY, 21 * ET_DAY, "clientAuth", NULL, &p->edge_ca);

	p->vzone = et_leaf("*.example.com", -ET_DAY, 365 * ET_DAY, "serverAuth",
			   "DNS:*.example.com,DNS:example.com", &p->origin_ca);
	p->vwww = et_leaf("www.example.com", -ET_DAY, 365 * ET_DAY, "serverAuth",
			  "DNS:www.example.com", &p->origin_ca);
	p->vorg = et_leaf("example.org", -ET_DAY, 365 * ET_DAY, "serverAuth", "DNS:example.org",
			  &p->origin_ca);
}

static struct et_pki *et_pki(void)
{
	if (et_pki_ptr)
		return et_pki_ptr;
	struct et_pki *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	snprintf(p->dir, sizeof p->dir, "/tmp/pullgate-edgetls-XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	char dir[sizeof p->dir];
	memcpy(dir, p->dir, sizeof dir);
	for (int i = 0; i < F_COUNT; i++)
		snprintf(p->path[i], sizeof p->path[i], "%s/%s", dir, et_file_names[i]);
	et_pki_make(p);
	et_write(p->path[F_ORIGIN_CA], p->origin_ca.cert, NULL);
	et_write_pair(p, F_CLIENT, &p->client);
	et_write_pair(p, F_ORG_CLIENT, &p->org_client);
	et_write_pair(p, F_CA_CLIENT, &p->ca_client);
	et_write(p->path[F_OTHER_KEY], NULL, p->other.key);
	et_write_pair(p, F_SRV_ONLY, &p->srv_only);
	et_write_pair(p, F_EXPIRED, &p->expired);
	et_write_pair(p, F_NOTYET, &p->notyet);
	et_write_pair(p, F_SOON, &p->soon);
	et_write_pair(p, F_WARN, &p->warn);
	et_write_pair(p, F_VZONE, &p->vzone);
	et_write_pair(p, F_VWWW, &p->vwww);
	et_write_pair(p, F_VORG, &p->vorg);
	et_pki_ptr = p;
	return p;
}

__attribute__((destructor)) static void et_pki_cleanup(void)
{
	struct et_pki *p = et_pki_ptr;
	if (!p)
		return;
	for (int i = 0; i < F_COUNT; i++)
		unlink(p->path[i]);
	rmdir(p->dir);
	struct et_id *ids[] = { &p->origin_ca, &p->origin_ok, &p->origin_expired,
		&p->origin_wrong_host, &p->origin_self, &p->edge_ca, &p->foreign_ca, &p->client,
		&p->org_client, &p->ca_client, &p->other, &p->srv_only, &p->expired, &p->notyet,
		&p->soon, &p->warn, &p->vzone, &p->vwww, &p->vorg };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		X509_free(ids[i]->cert);
		EVP_PKEY_free(ids[i]->key);
	}
	free(p);
	et_pki_ptr = NULL;
}

/* ---- a configuration, filled by hand -------------------------------- */

/* Zone example.com (strict, origin_pull: zone, visitor certificate
 * *.example.com) and zone example.org (full, origin_pull: global). The
 * wildcard record comes first so that exact-before-wildcard is tested. */
enum { R_WILD, R_WWW, R_DNS, R_PLAIN, R_FULL, R_IP, R_FLEX, R_COUNT };

struct et_conf {
	struct edge_conf c;
	struct edge_zone zones[2];
	struct edge_record com[R_COUNT], org[1];
	struct cert_files www_visitor;
};

static void et_record(struct edge_record *r, struct edge_zone *z, const char *name,
		      enum ssl_mode ssl, enum origin_pull pull, const char *sni)
{
	*r = (struct edge_record){ .name = (char *)name, .zone = z, .proxied = true,
		.origin = { .text = "127.0.0.1:443", .host = "127.0.0.1", .port = 443 },
		.origin_sni = (char *)sni, .ssl = ssl, .pull = pull,
		.visitor_cert = &z->visitor_cert, .line = 10 };
	if (pull == ORIGIN_PULL_ZONE)
		r->client_cert = &z->client_cert;
}

/* t must stay where it is: the conf points into it. */
static void et_conf_init(struct et_conf *t)
{
	struct et_pki *p = et_pki();
	memset(t, 0, sizeof *t);
	t->c.file = "/etc/pullgate/edge.yaml";
	t->c.origin_ca = p->path[F_ORIGIN_CA];
	t->c.has_global_client_cert = true;
	t->c.global_client_cert =
		(struct cert_files){ p->path[F_ORG_CLIENT], p->path[F_ORG_CLIENT_KEY], 4 };
	struct edge_zone *com = &t->zones[0], *org = &t->zones[1];
	*com = (struct edge_zone){ .name = "example.com", .ssl = SSL_MODE_STRICT,
		.pull = ORIGIN_PULL_ZONE, .records = t->com, .record_count = R_COUNT, .line = 8,
		.client_cert = { p->path[F_CLIENT], p->path[F_CLIENT_KEY], 9 },
		.visitor_cert = { p->path[F_VZONE], p->path[F_VZONE_KEY], 8 } };
	*org = (struct edge_zone){ .name = "example.org", .ssl = SSL_MODE_FULL,
		.pull = ORIGIN_PULL_GLOBAL, .records = t->org, .record_count = 1, .line = 30,
		.visitor_cert = { p->path[F_VORG], p->path[F_VORG_KEY], 30 } };
	const char *osni = "origin.example.com";
	et_record(&t->com[R_WILD], com, "*.example.com", SSL_MODE_STRICT, ORIGIN_PULL_ZONE, osni);
	et_record(&t->com[R_WWW], com, "www.example.com", SSL_MODE_STRICT, ORIGIN_PULL_ZONE, osni);
	t->www_visitor = (struct cert_files){ p->path[F_VWWW], p->path[F_VWWW_KEY], 12 };
	t->com[R_WWW].visitor_cert = &t->www_visitor;
	et_record(&t->com[R_DNS], com, "dns.example.com", SSL_MODE_STRICT, ORIGIN_PULL_ZONE, osni);
	t->com[R_DNS].proxied = false;
	et_record(&t->com[R_PLAIN], com, "plain.example.com", SSL_MODE_STRICT, ORIGIN_PULL_OFF, osni);
	et_record(&t->com[R_FULL], com, "full.example.com", SSL_MODE_FULL, ORIGIN_PULL_ZONE, osni);
	et_record(&t->com[R_IP], com, "ip.example.com", SSL_MODE_STRICT, ORIGIN_PULL_OFF, NULL);
	et_record(&t->com[R_FLEX], com, "flex.example.com", SSL_MODE_FLEXIBLE, ORIGIN_PULL_OFF, NULL);
	et_record(&t->org[0], org, "example.org", SSL_MODE_FULL, ORIGIN_PULL_GLOBAL, "origin.example.org");
	t->org[0].client_cert = &t->c.global_client_cert;
	t->c.zones = t->zones;
	t->c.zone_count = 2;
}

static struct edge_tls *et_build(struct et_conf *t)
{
	char err[512] = "";
	struct edge_tls *set = edge_tls_build(&t->c, err, sizeof err);
	if (!set)
		fprintf(stderr, "  edge_tls_build: %s\n", err);
	return set;
}

/* ---- in-memory handshakes ------------------------------------------ */

struct et_conn {
	SSL *client, *server;
	bool handshake_ok;   /* the client finished its handshake */
	bool ok;             /* and its first read did not fail */
	bool server_ok;
	unsigned long err;   /* the client's first error */
};

static bool et_step(SSL *ssl, bool *done, unsigned long *err)
{
	ERR_clear_error();
	int r = SSL_do_handshake(ssl);
	if (r == 1) {
		*done = true;
		return true;
	}
	int e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return true;
	*err = ERR_peek_error();
	return false;
}

/* Runs the handshake on both sides, then the client reads once: that takes
 * in TLS 1.3 tickets, or the alert of a refusal that came after the
 * client's Finished. */
static void et_run(SSL *client, SSL *server, struct et_conn *k)
{
	memset(k, 0, sizeof *k);
	k->client = client;
	k->server = server;
	if (!client || !server)
		return;
	BIO *bc, *bs;
	BIO_new_bio_pair(&bc, 0, &bs, 0);
	SSL_set_bio(client, bc, bc);
	SSL_set_bio(server, bs, bs);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	bool cdone = false, sdone = false, cfail = false, sfail = false;
	unsigned long serr = 0;
	for (int i = 0; i < 64 && !((cdone || cfail) && (sdone || sfail)); i++) {
		if (!cdone && !cfail)
			cfail = !et_step(client, &cdone, &k->err);
		if (!sdone && !sfail)
			sfail = !et_step(server, &sdone, &serr);
	}
	k->handshake_ok = k->ok = cdone;
	k->server_ok = sdone;
	if (cdone) {
		char b;
		ERR_clear_error();
		int r = SSL_read(client, &b, 1);
		if (r <= 0 && SSL_get_error(client, r) != SSL_ERROR_WANT_READ) {
			k->ok = false;
			k->err = ERR_peek_error();
		}
	}
	ERR_clear_error();
}

/* A clean close: freeing an SSL without one makes its session unusable. */
static void et_conn_free(struct et_conn *k)
{
	if (k->ok)
		SSL_shutdown(k->client);
	ERR_clear_error();
	SSL_free(k->client);
	SSL_free(k->server);
}

/* A visitor connects with sni (NULL: none) and ALPN offer alpn. */
static void et_visit(struct edge_tls *set, const char *sni, const char *alpn, int max_version,
		     SSL_SESSION *sess, struct et_conn *k)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	if (max_version) {
		SSL_CTX_set_security_level(cctx, 0);
		SSL_CTX_set_cipher_list(cctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(cctx, max_version < TLS1_2_VERSION ? TLS1_VERSION : 0);
		SSL_CTX_set_max_proto_version(cctx, max_version);
	}
	SSL *c = SSL_new(cctx);
	SSL_CTX_free(cctx);
	if (sni)
		SSL_set_tlsext_host_name(c, sni);
	if (alpn)
		SSL_set_alpn_protos(c, (const unsigned char *)alpn, (unsigned)strlen(alpn));
	if (sess)
		SSL_set_session(c, sess);
	et_run(c, SSL_new(edge_tls_visitor_ctx(set)), k);
}

static const char *et_peer_cn(SSL *ssl, char *buf, int len)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	buf[0] = '\0';
	if (peer)
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, len);
	return buf;
}

static int et_accept_any(int ok, X509_STORE_CTX *x)
{
	return 1;
}

static int et_server_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

enum et_client_auth { ET_NO_REQUEST, ET_REQUEST_ANY, ET_REQUIRE };

/* An origin server presenting id; it asks for a client certificate per
 * auth, trusting only trust when it requires one. */
static SSL_CTX *et_origin(const struct et_id *id, enum et_client_auth auth, X509 *trust,
			  int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(ctx, id->cert);
	SSL_CTX_use_PrivateKey(ctx, id->key);
	SSL_CTX_set_alpn_select_cb(ctx, et_server_alpn, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"et", 2);
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	if (trust)
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
	if (auth == ET_REQUEST_ANY)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, et_accept_any);
	else if (auth == ET_REQUIRE)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

static void et_pull(struct edge_tls *set, const struct edge_record *rec, SSL_CTX *origin,
		    SSL_SESSION *sess, struct et_conn *k)
{
	SSL *c = edge_tls_origin_ssl(set, rec);
	if (c && sess)
		SSL_set_session(c, sess);
	et_run(c, c ? SSL_new(origin) : NULL, k);
}

/* Pulls from an origin presenting id and returns how the edge judges it
 * (-1: accepted). */
static int et_judge(struct edge_tls *set, const struct edge_record *rec, const struct et_id *id,
		    char *detail, size_t len)
{
	SSL_CTX *origin = et_origin(id, ET_NO_REQUEST, NULL, 0);
	struct et_conn k;
	et_pull(set, rec, origin, NULL, &k);
	int verdict = k.ok ? -1 : (int)edge_tls_classify_origin_failure(k.client, k.err, detail, len);
	if (!k.client)
		verdict = -2;
	et_conn_free(&k);
	SSL_CTX_free(origin);
	return verdict;
}

/* ---- visitor side --------------------------------------------------- */

TEST(edge_tls_visitor_sni_selects_record_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct { const char *sni, *cn; const struct edge_record *rec; } cases[] = {
		{ "www.example.com", "www.example.com", &t.com[R_WWW] }, /* exact before wildcard */
		{ "WWW.Example.COM", "www.example.com", &t.com[R_WWW] },
		{ "api.example.com", "*.example.com", &t.com[R_WILD] },
		{ "example.org", "example.org", &t.org[0] },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct et_conn k;
		char cn[128];
		et_visit(set, cases[i].sni, NULL, 0, NULL, &k);
		CHECK(k.ok && k.server_ok);
		CHECK_STR(et_peer_cn(k.client, cn, sizeof cn), cases[i].cn);
		CHECK(edge_tls_visitor_record(k.server) == cases[i].rec);
		et_conn_free(&k);
	}
	edge_tls_unref(set);
}

/* Refusals carry unrecognized_name and present no certificate. */
static void et_expect_unrecognized(struct edge_tls *set, const char *sni)
{
	struct et_conn k;
	et_visit(set, sni, NULL, 0, NULL, &k);
	CHECK(!k.handshake_ok && !k.server_ok);
	CHECK_EQ_INT(ERR_GET_REASON(k.err), SSL_R_TLSV1_UNRECOGNIZED_NAME);
	CHECK(SSL_get0_peer_certificate(k.client) == NULL);
	CHECK(edge_tls_visitor_record(k.server) == NULL);
	et_conn_free(&k);
}

TEST(edge_tls_visitor_unknown_sni_refused)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	et_expect_unrecognized(set, "unknown.example.net");
	et_expect_unrecognized(set, "a.b.example.com"); /* a wildcard covers one label */
	et_expect_unrecognized(set, "example.com");     /* no record for the apex */
	edge_tls_unref(set);
}

TEST(edge_tls_visitor_dns_only_record_refused)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	/* The wildcard would match it, but the exact DNS-only record wins. */
	et_expect_unrecognized(set, "dns.example.com");
	edge_tls_unref(set);
}

TEST(edge_tls_visitor_no_sni_refused)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	et_expect_unrecognized(set, NULL);
	edge_tls_unref(set);
}

TEST(edge_tls_visitor_alpn_http11_or_none)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_conn k;
	const unsigned char *sel;
	unsigned int len;
	et_visit(set, "www.example.com", "\x02h2\x08http/1.1", 0, NULL, &k);
	CHECK(k.ok);
	SSL_get0_alpn_selected(k.client, &sel, &len);
	CHECK(len == 8 && memcmp(sel, "http/1.1", 8) == 0);
	et_conn_free(&k);
	et_visit(set, "www.example.com", "\x02h2", 0, NULL, &k);
	CHECK(k.ok);
	SSL_get0_alpn_selected(k.client, &sel, &len);
	CHECK_EQ_INT(len, 0);
	et_conn_free(&k);
	edge_tls_unref(set);
}

TEST(edge_tls_visitor_refuses_tls11)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_conn k;
	et_visit(set, "www.example.com", NULL, TLS1_1_VERSION, NULL, &k);
	CHECK(!k.handshake_ok && !k.server_ok);
	et_conn_free(&k);
	edge_tls_unref(set);
}

/* Records sharing a certificate file share a context; the selected context
 * is not the initial one, yet its tickets resume (shared keys). */
TEST(edge_tls_visitor_contexts_deduped_and_tickets_resume)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_conn a, b, w;
	et_visit(set, "api.example.com", NULL, 0, NULL, &a);
	et_visit(set, "plain.example.com", NULL, 0, NULL, &b);
	et_visit(set, "www.example.com", NULL, 0, NULL, &w);
	CHECK(a.ok && b.ok && w.ok);
	CHECK(SSL_get_SSL_CTX(a.server) == SSL_get_SSL_CTX(b.server));
	CHECK(SSL_get_SSL_CTX(a.server) != SSL_get_SSL_CTX(w.server));
	CHECK(SSL_get_SSL_CTX(w.server) != edge_tls_visitor_ctx(set));
	et_conn_free(&a);
	et_conn_free(&b);
	et_conn_free(&w);
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	for (int i = 0; i < 2; i++) {
		struct et_conn first, again;
		et_visit(set, "www.example.com", NULL, versions[i], NULL, &first);
		CHECK(first.ok);
		SSL_SESSION *sess = SSL_get1_session(first.client);
		et_conn_free(&first);
		et_visit(set, "www.example.com", NULL, versions[i], sess, &again);
		CHECK(again.ok && SSL_session_reused(again.client));
		CHECK(edge_tls_visitor_record(again.server) == &t.com[R_WWW]);
		et_conn_free(&again);
		SSL_SESSION_free(sess);
	}
	edge_tls_unref(set);
}

/* Whether a key still holds key material: its public key can be encoded. */
static bool et_key_held(EVP_PKEY *k)
{
	unsigned char *pub = NULL;
	size_t len = EVP_PKEY_get1_encoded_public_key(k, &pub);
	OPENSSL_free(pub);
	ERR_clear_error();
	return len > 0;
}

/* How many of ssl's two key-exchange keys still hold material. */
static int et_kex_keys_held(SSL *ssl)
{
	int held = 0;
	EVP_PKEY *k = NULL;
	if (SSL_get_tmp_key(ssl, &k) == 1 && k) {
		held += et_key_held(k);
		EVP_PKEY_free(k);
	}
	k = NULL;
	if (SSL_get_peer_tmp_key(ssl, &k) == 1 && k) {
		held += et_key_held(k);
		EVP_PKEY_free(k);
	}
	return held;
}

/* Both ends of a pair of SSLs move application data both ways. */
static bool et_exchange(SSL *a, SSL *b)
{
	char buf[16];
	return SSL_write(a, "ping", 4) == 4 && SSL_read(b, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0 &&
	       SSL_write(b, "pong", 4) == 4 && SSL_read(a, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0;
}

/* After the handshake the key exchange's keys are emptied on both sides;
 * the connection still carries data, and its session still resumes. */
TEST(tls_key_exchange_keys_released_after_handshake)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	for (int i = 0; i < 2; i++) {
		struct et_conn k;
		et_visit(set, "www.example.com", NULL, versions[i], NULL, &k);
		REQUIRE(k.ok);
		/* TLS 1.3 keeps both shares on both sides; TLS 1.2 at least the
		 * client's view of the server's. */
		CHECK(et_kex_keys_held(k.client) + et_kex_keys_held(k.server) >= (versions[i] == TLS1_3_VERSION ? 4 : 1));
		tls_key_exchange_release(k.client);
		tls_key_exchange_release(k.server);
		CHECK_EQ_INT(et_kex_keys_held(k.client), 0);
		CHECK_EQ_INT(et_kex_keys_held(k.server), 0);
		tls_key_exchange_release(k.server); /* again: nothing left to do */
		CHECK(et_exchange(k.client, k.server));
		SSL_SESSION *sess = SSL_get1_session(k.client);
		et_conn_free(&k);
		struct et_conn again;
		et_visit(set, "www.example.com", NULL, versions[i], sess, &again);
		CHECK(again.ok && SSL_session_reused(again.client));
		CHECK(et_exchange(again.client, again.server));
		et_conn_free(&again);
		SSL_SESSION_free(sess);
	}
	edge_tls_unref(set);
}

/* A TLS 1.3 server connection lets its session go once established; the
 * connection still carries data both ways, through key updates from either
 * side and a clean close, and the client's ticket still resumes. A client,
 * and a TLS 1.2 server (whose session may sit in a cache), keep theirs. */
TEST(tls_session_released_after_tls13_handshake)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	for (int version = TLS1_2_VERSION; version <= TLS1_3_VERSION; version++) {
		bool tls13 = version == TLS1_3_VERSION;
		struct et_conn k;
		et_visit(set, "www.example.com", NULL, version, NULL, &k);
		REQUIRE(k.ok);
		SSL_CTX *was = SSL_get_SSL_CTX(k.server);
		CHECK(SSL_get_session(k.server) != NULL);
		CHECK(!tls_session_release(k.client));
		CHECK(SSL_get_session(k.client) != NULL);
		CHECK(tls_session_release(k.server) == tls13);
		CHECK((SSL_get_session(k.server) == NULL) == tls13);
		CHECK((SSL_get_SSL_CTX(k.server) != was) == tls13);
		CHECK(!tls_session_release(k.server)); /* nothing left to release */
		CHECK_EQ_INT(SSL_version(k.server), version);
		CHECK(et_exchange(k.client, k.server));
		CHECK(et_exchange(k.server, k.client));
		if (tls13) {
			CHECK(SSL_key_update(k.client, SSL_KEY_UPDATE_REQUESTED) == 1);
			CHECK(et_exchange(k.client, k.server));
			CHECK(SSL_key_update(k.server, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
			CHECK(et_exchange(k.server, k.client));
		}
		SSL_SESSION *sess = SSL_get1_session(k.client);
		CHECK(SSL_shutdown(k.server) == 0);
		char c;
		int n = SSL_read(k.client, &c, 1);
		CHECK(n <= 0 && SSL_get_error(k.client, n) == SSL_ERROR_ZERO_RETURN);
		et_conn_free(&k);
		struct et_conn again;
		et_visit(set, "www.example.com", NULL, version, sess, &again);
		CHECK(again.ok && SSL_session_reused(again.client));
		CHECK(tls_session_release(again.server) == tls13);
		CHECK(et_exchange(again.client, again.server));
		et_conn_free(&again);
		SSL_SESSION_free(sess);
	}
	edge_tls_unref(set);
}

TEST(edge_tls_build_needs_visitor_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	t.zones[1].visitor_cert = (struct cert_files){ 0 };
	char err[512] = "";
	CHECK(edge_tls_build(&t.c, err, sizeof err) == NULL);
	CHECK_STR(err, "/etc/pullgate/edge.yaml:10: record example.org has no certificate for "
		       "visitors (its own or its zone's)");
	/* A DNS-only record needs none. */
	t.zones[1].records[0].proxied = false;
	struct edge_tls *set = et_build(&t);
	CHECK(set != NULL);
	edge_tls_unref(set);
}

/* ---- origin side ---------------------------------------------------- */

TEST(edge_tls_origin_strict_accepts_valid_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	SSL_CTX *origin = et_origin(&et_pki()->origin_ok, ET_NO_REQUEST, NULL, 0);
	struct et_conn k;
	et_pull(set, &t.com[R_WWW], origin, NULL, &k);
	CHECK(k.ok && k.server_ok);
	CHECK_STR(SSL_get_servername(k.server, TLSEXT_NAMETYPE_host_name), "origin.example.com");
	const unsigned char *sel;
	unsigned int len;
	SSL_get0_alpn_selected(k.client, &sel, &len);
	CHECK(len == 8 && memcmp(sel, "http/1.1", 8) == 0);
	CHECK_EQ_INT(SSL_get_verify_result(k.client), X509_V_OK);
	et_conn_free(&k);
	SSL_CTX_free(origin);
	edge_tls_unref(set);
}

TEST(edge_tls_origin_strict_refuses_bad_certificates)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_pki *p = et_pki();
	struct { const struct et_id *id; const char *detail; } cases[] = {
		{ &p->origin_expired, "certificate has expired" },
		{ &p->origin_wrong_host, "hostname mismatch" },
		{ &p->origin_self, "self-signed certificate" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char detail[128] = "";
		CHECK_EQ_INT(et_judge(set, &t.com[R_WWW], cases[i].id, detail, sizeof detail),
			     ORIGIN_TLS_INVALID_CERT);
		CHECK_STR(detail, cases[i].detail);
	}
	edge_tls_unref(set);
}

TEST(edge_tls_origin_full_accepts_any_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_pki *p = et_pki();
	const struct et_id *ids[] = { &p->origin_ok, &p->origin_expired, &p->origin_wrong_host,
				      &p->origin_self };
	for (size_t i = 0; i < 4; i++) {
		char detail[128] = "";
		CHECK_EQ_INT(et_judge(set, &t.com[R_FULL], ids[i], detail, sizeof detail), -1);
		CHECK_EQ_INT(et_judge(set, &t.org[0], ids[i], detail, sizeof detail), -1);
	}
	edge_tls_unref(set);
}

/* An IP origin without origin_sni: no SNI, and the IP is what is verified. */
TEST(edge_tls_origin_strict_ip_origin)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	SSL_CTX *origin = et_origin(&et_pki()->origin_ok, ET_NO_REQUEST, NULL, 0);
	struct et_conn k;
	et_pull(set, &t.com[R_IP], origin, NULL, &k);
	CHECK(k.ok);
	CHECK(SSL_get_servername(k.server, TLSEXT_NAMETYPE_host_name) == NULL);
	et_conn_free(&k);
	SSL_CTX_free(origin);
	char detail[128] = "";
	CHECK_EQ_INT(et_judge(set, &t.com[R_IP], &et_pki()->origin_wrong_host, detail, sizeof detail),
		     ORIGIN_TLS_INVALID_CERT);
	CHECK_STR(detail, "IP address mismatch");
	/* An IP literal as origin_sni is verified as an IP, never sent. */
	t.com[R_IP].origin_sni = "127.0.0.1";
	CHECK_EQ_INT(et_judge(set, &t.com[R_IP], &et_pki()->origin_ok, detail, sizeof detail), -1);
	edge_tls_unref(set);
}

/* An origin that trusts another CA refuses our certificate: in TLS 1.2
 * during the handshake, in TLS 1.3 after it, at the first read. */
TEST(edge_tls_origin_refused_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_pki *p = et_pki();
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	for (int i = 0; i < 2; i++) {
		SSL_CTX *origin = et_origin(&p->origin_ok, ET_REQUIRE, p->foreign_ca.cert, versions[i]);
		struct et_conn k;
		et_pull(set, &t.com[R_WWW], origin, NULL, &k);
		CHECK(!k.ok);
		CHECK(k.handshake_ok == (versions[i] == TLS1_3_VERSION));
		char detail[128] = "";
		CHECK_EQ_INT(edge_tls_classify_origin_failure(k.client, k.err, detail, sizeof detail),
			     ORIGIN_TLS_REFUSED_CERT);
		CHECK_STR(detail, "origin sent alert unknown_ca");
		et_conn_free(&k);
		SSL_CTX_free(origin);
	}
	edge_tls_unref(set);
}

/* A pull without a certificate to an origin that requires one. */
TEST(edge_tls_origin_certificate_wanted)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	struct et_pki *p = et_pki();
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	static const char *const alerts[] = { "origin sent alert handshake_failure",
					      "origin sent alert certificate_required" };
	for (int i = 0; i < 2; i++) {
		SSL_CTX *origin = et_origin(&p->origin_ok, ET_REQUIRE, p->edge_ca.cert, versions[i]);
		struct et_conn k;
		et_pull(set, &t.com[R_PLAIN], origin, NULL, &k);
		CHECK(!k.ok);
		char detail[128] = "";
		CHECK_EQ_INT(edge_tls_classify_origin_failure(k.client, k.err, detail, sizeof detail),
			     ORIGIN_TLS_REFUSED_CERT);
		CHECK_STR(detail, alerts[i]);
		et_conn_free(&k);
		/* With the certificate, the same origin accepts. */
		et_pull(set, &t.com[R_WWW], origin, NULL, &k);
		CHECK(k.ok && k.server_ok);
		et_conn_free(&k);
		SSL_CTX_free(origin);
	}
	edge_tls_unref(set);
}

TEST(edge_tls_origin_certificate_only_with_pulls_on)
{
	struct et_conf t;
	et_conf_init(&t);
	/* A loader slip must not leak the zone's certificate to a record
	 * whose pulls are off. */
	t.com[R_PLAIN].client_cert = &t.zones[0].client_cert;
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	SSL_CTX *origin = et_origin(&et_pki()->origin_ok, ET_REQUEST_ANY, NULL, 0);
	struct { const struct edge_record *rec; const char *cn; } cases[] = {
		{ &t.com[R_WWW], "edge client" }, { &t.com[R_FULL], "edge client" },
		{ &t.org[0], "org client" }, { &t.com[R_PLAIN], NULL }, { &t.com[R_IP], NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct et_conn k;
		char cn[64];
		et_pull(set, cases[i].rec, origin, NULL, &k);
		CHECK(k.ok && k.server_ok);
		if (cases[i].cn)
			CHECK_STR(et_peer_cn(k.server, cn, sizeof cn), cases[i].cn);
		else
			CHECK(SSL_get0_peer_certificate(k.server) == NULL);
		et_conn_free(&k);
	}
	SSL_CTX_free(origin);
	edge_tls_unref(set);
}

TEST(edge_tls_origin_ctx_ids)
{
	struct et_conf t;
	et_conf_init(&t);
	t.com[R_PLAIN].client_cert = &t.zones[0].client_cert;
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	const void *www = edge_tls_origin_ctx_id(set, &t.com[R_WWW]);
	const void *plain = edge_tls_origin_ctx_id(set, &t.com[R_PLAIN]);
	CHECK(www && plain);
	CHECK(www == edge_tls_origin_ctx_id(set, &t.com[R_WILD]));  /* same mode, cert, CA */
	CHECK(www != plain);                                        /* pulls on vs off */
	CHECK(plain == edge_tls_origin_ctx_id(set, &t.com[R_IP]));  /* both off, strict */
	CHECK(www != edge_tls_origin_ctx_id(set, &t.com[R_FULL]));  /* strict vs full */
	CHECK(edge_tls_origin_ctx_id(set, &t.com[R_FULL]) != edge_tls_origin_ctx_id(set, &t.org[0]));
	CHECK(edge_tls_origin_ctx_id(set, &t.com[R_FLEX]) == NULL); /* plain HTTP */
	CHECK(edge_tls_origin_ssl(set, &t.com[R_FLEX]) == NULL);
	CHECK(edge_tls_origin_ctx_id(set, &t.com[R_DNS]) == NULL);  /* not served */
	CHECK(edge_tls_origin_ssl(set, &t.com[R_DNS]) == NULL);
	edge_tls_unref(set);
}

/* The pool keeps sessions; a TLS 1.3 ticket must be on the session. */
TEST(edge_tls_origin_session_resumes)
{
	struct et_conf t;
	et_conf_init(&t);
	struct edge_tls *set = et_build(&t);
	REQUIRE(set);
	SSL_CTX *origin = et_origin(&et_pki()->origin_ok, ET_REQUEST_ANY, NULL, 0);
	struct et_conn k;
	et_pull(set, &t.com[R_WWW], origin, NULL, &k);
	CHECK(k.ok);
	SSL_SESSION *sess = SSL_get1_session(k.client);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	et_conn_free(&k);
	et_pull(set, &t.com[R_WWW], origin, sess, &k);
	CHECK(k.ok && SSL_session_reused(k.client));
	et_conn_free(&k);
	SSL_SESSION_free(sess);
	SSL_CTX_free(origin);
	edge_tls_unref(set);
}

TEST(edge_tls_classify_other_failures)
{
	char detail[128] = "";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	/* handshake_failure from an origin that never asked for a certificate */
	unsigned long e = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
	CHECK_EQ_INT(edge_tls_classify_origin_failure(ssl, e, detail, sizeof detail),
		     ORIGIN_TLS_HANDSHAKE);
	CHECK_STR(detail, "sslv3 alert handshake failure");
	e = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER);
	CHECK_EQ_INT(edge_tls_classify_origin_failure(ssl, e, detail, sizeof detail),
		     ORIGIN_TLS_HANDSHAKE);
	CHECK_STR(detail, "wrong version number");
	CHECK_EQ_INT(edge_tls_classify_origin_failure(ssl, 0, detail, sizeof detail),
		     ORIGIN_TLS_HANDSHAKE);
	CHECK_STR(detail, "handshake failed");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* ---- client certificate checks --------------------------------------- */

/* Loads cert_file with key_file as an origin-pull certificate; returns the
 * error text ("" when accepted). */
static const char *et_load(int cert_file, int key_file, char *err, size_t len)
{
	struct et_pki *p = et_pki();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	err[0] = '\0';
	X509 *leaf = client_cert_load(ctx, p->path[cert_file], p->path[key_file], err, len);
	CHECK((leaf != NULL) == (err[0] == '\0'));
	X509_free(leaf);
	SSL_CTX_free(ctx);
	return err;
}

static void et_expect_err(int cert_file, int key_file, const char *tail)
{
	char err[512], want[512];
	snprintf(want, sizeof want, "%s/%s", et_pki()->dir, tail);
	CHECK_STR(et_load(cert_file, key_file, err, sizeof err), want);
}

TEST(client_cert_check_accepts_good_certificate)
{
	char err[512];
	CHECK_STR(et_load(F_CLIENT, F_CLIENT_KEY, err, sizeof err), "");
}

TEST(client_cert_check_refuses_ca_certificate)
{
	et_expect_err(F_CA_CLIENT, F_CA_CLIENT_KEY, "ca-client.pem: is a CA certificate, not a leaf");
}

TEST(client_cert_check_refuses_key_mismatch)
{
	char tail[300];
	snprintf(tail, sizeof tail, "other.key: does not match %s", et_pki()->path[F_CLIENT]);
	et_expect_err(F_CLIENT, F_OTHER_KEY, tail);
}

TEST(client_cert_check_refuses_server_auth_only)
{
	et_expect_err(F_SRV_ONLY, F_SRV_ONLY_KEY,
		      "server-only.pem: has no clientAuth extended key usage (it has: serverAuth)");
}

TEST(client_cert_check_refuses_outside_validity)
{
	struct et_pki *p = et_pki();
	char when[32], tail[128];
	CHECK(cert_text_time(X509_get0_notAfter(p->expired.cert), false, when, sizeof when));
	snprintf(tail, sizeof tail, "expired.pem: expired on %s", when);
	et_expect_err(F_EXPIRED, F_EXPIRED_KEY, tail);
	CHECK(strlen(when) == 20 && when[10] == 'T' && when[19] == 'Z');
	CHECK(cert_text_time(X509_get0_notBefore(p->notyet.cert), false, when, sizeof when));
	snprintf(tail, sizeof tail, "notyet.pem: not valid until %s", when);
	et_expect_err(F_NOTYET, F_NOTYET_KEY, tail);
}

TEST(client_cert_days_left_and_warnings)
{
	struct et_pki *p = et_pki();
	CHECK_EQ_INT(client_cert_days_left(p->soon.cert), 10);
	CHECK_EQ_INT(client_cert_days_left(p->warn.cert), 21);
	CHECK_EQ_INT(client_cert_days_left(p->client.cert), 365);
	CHECK(client_cert_days_left(p->expired.cert) <= -1);
	CHECK_EQ_INT(client_cert_days_left(NULL), INT_MIN);
	char msg[512], date[16], want[512];
	CHECK(client_cert_expiry_warning(p->warn.cert, "edge-client.pem", "zone example.com", msg,
					 sizeof msg));
	cert_text_time(X509_get0_notAfter(p->warn.cert), true, date, sizeof date);
	snprintf(want, sizeof want, "origin-pull certificate edge-client.pem (zone example.com) "
		 "expires in 21 days (%s)", date);
	CHECK_STR(msg, want);
	CHECK(client_cert_expiry_warning(p->soon.cert, "soon.pem", "global", msg, sizeof msg));
	CHECK(strncmp(msg, "URGENT: origin-pull certificate soon.pem (global) expires in 10 days (",
		      70) == 0);
	CHECK(!client_cert_expiry_warning(p->client.cert, "edge-client.pem", "global", msg, sizeof msg));
}

/* Builds t with stderr captured into out. */
static struct edge_tls *et_build_logged(struct et_conf *t, char *out, size_t len)
{
	char path[96];
	snprintf(path, sizeof path, "%s/log.txt", et_pki()->dir);
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	dup2(fileno(f), 2);
	char err[512] = "";
	struct edge_tls *set = edge_tls_build(&t->c, err, sizeof err);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	if (!set)
		fprintf(stderr, "  edge_tls_build: %s\n", err);
	return set;
}

TEST(edge_tls_build_warns_of_expiring_client_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct et_pki *p = et_pki();
	t.zones[0].client_cert = (struct cert_files){ p->path[F_SOON], p->path[F_SOON_KEY], 9 };
	t.c.global_client_cert = (struct cert_files){ p->path[F_WARN], p->path[F_WARN_KEY], 4 };
	char log[4096], want[512];
	struct edge_tls *set = et_build_logged(&t, log, sizeof log);
	REQUIRE(set);
	snprintf(want, sizeof want, "warn: URGENT: origin-pull certificate %s (zone example.com) "
		 "expires in 10 days (", p->path[F_SOON]);
	const char *urgent = strstr(log, want);
	CHECK(urgent != NULL);
	/* Once per certificate, though two contexts carry it. */
	CHECK(urgent && strstr(urgent + strlen(want), "soon.pem") == NULL);
	snprintf(want, sizeof want, "warn: origin-pull certificate %s (global) expires in 21 days",
		 p->path[F_WARN]);
	CHECK(strstr(log, want) != NULL);
	edge_tls_unref(set);
}

TEST(edge_tls_build_refuses_unfit_client_certificate)
{
	struct et_conf t;
	et_conf_init(&t);
	struct et_pki *p = et_pki();
	t.zones[0].client_cert = (struct cert_files){ p->path[F_CA_CLIENT], p->path[F_CA_CLIENT_KEY], 9 };
	char err[512] = "", want[512];
	CHECK(edge_tls_build(&t.c, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: is a CA certificate, not a leaf", p->path[F_CA_CLIENT]);
	CHECK_STR(err, want);
	/* Pulls on without a certificate is refused too, not sent bare. */
	et_conf_init(&t);
	t.com[R_FULL].client_cert = NULL;
	CHECK(edge_tls_build(&t.c, err, sizeof err) == NULL);
	CHECK_STR(err, "/etc/pullgate/edge.yaml:10: record full.example.com has origin pulls on but "
		       "no client certificate");
}
