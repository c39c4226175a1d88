/*
 * Unit tests for the guard's TLS server side (src/tls/guard_tls*.c and the
 * verify policy): every verdict is reached through a real handshake between
 * an in-memory client and guard_tls_ctx(set) over a BIO pair, in TLS 1.2 and
 * in TLS 1.3. The certificates are made here with libcrypto, fresh per run.
 */
#include "unit.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "tls/builtin_engine.h"
#include "tls/guard_tls.h"
#include "tls/pins.h"
#include "tls/record_ciphers.h"
#include "tls/verify_cache.h"
#include "tls/verify_policy.h"

/* ---- certificates -------------------------------------------------- */

struct tv_id {
	X509 *cert;
	EVP_PKEY *key;
};

struct tv_cert_spec {
	const char *cn;
	long from_s, to_s;            /* validity relative to now */
	const char *eku, *ku;         /* extension values, NULL for none */
	bool is_ca;
	const char *const *sans;      /* "DNS:x", "IP:1.2.3.4", ...; NULL-terminated */
	long serial;
};

static void tv_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext)
		X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* SANs built by hand so that values may hold commas and control bytes. */
static void tv_add_sans(X509 *x, const char *const *sans)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	for (; sans && *sans; sans++) {
		const char *v = strchr(*sans, ':') + 1;
		GENERAL_NAME *gn = GENERAL_NAME_new();
		if (strncmp(*sans, "IP:", 3) == 0) {
			GENERAL_NAME_set0_value(gn, GEN_IPADD, a2i_IPADDRESS(v));
		} else {
			int type = strncmp(*sans, "DNS:", 4) == 0 ? GEN_DNS :
				   strncmp(*sans, "URI:", 4) == 0 ? GEN_URI : GEN_EMAIL;
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();
			ASN1_STRING_set(s, v, -1);
			GENERAL_NAME_set0_value(gn, type, s);
		}
		sk_GENERAL_NAME_push(gens, gn);
	}
	X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
}

/* A certificate for key; issuer NULL makes it self-signed. */
static X509 *tv_make_cert(const struct tv_cert_spec *sp, EVP_PKEY *key, X509 *issuer,
			  EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), sp->serial ? sp->serial : 1);
	X509_gmtime_adj(X509_getm_notBefore(x), sp->from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), sp->to_s);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Pullgate Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)sp->cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	X509 *signer = issuer ? issuer : x;
	tv_add_ext(x, signer, NID_basic_constraints, sp->is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	tv_add_ext(x, signer, NID_subject_key_identifier, "hash");
	if (issuer)
		tv_add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
	if (sp->ku)
		tv_add_ext(x, signer, NID_key_usage, sp->ku);
	if (sp->eku)
		tv_add_ext(x, signer, NID_ext_key_usage, sp->eku);
	if (sp->sans)
		tv_add_sans(x, sp->sans);
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	return x;
}

static struct tv_id tv_issue(const struct tv_cert_spec *sp, struct tv_id *ca)
{
	/* The curve by its OpenSSL name: with the built-in key methods
	 * registered (as in the roles) keys generate on the legacy path,
	 * which does not know the NIST alias "P-256". */
	struct tv_id id = { NULL, EVP_EC_gen("prime256v1") };
	id.cert = tv_make_cert(sp, id.key, ca ? ca->cert : NULL, ca ? ca->key : NULL);
	return id;
}

static struct tv_id tv_client(const char *cn, long from_s, long to_s, const char *eku,
			      const char *ku, long serial, struct tv_id *ca)
{
	struct tv_cert_spec sp = { cn, from_s, to_s, eku, ku, false, NULL, serial };
	return tv_issue(&sp, ca);
}

static X509_CRL *tv_make_crl(struct tv_id *ca, EVP_PKEY *sign_key, long revoked_serial)
{
	X509_CRL *crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	ASN1_TIME *t = X509_gmtime_adj(NULL, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_INTEGER_set(serial, revoked_serial);
	X509_REVOKED_set_serialNumber(r, serial);
	X509_gmtime_adj(t, -60);
	X509_REVOKED_set_revocationDate(r, t);
	X509_CRL_add0_revoked(crl, r);
	X509_CRL_sort(crl);
	X509_CRL_sign(crl, sign_key, EVP_sha256());
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	return crl;
}

/* ---- the fixture: one PKI per run, written to a temporary folder --- */

#define TV_DAY 86400L

struct tv_pki {
	char dir[64];
	struct tv_id ca, other_ca, fake_ca;
	struct tv_id good, expired, notyet, server_only, ku_agree, other_leaf, self_copy,
		fake_leaf, revoked, intruder, server, host, old_server;
	char path[16][128];
};

enum { P_CA, P_OTHER_CA, P_CRL, P_BAD_CRL, P_SRV, P_SRV_KEY, P_HOST, P_HOST_KEY, P_EMPTY,
       P_OLD_SRV, P_OLD_SRV_KEY, P_MISSING };

static struct tv_pki *tv_pki_ptr;

static void tv_write_cert(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	if (cert)
		PEM_write_X509(f, cert);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void tv_write_crl(const char *path, X509_CRL *crl)
{
	FILE *f = fopen(path, "w");
	PEM_write_X509_CRL(f, crl);
	fclose(f);
	X509_CRL_free(crl);
}

static const char *const tv_good_sans[] = {
	"DNS:edge.example.net", "IP:192.0.2.7", "IP:2001:db8::7",
	"URI:spiffe://example.net/edge", "email:ops@example.net", NULL
};

static void tv_pki_make(struct tv_pki *p)
{
	struct tv_cert_spec ca = { "Pullgate Test Edge CA", -TV_DAY, 365 * TV_DAY, NULL,
				   "critical,keyCertSign,cRLSign", true, NULL, 1 };
	p->ca = tv_issue(&ca, NULL);
	p->fake_ca = tv_issue(&ca, NULL); /* same name, another key */
	ca.cn = "Pullgate Test Other CA";
	p->other_ca = tv_issue(&ca, NULL);

	struct tv_cert_spec good = { "edge.example.net", -TV_DAY, 90 * TV_DAY, "clientAuth",
				     "critical,digitalSignature", false, tv_good_sans, 2 };
	p->good = tv_issue(&good, &p->ca);
	good.serial = 3;
	p->self_copy = tv_issue(&good, NULL);
	p->fake_leaf = tv_issue(&good, &p->fake_ca);
	p->other_leaf = tv_issue(&good, &p->other_ca);
	p->expired = tv_client("edge.example.net", -10 * TV_DAY, -TV_DAY, "clientAuth", NULL, 4, &p->ca);
	p->notyet = tv_client("edge.example.net", TV_DAY, 10 * TV_DAY, "clientAuth", NULL, 5, &p->ca);
	p->server_only = tv_client("edge.example.net", -TV_DAY, TV_DAY, "serverAuth", NULL, 6, &p->ca);
	p->ku_agree = tv_client("edge.example.net", -TV_DAY, TV_DAY, "clientAuth",
				"critical,keyAgreement", 7, &p->ca);
	p->revoked = tv_client("edge.example.net", -TV_DAY, TV_DAY, "clientAuth", NULL, 66, &p->ca);
	p->intruder = tv_client("intruder.example.net", -TV_DAY, TV_DAY, "clientAuth", NULL, 8, &p->ca);
	p->server = tv_client("origin.example", -TV_DAY, 365 * TV_DAY, "serverAuth", NULL, 9, NULL);
	p->host = tv_client("pinned.example", -TV_DAY, 365 * TV_DAY, "serverAuth", NULL, 10, NULL);
	p->old_server = tv_client("origin.example", -10 * TV_DAY, -2 * TV_DAY, "serverAuth", NULL, 11, NULL);
}

static void tv_pki_cleanup(void);

static struct tv_pki *tv_pki(void)
{
	if (tv_pki_ptr)
		return tv_pki_ptr;
	struct tv_pki *p = calloc(1, sizeof *p);
	snprintf(p->dir, sizeof p->dir, "/tmp/pullgate-tlsv-XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	static const char *const names[] = { "ca.pem", "other-ca.pem", "ca.crl", "bad.crl",
		"server.pem", "server.key", "host.pem", "host.key", "empty.pem", "old.pem",
		"old.key", "missing.pem" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		snprintf(p->path[i], sizeof p->path[i], "%s/%s", p->dir, names[i]);
	tv_pki_make(p);
	tv_write_cert(p->path[P_CA], p->ca.cert, NULL);
	tv_write_cert(p->path[P_OTHER_CA], p->other_ca.cert, NULL);
	tv_write_crl(p->path[P_CRL], tv_make_crl(&p->ca, p->ca.key, 66));
	tv_write_crl(p->path[P_BAD_CRL], tv_make_crl(&p->ca, p->fake_ca.key, 66));
	tv_write_cert(p->path[P_SRV], p->server.cert, NULL);
	tv_write_cert(p->path[P_SRV_KEY], NULL, p->server.key);
	tv_write_cert(p->path[P_HOST], p->host.cert, NULL);
	tv_write_cert(p->path[P_HOST_KEY], NULL, p->host.key);
	tv_write_cert(p->path[P_OLD_SRV], p->old_server.cert, NULL);
	tv_write_cert(p->path[P_OLD_SRV_KEY], NULL, p->old_server.key);
	FILE *f = fopen(p->path[P_EMPTY], "w");
	fputs("not a certificate\n", f);
	fclose(f);
	tv_pki_ptr = p;
	atexit(tv_pki_cleanup);
	return p;
}

static void tv_id_free(struct tv_id *id)
{
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
}

/* Registered with atexit once the certificates exist, so that it runs
 * before OpenSSL's own clean-up (registered earlier): a key made on the
 * legacy path holds an ENGINE reference that must go first. */
static void tv_pki_cleanup(void)
{
	struct tv_pki *p = tv_pki_ptr;
	if (!p)
		return;
	for (size_t i = 0; i < P_MISSING; i++)
		unlink(p->path[i]);
	rmdir(p->dir);
	struct tv_id *ids[] = { &p->ca, &p->other_ca, &p->fake_ca, &p->good, &p->expired,
		&p->notyet, &p->server_only, &p->ku_agree, &p->other_leaf, &p->self_copy,
		&p->fake_leaf, &p->revoked, &p->intruder, &p->server, &p->host, &p->old_server };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		tv_id_free(ids[i]);
	free(p);
	tv_pki_ptr = NULL;
}

/* ---- configurations, filled by hand -------------------------------- */

struct tv_conf {
	struct guard_conf c;
	char *ca[2], *crl[1], *preset[1], *subjects[1];
	struct guard_host hosts[2];
	char *h0_names[2], *h1_names[1];
	uint8_t pins[2][32], host_pins[1][32];
};

/* t must stay where it is: the conf points into it. */
static void tv_conf_init(struct tv_conf *t)
{
	struct tv_pki *p = tv_pki();
	memset(t, 0, sizeof *t);
	t->c.file = "/etc/pullgate/guard.yaml";
	t->c.certificate = p->path[P_SRV];
	t->c.key = p->path[P_SRV_KEY];
	t->ca[0] = p->path[P_CA];
	t->c.ca_files = (struct str_list){ t->ca, 1 };
}

/* hosts: [pinned.example, *.pinned.example] and [open.example]. */
static void tv_conf_hosts(struct tv_conf *t)
{
	t->h0_names[0] = "pinned.example";
	t->h0_names[1] = "*.pinned.example";
	t->h1_names[0] = "open.example";
	t->hosts[0] = (struct guard_host){ .hostnames = { t->h0_names, 2 }, .line = 12 };
	t->hosts[1] = (struct guard_host){ .hostnames = { t->h1_names, 1 }, .line = 20 };
	t->c.hosts = t->hosts;
	t->c.host_count = 2;
}

static void tv_conf_crl(struct tv_conf *t)
{
	t->crl[0] = tv_pki()->path[P_CRL];
	t->c.crl_files = (struct str_list){ t->crl, 1 };
}

static struct guard_tls *tv_build(struct tv_conf *t)
{
	char err[512] = "";
	struct guard_tls *set = guard_tls_build(&t->c, err, sizeof err);
	if (!set)
		fprintf(stderr, "  guard_tls_build: %s\n", err);
	return set;
}

/* ---- an in-memory handshake ---------------------------------------- */

struct tv_conn {
	SSL *client, *server;
	bool client_ok, server_ok, reused;
	unsigned long server_err, client_err;
	struct tls_refusal refusal;
};

static SSL_CTX *tv_client_ctx(int version, struct tv_id *id, X509 *chain_extra)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (version < TLS1_2_VERSION) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	}
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (id) {
		SSL_CTX_use_certificate(ctx, id->cert);
		SSL_CTX_use_PrivateKey(ctx, id->key);
	}
	if (chain_extra)
		SSL_CTX_add1_chain_cert(ctx, chain_extra);
	return ctx;
}

static bool tv_step(SSL *ssl, bool *done, unsigned long *err)
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

/* Runs a handshake to its end on both sides; then the client reads once so
 * that it takes in TLS 1.3 tickets or the alert of a late refusal. */
static void tv_connect(SSL_CTX *server_ctx, SSL_CTX *client_ctx, const char *sni,
		       SSL_SESSION *sess, struct tv_conn *c)
{
	memset(c, 0, sizeof *c);
	c->client = SSL_new(client_ctx);
	c->server = SSL_new(server_ctx);
	BIO *bc, *bs;
	BIO_new_bio_pair(&bc, 0, &bs, 0);
	SSL_set_bio(c->client, bc, bc);
	SSL_set_bio(c->server, bs, bs);
	SSL_set_connect_state(c->client);
	SSL_set_accept_state(c->server);
	if (sni)
		SSL_set_tlsext_host_name(c->client, sni);
	if (sess)
		SSL_set_session(c->client, sess);
	bool cdone = false, sdone = false, cfail = false, sfail = false;
	for (int i = 0; i < 64 && !((cdone || cfail) && (sdone || sfail)); i++) {
		if (!cdone && !cfail)
			cfail = !tv_step(c->client, &cdone, &c->client_err);
		if (!sdone && !sfail)
			sfail = !tv_step(c->server, &sdone, &c->server_err);
	}
	c->server_ok = sdone;
	c->client_ok = cdone;
	if (cdone) {
		char b;
		ERR_clear_error();
		int r = SSL_read(c->client, &b, 1);
		if (r <= 0 && SSL_get_error(c->client, r) != SSL_ERROR_WANT_READ) {
			c->client_ok = false;
			c->client_err = ERR_peek_error();
		}
	}
	c->reused = sdone && SSL_session_reused(c->server);
	guard_tls_describe_failure(c->server, c->server_err, &c->refusal);
	ERR_clear_error();
}

/* A clean close: freeing an SSL without one marks its session unusable. */
static void tv_conn_free(struct tv_conn *c)
{
	if (c->client_ok)
		SSL_shutdown(c->client);
	ERR_clear_error();
	SSL_free(c->client);
	SSL_free(c->server);
}

static const int tv_versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
#define TV_VNAME(v) ((v) == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2")

/* Connects with id (plus chain_extra) under sni in both versions; want_class
 * NULL means the server must accept, else refuse with that class and, when
 * want_alert is set, with that alert as the client reads it. */
static void tv_expect(struct guard_tls *set, struct tv_id *id, X509 *chain_extra,
		      const char *sni, const char *want_class, int want_alert)
{
	for (size_t i = 0; i < 2; i++) {
		int v = tv_versions[i];
		SSL_CTX *cctx = tv_client_ctx(v, id, chain_extra);
		struct tv_conn c;
		tv_connect(guard_tls_ctx(set), cctx, sni, NULL, &c);
		bool ok = want_class ? !c.server_ok && !c.client_ok &&
					       strcmp(c.refusal.class, want_class) == 0
				     : c.server_ok && c.client_ok;
		if (ok && want_alert && ERR_GET_REASON(c.client_err) != want_alert)
			ok = false;
		if (!ok || getenv("TV_VERBOSE"))
			fprintf(stderr, "  %s: server %s, client %s, class \"%s\" (%s), client "
				"error %d, want \"%s\"\n", TV_VNAME(v),
				c.server_ok ? "ok" : "refused", c.client_ok ? "ok" : "failed",
				c.refusal.class, c.refusal.detail, ERR_GET_REASON(c.client_err),
				want_class ? want_class : "accepted");
		CHECK(ok);
		tv_conn_free(&c);
		SSL_CTX_free(cctx);
	}
}

/* ---- verdicts ------------------------------------------------------ */

TEST(tls_verify_good_cert_accepted)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->good, NULL, NULL, NULL, 0);
	tv_expect(set, &tv_pki()->good, NULL, "edge.example.net", NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_no_cert_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, NULL, NULL, NULL, "no certificate", 0);
	/* TLS 1.3 names the problem in its alert. */
	SSL_CTX *cctx = tv_client_ctx(TLS1_3_VERSION, NULL, NULL);
	struct tv_conn c;
	tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &c);
	CHECK_EQ_INT(ERR_GET_REASON(c.client_err), SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED);
	tv_conn_free(&c);
	SSL_CTX_free(cctx);
	guard_tls_unref(set);
}

TEST(tls_verify_expired_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->expired, NULL, NULL, "expired",
		  SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED);
	guard_tls_unref(set);
}

TEST(tls_verify_not_yet_valid_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->notyet, NULL, NULL, "not yet valid", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_other_ca_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	tv_expect(set, &p->other_leaf, NULL, NULL, "unknown CA", SSL_R_TLSV1_ALERT_UNKNOWN_CA);
	/* Sending the other root along changes the error, not the verdict. */
	tv_expect(set, &p->other_leaf, p->other_ca.cert, NULL, "unknown CA", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_self_signed_copy_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->self_copy, NULL, NULL, "unknown CA", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_ca_with_same_name_other_key_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	tv_expect(set, &p->fake_leaf, NULL, NULL, "unknown CA", 0);
	tv_expect(set, &p->fake_leaf, p->fake_ca.cert, NULL, "unknown CA", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_revoked_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_crl(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	tv_expect(set, &p->revoked, NULL, NULL, "revoked", SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED);
	tv_expect(set, &p->good, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
	/* Without the CRL the same certificate passes. */
	tv_conf_init(&t);
	set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &p->revoked, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_crl_missing_for_issuer_refused)
{
	/* Two anchors, a CRL for one: the other's clients fail closed. */
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_crl(&t);
	t.ca[1] = tv_pki()->path[P_OTHER_CA];
	t.c.ca_files.count = 2;
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->other_leaf, NULL, NULL, "revoked", 0);
	tv_expect(set, &tv_pki()->good, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_server_auth_only_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->server_only, NULL, NULL, "wrong key usage",
		  SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE);
	guard_tls_unref(set);
}

TEST(tls_verify_key_agreement_only_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->ku_agree, NULL, NULL, "wrong key usage", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_subject_pin_refuses_other_subject)
{
	struct tv_conf t;
	tv_conf_init(&t);
	t.subjects[0] = "*.example.net";
	t.c.has_pins = true;
	t.c.pins.subjects = (struct str_list){ t.subjects, 1 };
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	/* intruder.example.net matches "*.example.net"; narrow to edge. */
	tv_expect(set, &tv_pki()->intruder, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
	t.subjects[0] = "edge.example.net";
	set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->intruder, NULL, NULL, "not pinned",
		  SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
	tv_expect(set, &tv_pki()->good, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_spki_pin_match_and_mismatch)
{
	struct tv_conf t;
	tv_conf_init(&t);
	REQUIRE(pin_spki_sha256(tv_pki()->good.cert, t.pins[0]));
	t.c.has_pins = true;
	t.c.pins.spki_sha256 = t.pins;
	t.c.pins.spki_sha256_count = 1;
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->good, NULL, NULL, NULL, 0);
	tv_expect(set, &tv_pki()->intruder, NULL, NULL, "not pinned", 0);
	/* The self-signed copy has the pinned name but not the pinned key,
	 * and fails before pins are looked at. */
	tv_expect(set, &tv_pki()->self_copy, NULL, NULL, "unknown CA", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_cert_sha256_pin)
{
	struct tv_conf t;
	tv_conf_init(&t);
	REQUIRE(pin_cert_sha256(tv_pki()->intruder.cert, t.pins[0]));
	REQUIRE(pin_cert_sha256(tv_pki()->revoked.cert, t.pins[1]));
	t.c.has_pins = true;
	t.c.pins.cert_sha256 = t.pins;
	t.c.pins.cert_sha256_count = 2;
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->intruder, NULL, NULL, NULL, 0);
	tv_expect(set, &tv_pki()->good, NULL, NULL, "not pinned", 0);
	guard_tls_unref(set);
}

/* hosts[0] (pinned.example) pins the good leaf's key; no global pins. */
static void tv_conf_sni_pins(struct tv_conf *t)
{
	tv_conf_init(t);
	tv_conf_hosts(t);
	pin_spki_sha256(tv_pki()->good.cert, t->host_pins[0]);
	t->hosts[0].has_pins = true;
	t->hosts[0].pins.spki_sha256 = t->host_pins;
	t->hosts[0].pins.spki_sha256_count = 1;
}

TEST(tls_verify_per_sni_pins)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	tv_expect(set, &p->intruder, NULL, "pinned.example", "not pinned", 0);
	tv_expect(set, &p->intruder, NULL, "a.pinned.example", "not pinned", 0);
	tv_expect(set, &p->good, NULL, "PINNED.example", NULL, 0);
	tv_expect(set, &p->intruder, NULL, "open.example", NULL, 0);
	tv_expect(set, &p->intruder, NULL, "elsewhere.example", NULL, 0);
	tv_expect(set, &p->intruder, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_sni_pins_replace_global_pins)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	REQUIRE(pin_spki_sha256(tv_pki()->intruder.cert, t.pins[0]));
	t.c.has_pins = true;
	t.c.pins.spki_sha256 = t.pins;
	t.c.pins.spki_sha256_count = 1;
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	tv_expect(set, &p->good, NULL, "pinned.example", NULL, 0);
	tv_expect(set, &p->good, NULL, "open.example", "not pinned", 0);
	tv_expect(set, &p->intruder, NULL, "open.example", NULL, 0);
	guard_tls_unref(set);
}

TEST(tls_verify_sni_selects_host_certificate)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	struct tv_pki *p = tv_pki();
	t.hosts[0].certificate = p->path[P_HOST];
	t.hosts[0].key = p->path[P_HOST_KEY];
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	const char *snis[] = { "a.pinned.example", "open.example", NULL };
	X509 *want_cert[] = { p->host.cert, p->server.cert, p->server.cert };
	const struct guard_host *want_host[] = { &t.hosts[0], &t.hosts[1], NULL };
	for (size_t v = 0; v < 2; v++) {
		for (size_t i = 0; i < 3; i++) {
			SSL_CTX *cctx = tv_client_ctx(tv_versions[v], &p->good, NULL);
			struct tv_conn c;
			tv_connect(guard_tls_ctx(set), cctx, snis[i], NULL, &c);
			CHECK(c.server_ok && c.client_ok);
			CHECK(X509_cmp(SSL_get0_peer_certificate(c.client), want_cert[i]) == 0);
			CHECK(guard_tls_matched_host(c.server) == want_host[i]);
			tv_conn_free(&c);
			SSL_CTX_free(cctx);
		}
	}
	/* The pins of the entry still apply on its own context. */
	tv_expect(set, &p->intruder, NULL, "pinned.example", "not pinned", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_tls11_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	SSL_CTX *cctx = tv_client_ctx(TLS1_1_VERSION, &tv_pki()->good, NULL);
	struct tv_conn c;
	tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &c);
	CHECK(!c.server_ok && !c.client_ok);
	CHECK_STR(c.refusal.class, "protocol");
	CHECK_EQ_INT(ERR_GET_REASON(c.server_err), SSL_R_UNSUPPORTED_PROTOCOL);
	tv_conn_free(&c);
	SSL_CTX_free(cctx);
	guard_tls_unref(set);
}

TEST(tls_verify_plain_http_refused)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	static const char req[] = "GET / HTTP/1.1\r\nHost: origin.example\r\n\r\n";
	SSL *s = SSL_new(guard_tls_ctx(set));
	SSL_set_bio(s, BIO_new_mem_buf(req, sizeof req - 1), BIO_new(BIO_s_mem()));
	ERR_clear_error();
	CHECK(SSL_accept(s) <= 0);
	unsigned long e = ERR_peek_error();
	struct tls_refusal r;
	guard_tls_describe_failure(s, e, &r);
	CHECK_STR(r.class, "protocol");
	CHECK(strlen(r.detail) > 0);
	CHECK_EQ_INT(ERR_GET_REASON(e), SSL_R_HTTP_REQUEST);
	ERR_clear_error();
	SSL_free(s);
	guard_tls_unref(set);
}

TEST(tls_verify_alpn_http11_or_none)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	static const unsigned char offers[][16] = { "\x02h2\x08http/1.1", "\x02h2" };
	static const unsigned int lens[] = { 12, 3 };
	for (size_t i = 0; i < 2; i++) {
		SSL_CTX *cctx = tv_client_ctx(TLS1_3_VERSION, &tv_pki()->good, NULL);
		SSL_CTX_set_alpn_protos(cctx, offers[i], lens[i]);
		struct tv_conn c;
		tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &c);
		CHECK(c.server_ok && c.client_ok);
		const unsigned char *proto;
		unsigned int plen;
		SSL_get0_alpn_selected(c.server, &proto, &plen);
		CHECK(i == 0 ? plen == 8 && memcmp(proto, "http/1.1", 8) == 0 : plen == 0);
		tv_conn_free(&c);
		SSL_CTX_free(cctx);
	}
	guard_tls_unref(set);
}

/* ---- sessions ------------------------------------------------------ */

/* A full handshake with id, then a resumption attempt with its session. */
static void tv_resume(SSL_CTX *first, SSL_CTX *second, int v, struct tv_id *id,
		      const char *sni1, const char *sni2, struct tv_conn *out)
{
	SSL_CTX *cctx = tv_client_ctx(v, id, NULL);
	struct tv_conn c;
	tv_connect(first, cctx, sni1, NULL, &c);
	CHECK(c.server_ok && c.client_ok && !c.reused);
	SSL_SESSION *sess = SSL_get1_session(c.client);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	tv_conn_free(&c);
	tv_connect(second, cctx, sni2, sess, out);
	SSL_SESSION_free(sess);
	SSL_CTX_free(cctx);
}

TEST(tls_verify_ticket_resumes_in_same_set)
{
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_hosts(&t);
	t.hosts[0].certificate = tv_pki()->path[P_HOST];
	t.hosts[0].key = tv_pki()->path[P_HOST_KEY];
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	for (size_t v = 0; v < 2; v++) {
		struct tv_conn c;
		tv_resume(guard_tls_ctx(set), guard_tls_ctx(set), tv_versions[v], &tv_pki()->good,
			  NULL, NULL, &c);
		CHECK(c.server_ok && c.reused);
		tv_conn_free(&c);
		/* Contexts of one set share ticket keys. */
		tv_resume(guard_tls_ctx(set), guard_tls_ctx(set), tv_versions[v], &tv_pki()->good,
			  "pinned.example", "pinned.example", &c);
		CHECK(c.server_ok && c.reused);
		tv_conn_free(&c);
	}
	guard_tls_unref(set);
}

TEST(tls_verify_ticket_from_other_set_rejected)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *a = tv_build(&t), *b = tv_build(&t);
	REQUIRE(a && b);
	for (size_t v = 0; v < 2; v++) {
		struct tv_conn c;
		tv_resume(guard_tls_ctx(a), guard_tls_ctx(b), tv_versions[v], &tv_pki()->good,
			  NULL, NULL, &c);
		CHECK(c.server_ok && c.client_ok);
		CHECK(!c.reused);
		tv_conn_free(&c);
	}
	guard_tls_unref(a);
	guard_tls_unref(b);
}

TEST(tls_verify_ticket_not_reused_across_pin_scopes)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	for (size_t v = 0; v < 2; v++) {
		struct tv_conn c;
		tv_resume(guard_tls_ctx(set), guard_tls_ctx(set), tv_versions[v],
			  &tv_pki()->intruder, "open.example", "pinned.example", &c);
		CHECK(!c.reused);
		CHECK(!c.server_ok);
		CHECK_STR(c.refusal.class, "not pinned");
		tv_conn_free(&c);
	}
	guard_tls_unref(set);
}

TEST(tls_verify_ticket_after_cert_expiry_not_resumed)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_id brief = tv_client("edge.example.net", -60, 2, "clientAuth", NULL, 40,
				       &tv_pki()->ca);
	SSL_SESSION *sess[2] = { NULL, NULL };
	SSL_CTX *cctx[2];
	for (size_t v = 0; v < 2; v++) {
		cctx[v] = tv_client_ctx(tv_versions[v], &brief, NULL);
		struct tv_conn c;
		tv_connect(guard_tls_ctx(set), cctx[v], NULL, NULL, &c);
		CHECK(c.server_ok && c.client_ok);
		sess[v] = SSL_get1_session(c.client);
		/* The ticket's lifetime is capped at the certificate's. */
		CHECK(sess[v] && SSL_SESSION_get_ticket_lifetime_hint(sess[v]) <= 3);
		tv_conn_free(&c);
	}
	time_t deadline = time(NULL) + 6;
	while (X509_cmp_current_time(X509_get0_notAfter(brief.cert)) >= 0 && time(NULL) < deadline)
		usleep(100 * 1000);
	for (size_t v = 0; v < 2; v++) {
		struct tv_conn c;
		tv_connect(guard_tls_ctx(set), cctx[v], NULL, sess[v], &c);
		CHECK(!c.reused && !c.server_ok);
		CHECK_STR(c.refusal.class, "expired");
		tv_conn_free(&c);
		SSL_SESSION_free(sess[v]);
		SSL_CTX_free(cctx[v]);
	}
	tv_id_free(&brief);
	guard_tls_unref(set);
}

TEST(tls_verify_session_check_time_and_pins)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	struct tv_pki *p = tv_pki();
	CHECK(verify_policy_session_ok(&t.c, NULL, p->good.cert));
	CHECK(verify_policy_session_ok(&t.c, NULL, p->intruder.cert));
	CHECK(verify_policy_session_ok(&t.c, &t.hosts[0], p->good.cert));
	CHECK(!verify_policy_session_ok(&t.c, &t.hosts[0], p->intruder.cert));
	CHECK(verify_policy_session_ok(&t.c, &t.hosts[1], p->intruder.cert));
	CHECK(!verify_policy_session_ok(&t.c, NULL, p->expired.cert));
	CHECK(!verify_policy_session_ok(&t.c, NULL, p->notyet.cert));
	CHECK(!verify_policy_session_ok(&t.c, NULL, p->ku_agree.cert));
	CHECK(!verify_policy_session_ok(&t.c, NULL, NULL));
}

/* ---- identity headers ---------------------------------------------- */

static struct identity_headers tv_identity_conf(void)
{
	return (struct identity_headers){
		.client_cert = true, .client_cert_chain = true,
		.verified = "X-Client-Verified", .subject = "X-Client-Subject",
		.san = "X-Client-SAN", .fingerprint = "X-Client-Fingerprint",
		.not_after = "X-Client-Not-After",
	};
}

static char *tv_b64(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	char *out = malloc(4 * ((size_t)n + 2) / 3 + 8);
	EVP_EncodeBlock((unsigned char *)out, der, n);
	OPENSSL_free(der);
	return out;
}

/* Handshakes id (sending its CA along) in TLS 1.3 and returns the block. */
static char *tv_identity_of(struct tv_id *id, X509 *chain, const struct identity_headers *h)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	if (!set)
		return NULL;
	SSL_CTX *cctx = tv_client_ctx(TLS1_3_VERSION, id, chain);
	struct tv_conn c;
	tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &c);
	size_t len = 0;
	char *block = c.server_ok ? guard_tls_identity_block(c.server, h, &len) : NULL;
	if (block && strlen(block) != len) {
		free(block);
		block = NULL;
	}
	tv_conn_free(&c);
	SSL_CTX_free(cctx);
	guard_tls_unref(set);
	return block;
}

TEST(tls_verify_identity_block_contents)
{
	struct tv_pki *p = tv_pki();
	struct identity_headers h = tv_identity_conf();
	char *block = tv_identity_of(&p->good, p->ca.cert, &h);
	REQUIRE(block);
	char *leaf64 = tv_b64(p->good.cert), *ca64 = tv_b64(p->ca.cert);
	uint8_t d[32];
	pin_cert_sha256(p->good.cert, d);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	struct tm tm;
	ASN1_TIME_to_tm(X509_get0_notAfter(p->good.cert), &tm);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char *want = NULL;
	int n = asprintf(&want,
		"Client-Cert: :%s:\r\n"
		"Client-Cert-Chain: :%s:\r\n"
		"X-Client-Verified: SUCCESS\r\n"
		"X-Client-Subject: CN=edge.example.net,O=Pullgate Test\r\n"
		"X-Client-SAN: DNS:edge.example.net,IP:192.0.2.7,IP:2001:db8::7,"
		"URI:spiffe://example.net/edge,email:ops@example.net\r\n"
		"X-Client-Fingerprint: %s\r\n"
		"X-Client-Not-After: %s\r\n", leaf64, ca64, hex, when);
	REQUIRE(n > 0);
	CHECK_STR(block, want);
	free(want);
	free(block);
	/* Headers turned off are left out; no chain sent, no chain header. */
	h.client_cert_chain = false;
	h.subject = NULL;
	h.san = "";
	block = tv_identity_of(&p->good, NULL, &h);
	REQUIRE(block);
	CHECK(strncmp(block, "Client-Cert: :", 14) == 0);
	CHECK(!strstr(block, "Client-Cert-Chain") && !strstr(block, "Subject") &&
	      !strstr(block, "SAN"));
	CHECK(strstr(block, "X-Client-Verified: SUCCESS\r\n") != NULL);
	free(block);
	free(leaf64);
	free(ca64);
}

/* Connections whose handshakes share the kept certificate share one
 * identity; another certificate, or the same one sent with its chain,
 * gets its own, and each says what its block says. */
TEST(tls_verify_identity_shared_by_certificate)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	struct identity_headers h = tv_identity_conf();
	SSL_CTX *good = tv_client_ctx(TLS1_3_VERSION, &p->good, NULL);
	SSL_CTX *chained = tv_client_ctx(TLS1_3_VERSION, &p->good, p->ca.cert);
	SSL_CTX *other = tv_client_ctx(TLS1_2_VERSION, &p->intruder, NULL);
	struct tv_conn c[4];
	tv_connect(guard_tls_ctx(set), good, NULL, NULL, &c[0]);
	tv_connect(guard_tls_ctx(set), good, NULL, NULL, &c[1]);
	tv_connect(guard_tls_ctx(set), chained, NULL, NULL, &c[2]);
	tv_connect(guard_tls_ctx(set), other, NULL, NULL, &c[3]);
	struct guard_identity *id[4] = { NULL };
	for (int i = 0; i < 4; i++) {
		CHECK(c[i].server_ok);
		id[i] = c[i].server_ok ? guard_tls_identity(c[i].server, &h) : NULL;
		REQUIRE(id[i]);
		size_t len = 0;
		char *block = guard_tls_identity_block(c[i].server, &h, &len);
		REQUIRE(block);
		CHECK_EQ_INT(id[i]->len, len);
		CHECK(id[i]->len == len && memcmp(id[i]->block, block, len) == 0);
		free(block);
	}
	CHECK(id[0] == id[1]);
	CHECK(id[2] != id[0] && id[3] != id[0] && id[3] != id[2]);
	CHECK(strstr(id[2]->block, "Client-Cert-Chain: ") != NULL);
	CHECK(strstr(id[0]->block, "Client-Cert-Chain: ") == NULL);
	/* The fingerprint for the log is the certificate's SHA-256. */
	uint8_t d[32];
	char hex[65];
	REQUIRE(pin_cert_sha256(p->good.cert, d));
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	CHECK_STR(id[0]->fingerprint, hex);
	CHECK(strcmp(id[3]->fingerprint, hex) != 0 && strlen(id[3]->fingerprint) == 64);
	/* Another header configuration is another identity. */
	struct identity_headers h2 = h;
	h2.subject = NULL;
	struct guard_identity *id2 = guard_tls_identity(c[1].server, &h2);
	REQUIRE(id2);
	CHECK(id2 != id[1]);
	CHECK(!strstr(id2->block, "Subject"));
	guard_identity_unref(id2);
	/* An identity outlives the connections and certificate it came from. */
	for (int i = 0; i < 4; i++)
		tv_conn_free(&c[i]);
	CHECK(strncmp(id[0]->block, "Client-Cert: :", 14) == 0);
	for (int i = 0; i < 4; i++)
		guard_identity_unref(id[i]);
	SSL_CTX_free(good);
	SSL_CTX_free(chained);
	SSL_CTX_free(other);
	guard_tls_unref(set);
}

TEST(tls_verify_identity_block_no_injection)
{
	static const char *const sans[] = { "DNS:a.example\r\nX-Injected: 1",
		"URI:https://x.example/?a=1,DNS:admin.example", NULL };
	struct tv_cert_spec sp = { "evil\r\nX-Injected: yes\x7f", -60, TV_DAY, "clientAuth", NULL,
				   false, sans, 77 };
	struct tv_id evil = tv_issue(&sp, &tv_pki()->ca);
	struct identity_headers h = tv_identity_conf();
	char *block = tv_identity_of(&evil, NULL, &h);
	REQUIRE(block);
	/* Every line is one of ours; no CR or LF or DEL inside a value. */
	int lines = 0;
	for (char *line = block; *line; lines++) {
		char *end = strstr(line, "\r\n");
		REQUIRE(end);
		for (char *q = line; q < end; q++)
			CHECK(*q != '\r' && *q != '\n' && *q != 0x7f);
		CHECK(strncmp(line, "Client-Cert: ", 13) == 0 || strncmp(line, "X-Client-", 9) == 0);
		CHECK(strncmp(line, "X-Injected", 10) != 0);
		line = end + 2;
	}
	CHECK_EQ_INT(lines, 6);
	CHECK(strstr(block, "X-Client-SAN: DNS:a.example??X-Injected: 1,"
			    "URI:https://x.example/?a=1%2CDNS:admin.example\r\n") != NULL);
	CHECK(strstr(block, "X-Client-Subject: CN=evil\\0D\\0AX-Injected: yes") != NULL);
	free(block);
	tv_id_free(&evil);
}

TEST(tls_verify_identity_reserved_names)
{
	struct identity_headers h = tv_identity_conf();
	CHECK(guard_identity_is_reserved(&h, SLICE_LIT("client-cert")));
	CHECK(guard_identity_is_reserved(&h, SLICE_LIT("CLIENT-CERT-CHAIN")));
	CHECK(guard_identity_is_reserved(&h, SLICE_LIT("x-client-subject")));
	CHECK(guard_identity_is_reserved(&h, SLICE_LIT("X-Client-Not-After")));
	CHECK(!guard_identity_is_reserved(&h, SLICE_LIT("X-Client")));
	CHECK(!guard_identity_is_reserved(&h, SLICE_LIT("Client-Cert-Chainx")));
	CHECK(!guard_identity_is_reserved(&h, SLICE_LIT("Host")));
	/* Client-Cert stays reserved when the guard does not send it. */
	h.client_cert = false;
	h.subject = NULL;
	h.san = "";
	CHECK(guard_identity_is_reserved(&h, SLICE_LIT("Client-Cert")));
	CHECK(!guard_identity_is_reserved(&h, SLICE_LIT("X-Client-Subject")));
	CHECK(!guard_identity_is_reserved(&h, SLICE_LIT("")));
}

/* ---- Host rules ---------------------------------------------------- */

static bool tv_allowed(struct guard_tls *set, SSL *ssl, const char *host)
{
	return guard_tls_host_allowed(set, guard_tls_matched_host(ssl), slice_from_cstr(host));
}

TEST(tls_verify_host_allowed_rules)
{
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_hosts(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	const char *snis[] = { "pinned.example", "x.pinned.example", "nowhere.example", NULL };
	for (size_t i = 0; i < 4; i++) {
		SSL_CTX *cctx = tv_client_ctx(TLS1_3_VERSION, &tv_pki()->good, NULL);
		struct tv_conn c;
		tv_connect(guard_tls_ctx(set), cctx, snis[i], NULL, &c);
		REQUIRE(c.server_ok);
		bool matched = i < 2;
		CHECK(tv_allowed(set, c.server, "pinned.example") == matched);
		CHECK(tv_allowed(set, c.server, "PINNED.Example.:8443") == matched);
		CHECK(tv_allowed(set, c.server, "y.pinned.example") == matched);
		CHECK(!tv_allowed(set, c.server, "open.example"));
		CHECK(tv_allowed(set, c.server, "other.example") == !matched);
		CHECK(tv_allowed(set, c.server, "[::1]:8443") == !matched);
		tv_conn_free(&c);
		SSL_CTX_free(cctx);
	}
	guard_tls_unref(set);
	/* Without hosts every Host is fine. */
	tv_conf_init(&t);
	set = tv_build(&t);
	REQUIRE(set);
	SSL *s = SSL_new(guard_tls_ctx(set));
	CHECK(tv_allowed(set, s, "anything.example"));
	SSL_free(s);
	guard_tls_unref(set);
}

/* ---- building a set: errors and warnings --------------------------- */

/* Builds t expecting failure; err must contain want. */
static bool tv_build_fails(struct tv_conf *t, const char *want)
{
	char err[512] = "";
	struct guard_tls *set = guard_tls_build(&t->c, err, sizeof err);
	if (set) {
		guard_tls_unref(set);
		fprintf(stderr, "  built, wanted \"%s\"\n", want);
		return false;
	}
	if (!strstr(err, want)) {
		fprintf(stderr, "  error \"%s\", wanted \"%s\"\n", err, want);
		return false;
	}
	return true;
}

TEST(tls_verify_build_errors_name_the_file)
{
	struct tv_pki *p = tv_pki();
	struct tv_conf t;
	char want[300];
	tv_conf_init(&t);
	t.ca[0] = p->path[P_MISSING];
	snprintf(want, sizeof want, "%s: cannot open", p->path[P_MISSING]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.ca[0] = p->path[P_EMPTY];
	snprintf(want, sizeof want, "%s: no certificate found", p->path[P_EMPTY]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.crl[0] = p->path[P_CA];
	t.c.crl_files = (struct str_list){ t.crl, 1 };
	snprintf(want, sizeof want, "%s: no CRL found", p->path[P_CA]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.crl[0] = p->path[P_BAD_CRL];
	t.c.crl_files = (struct str_list){ t.crl, 1 };
	snprintf(want, sizeof want, "%s: CRL signature does not verify", p->path[P_BAD_CRL]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.c.key = p->path[P_HOST_KEY];
	snprintf(want, sizeof want, "%s: does not match %s", p->path[P_HOST_KEY], p->path[P_SRV]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.c.key = p->path[P_SRV];
	snprintf(want, sizeof want, "%s: no private key found", p->path[P_SRV]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.c.certificate = p->path[P_OLD_SRV];
	t.c.key = p->path[P_OLD_SRV_KEY];
	char date[16];
	struct tm tm;
	ASN1_TIME_to_tm(X509_get0_notAfter(p->old_server.cert), &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	snprintf(want, sizeof want, "%s: expired on %s", p->path[P_OLD_SRV], date);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	tv_conf_hosts(&t);
	t.hosts[1].certificate = p->path[P_HOST];
	t.hosts[1].key = p->path[P_MISSING];
	snprintf(want, sizeof want, "%s: cannot open", p->path[P_MISSING]);
	CHECK(tv_build_fails(&t, want));

	tv_conf_init(&t);
	t.preset[0] = "akamai";
	t.c.presets = (struct str_list){ t.preset, 1 };
	CHECK(tv_build_fails(&t, "/etc/pullgate/guard.yaml: unknown trust preset 'akamai'"));

	tv_conf_init(&t);
	t.c.ca_files.count = 0;
	CHECK(tv_build_fails(&t, "no trust anchors"));
}

/* Runs a build with stderr in a file; returns what was logged (malloc'd). */
static char *tv_build_logged(struct tv_conf *t, bool *built)
{
	char path[] = "/tmp/pullgate-tlsv-log-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	dup2(fd, 2);
	char err[512] = "";
	struct guard_tls *set = guard_tls_build(&t->c, err, sizeof err);
	dup2(saved, 2);
	close(saved);
	*built = set != NULL;
	guard_tls_unref(set);
	char *text = calloc(1, 8192);
	ssize_t n = pread(fd, text, 8191, 0);
	(void)n;
	close(fd);
	unlink(path);
	return text;
}

TEST(tls_verify_cloudflare_preset_warns_without_pins)
{
	struct tv_conf t;
	tv_conf_init(&t);
	t.preset[0] = "cloudflare";
	t.c.presets = (struct str_list){ t.preset, 1 };
	bool built;
	char *log = tv_build_logged(&t, &built);
	CHECK(built);
	CHECK(strstr(log, "trust preset cloudflare is a shared anchor and no pins are set: any "
			  "holder of a certificate from that CA can reach this origin; pin your "
			  "own zone or hostname certificate (pins.spki_sha256)") != NULL);
	free(log);
	/* Pinned: no warning, and the preset alone trusts nothing of ours. */
	pin_spki_sha256(tv_pki()->good.cert, t.pins[0]);
	t.c.has_pins = true;
	t.c.pins.spki_sha256 = t.pins;
	t.c.pins.spki_sha256_count = 1;
	log = tv_build_logged(&t, &built);
	CHECK(built && !strstr(log, "shared anchor"));
	free(log);
	t.c.ca_files.count = 0;
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	tv_expect(set, &tv_pki()->good, NULL, NULL, "unknown CA", 0);
	guard_tls_unref(set);
}

TEST(tls_verify_warns_on_certificate_close_to_expiry)
{
	struct tv_pki *p = tv_pki();
	struct tv_id soon = tv_client("origin.example", -TV_DAY, 10 * TV_DAY, "serverAuth", NULL,
				      12, NULL);
	char cert[160], key[160];
	snprintf(cert, sizeof cert, "%s/soon.pem", p->dir);
	snprintf(key, sizeof key, "%s/soon.key", p->dir);
	tv_write_cert(cert, soon.cert, NULL);
	tv_write_cert(key, NULL, soon.key);
	struct tv_conf t;
	tv_conf_init(&t);
	t.c.certificate = cert;
	t.c.key = key;
	bool built;
	char *log = tv_build_logged(&t, &built);
	CHECK(built);
	char want[256];
	snprintf(want, sizeof want, "%s: certificate expires in 10 day(s)", cert);
	CHECK(strstr(log, want) != NULL);
	free(log);
	unlink(cert);
	unlink(key);
	tv_id_free(&soon);
}

TEST(tls_verify_crl_warnings)
{
	/* A CRL from an anchor the guard does not trust is suspicious. */
	struct tv_pki *p = tv_pki();
	char crl[160];
	snprintf(crl, sizeof crl, "%s/other.crl", p->dir);
	tv_write_crl(crl, tv_make_crl(&p->other_ca, p->other_ca.key, 1));
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_crl(&t);
	t.crl[0] = crl;
	bool built;
	char *log = tv_build_logged(&t, &built);
	CHECK(built);
	CHECK(strstr(log, "no configured CA issued this CRL") != NULL);
	CHECK(strstr(log, "none is issued by CN=Pullgate Test Edge CA,O=Pullgate Test") != NULL);
	free(log);
	unlink(crl);
}

/* ---- smaller pieces ------------------------------------------------ */

TEST(tls_verify_pin_set_subjects_cn_or_dns_san)
{
	struct tv_pki *p = tv_pki();
	char *subjects[] = { "*.example.net" };
	struct pin_set pins = { .subjects = { subjects, 1 } };
	char why[96];
	CHECK(pin_set_matches(&pins, p->good.cert, why, sizeof why));
	subjects[0] = "edge.example.net";
	CHECK(pin_set_matches(&pins, p->good.cert, why, sizeof why));
	CHECK(!pin_set_matches(&pins, p->intruder.cert, why, sizeof why));
	subjects[0] = "example.net";
	CHECK(!pin_set_matches(&pins, p->good.cert, why, sizeof why));
	CHECK(pin_set_is_empty(&(struct pin_set){ 0 }));
	CHECK(pin_set_matches(NULL, p->good.cert, why, sizeof why));
	/* Fingerprint AND subject when both are set. */
	uint8_t spki[1][32];
	pin_spki_sha256(p->intruder.cert, spki[0]);
	subjects[0] = "edge.example.net";
	pins.spki_sha256 = spki;
	pins.spki_sha256_count = 1;
	CHECK(!pin_set_matches(&pins, p->intruder.cert, why, sizeof why));
	CHECK(!pin_set_matches(&pins, p->good.cert, why, sizeof why));
	subjects[0] = "intruder.example.net";
	CHECK(pin_set_matches(&pins, p->intruder.cert, why, sizeof why));
}

TEST(tls_verify_failure_classes)
{
	CHECK_STR(verify_policy_class(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), "unknown CA");
	CHECK_STR(verify_policy_class(X509_V_ERR_CERT_SIGNATURE_FAILURE), "unknown CA");
	CHECK_STR(verify_policy_class(X509_V_ERR_CERT_HAS_EXPIRED), "expired");
	CHECK_STR(verify_policy_class(X509_V_ERR_CERT_NOT_YET_VALID), "not yet valid");
	CHECK_STR(verify_policy_class(X509_V_ERR_CERT_REVOKED), "revoked");
	CHECK_STR(verify_policy_class(X509_V_ERR_INVALID_PURPOSE), "wrong key usage");
	CHECK_STR(verify_policy_class(X509_V_ERR_APPLICATION_VERIFICATION), "not pinned");
	CHECK_STR(verify_policy_class(X509_V_ERR_OUT_OF_MEM), "protocol");
	/* No record on the connection: the TLS error decides. */
	struct tls_refusal r;
	guard_tls_describe_failure(NULL, ERR_PACK(ERR_LIB_SSL, 0, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE), &r);
	CHECK_STR(r.class, "no certificate");
	guard_tls_describe_failure(NULL, ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_SHARED_CIPHER), &r);
	CHECK_STR(r.class, "protocol");
	CHECK_STR(r.detail, "no shared cipher");
}

TEST(tls_verify_set_outlives_its_builder_reference)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	guard_tls_ref(set);   /* a connection's reference */
	guard_tls_unref(set); /* the reload dropped the set */
	tv_expect(set, &tv_pki()->good, NULL, NULL, NULL, 0);
	guard_tls_unref(set);
}

/* ---- the cache of verified chains ---------------------------------- */

/* One TLS 1.3 handshake with id (plus chain_extra) under sni; true when
 * both sides finished it. */
static bool tv_once(struct guard_tls *set, struct tv_id *id, X509 *chain_extra, const char *sni,
		    struct tls_refusal *refusal)
{
	SSL_CTX *cctx = tv_client_ctx(TLS1_3_VERSION, id, chain_extra);
	struct tv_conn c;
	tv_connect(guard_tls_ctx(set), cctx, sni, NULL, &c);
	bool ok = c.server_ok && c.client_ok;
	if (refusal)
		*refusal = c.refusal;
	tv_conn_free(&c);
	SSL_CTX_free(cctx);
	return ok;
}

static unsigned long long tv_hits(struct guard_tls *set, unsigned long long *lookups)
{
	unsigned long long hits = 0, n = 0;
	guard_tls_verify_counts(set, &hits, &n);
	if (lookups)
		*lookups = n;
	return hits;
}

TEST(tls_verify_cache_reuses_a_verified_chain)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	unsigned long long lookups;
	CHECK(tv_once(set, &p->good, NULL, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, &lookups), 0);
	CHECK_EQ_INT(lookups, 1);
	CHECK(tv_once(set, &p->good, NULL, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, &lookups), 1);
	CHECK_EQ_INT(lookups, 2);
	/* Other bytes are another key: another leaf, or the same leaf with
	 * more certificates sent along. */
	CHECK(tv_once(set, &p->intruder, NULL, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	CHECK(tv_once(set, &p->good, p->ca.cert, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	CHECK(tv_once(set, &p->good, p->ca.cert, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, NULL), 2);
	/* A new set (a reload: other anchors or CRLs) starts empty. */
	struct guard_tls *next = tv_build(&t);
	REQUIRE(next);
	CHECK(tv_once(next, &p->good, NULL, NULL, NULL));
	CHECK_EQ_INT(tv_hits(next, NULL), 0);
	guard_tls_unref(next);
	guard_tls_unref(set);
}

/* A hit hands the handshake the kept leaf: live connections with the same
 * certificate share one parsed copy, in both versions; another
 * certificate gets its own. */
TEST(tls_verify_cache_hit_shares_the_peer_certificate)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	for (size_t v = 0; v < 2; v++) {
		SSL_CTX *cctx = tv_client_ctx(tv_versions[v], &p->good, NULL);
		SSL_CTX *ictx = tv_client_ctx(tv_versions[v], &p->intruder, NULL);
		struct tv_conn a, b, c;
		tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &a);
		tv_connect(guard_tls_ctx(set), cctx, NULL, NULL, &b);
		tv_connect(guard_tls_ctx(set), ictx, NULL, NULL, &c);
		CHECK(a.server_ok && b.server_ok && c.server_ok);
		X509 *pa = SSL_get0_peer_certificate(a.server);
		X509 *pb = SSL_get0_peer_certificate(b.server);
		X509 *pc = SSL_get0_peer_certificate(c.server);
		REQUIRE(pa && pb && pc);
		CHECK(pa == pb);
		CHECK(pa != pc);
		CHECK_EQ_INT(X509_cmp(pa, p->good.cert), 0);
		CHECK_EQ_INT(X509_cmp(pc, p->intruder.cert), 0);
		/* The verified chain starts with the same object. */
		STACK_OF(X509) *chain = SSL_get0_verified_chain(b.server);
		CHECK(chain && sk_X509_value(chain, 0) == pb);
		/* The first connection's copy outlives its connection. */
		tv_conn_free(&a);
		CHECK_EQ_INT(X509_cmp(pb, p->good.cert), 0);
		tv_conn_free(&b);
		tv_conn_free(&c);
		SSL_CTX_free(cctx);
		SSL_CTX_free(ictx);
	}
	guard_tls_unref(set);
}

/* Two threads that verified the same certificates at once both store:
 * the chain kept first stays (handshakes on other threads may share its
 * leaf), and the second is dropped rather than freeing the first. */
TEST(tls_verify_cache_keeps_the_first_of_two_stores)
{
	struct tv_pki *p = tv_pki();
	X509_STORE *store = X509_STORE_new();
	REQUIRE(store && X509_STORE_add_cert(store, p->ca.cert) == 1);
	struct verify_cache *vc = verify_cache_new(store, 16);
	REQUIRE(vc);
	X509 *leaf[3] = { 0 };
	X509_STORE_CTX *x[3] = { 0 };
	unsigned char key[3][VERIFY_CACHE_KEY_LEN];
	for (int i = 0; i < 3; i++) {
		leaf[i] = X509_dup(p->good.cert); /* the same bytes, parsed apart */
		x[i] = X509_STORE_CTX_new();
		REQUIRE(leaf[i] && x[i] && X509_STORE_CTX_init(x[i], store, leaf[i], NULL) == 1);
		CHECK(verify_cache_key(x[i], key[i]));
		CHECK(memcmp(key[i], key[0], VERIFY_CACHE_KEY_LEN) == 0);
	}
	CHECK_EQ_INT(X509_verify_cert(x[0]), 1);
	CHECK_EQ_INT(X509_verify_cert(x[1]), 1);
	verify_cache_store(vc, key[0], x[0]);
	verify_cache_store(vc, key[1], x[1]);
	CHECK(verify_cache_lookup(vc, key[2], x[2]));
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(x[2]);
	CHECK(chain && sk_X509_num(chain) == 2);
	CHECK(chain && sk_X509_value(chain, 0) == leaf[0]);
	for (int i = 0; i < 3; i++) {
		X509_STORE_CTX_free(x[i]);
		X509_free(leaf[i]);
	}
	verify_cache_free(vc);
	X509_STORE_free(store);
}

/* Our own handshake looks a lone certificate up by its bytes: the key it
 * makes from them is the one OpenSSL's path stores the chain under (the
 * client sent the leaf and the CA: both, in order), and the chain found is
 * the one kept, leaf first. */
TEST(tls_verify_cache_finds_a_chain_by_its_bytes)
{
	struct tv_pki *p = tv_pki();
	X509_STORE *store = X509_STORE_new();
	REQUIRE(store && X509_STORE_add_cert(store, p->ca.cert) == 1);
	struct verify_cache *vc = verify_cache_new(store, 16);
	X509_STORE_CTX *x = X509_STORE_CTX_new();
	STACK_OF(X509) *sent = sk_X509_new_null();
	REQUIRE(vc && x && sent && sk_X509_push(sent, p->good.cert) && sk_X509_push(sent, p->ca.cert));
	REQUIRE(X509_STORE_CTX_init(x, store, p->good.cert, sent) == 1);
	unsigned char stored[VERIFY_CACHE_KEY_LEN], lone[VERIFY_CACHE_KEY_LEN], pair[VERIFY_CACHE_KEY_LEN];
	REQUIRE(verify_cache_key(x, stored));
	unsigned char *der[2] = { NULL, NULL };
	int n0 = i2d_X509(p->good.cert, &der[0]), n1 = i2d_X509(p->ca.cert, &der[1]);
	REQUIRE(n0 > 0 && n1 > 0);
	const unsigned char *const ders[2] = { der[0], der[1] };
	const size_t lens[2] = { (size_t)n0, (size_t)n1 };
	CHECK(verify_cache_key_der(ders, lens, 2, pair));
	CHECK(memcmp(pair, stored, VERIFY_CACHE_KEY_LEN) == 0);
	CHECK(verify_cache_key_der(ders, lens, 1, lone));
	CHECK(memcmp(lone, stored, VERIFY_CACHE_KEY_LEN) != 0);
	CHECK(!verify_cache_find(vc, pair));
	REQUIRE(X509_verify_cert(x) == 1);
	verify_cache_store(vc, stored, x);
	STACK_OF(X509) *found = verify_cache_find(vc, pair);
	CHECK(found && sk_X509_num(found) == 2 && X509_cmp(sk_X509_value(found, 0), p->good.cert) == 0);
	CHECK(!verify_cache_find(vc, lone));
	unsigned long long hits = 0, lookups = 0;
	verify_cache_counts(vc, &hits, &lookups);
	CHECK_EQ_INT(hits, 1);
	CHECK_EQ_INT(lookups, 3);
	sk_X509_pop_free(found, X509_free);
	OPENSSL_free(der[0]);
	OPENSSL_free(der[1]);
	sk_X509_free(sent);
	X509_STORE_CTX_free(x);
	verify_cache_free(vc);
	X509_STORE_free(store);
}

TEST(tls_verify_cache_keeps_no_refusal)
{
	struct tv_conf t;
	tv_conf_init(&t);
	tv_conf_crl(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	struct tls_refusal r;
	for (int i = 0; i < 2; i++) {
		CHECK(!tv_once(set, &p->revoked, NULL, NULL, &r));
		CHECK_STR(r.class, "revoked");
		CHECK(!tv_once(set, &p->other_leaf, NULL, NULL, &r));
		CHECK_STR(r.class, "unknown CA");
	}
	unsigned long long lookups;
	CHECK_EQ_INT(tv_hits(set, &lookups), 0);
	CHECK_EQ_INT(lookups, 4);
	guard_tls_unref(set);
}

TEST(tls_verify_cache_hit_still_checks_pins_and_signature)
{
	struct tv_conf t;
	tv_conf_sni_pins(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	struct tls_refusal r;
	/* Verified (and kept) under a scope without pins... */
	CHECK(tv_once(set, &p->intruder, NULL, "open.example", NULL));
	/* ...still refused under the pinned scope, from the cache. */
	CHECK(!tv_once(set, &p->intruder, NULL, "pinned.example", &r));
	CHECK_STR(r.class, "not pinned");
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	guard_tls_unref(set);
}

/* Moves what from has written to to, flipping the last byte of a TLS 1.2
 * CertificateVerify (handshake type 15, sent in the clear) when tamper is
 * set. Returns whether one was flipped. */
static bool tv_pump(BIO *from, BIO *to, bool tamper)
{
	unsigned char buf[16384];
	bool flipped = false;
	int n;
	while ((n = BIO_read(from, buf, sizeof buf)) > 0) {
		for (int off = 0; tamper && off + 5 <= n;) {
			int len = buf[off + 3] << 8 | buf[off + 4];
			if (buf[off] == 22 && off + 5 + len <= n) {
				for (int m = off + 5; m + 4 <= off + 5 + len;) {
					int mlen = buf[m + 1] << 16 | buf[m + 2] << 8 | buf[m + 3];
					if (buf[m] == 15 && m + 4 + mlen <= off + 5 + len && mlen > 0) {
						buf[m + 4 + mlen - 1] ^= 0x01;
						flipped = true;
					}
					m += 4 + mlen;
				}
			}
			off += 5 + len;
		}
		BIO_write(to, buf, n);
	}
	return flipped;
}

TEST(tls_verify_cache_hit_still_checks_the_signature)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_pki *p = tv_pki();
	CHECK(tv_once(set, &p->good, NULL, NULL, NULL));
	/* The same chain, known to the cache, with a CertificateVerify that
	 * its key did not make: refused. */
	SSL_CTX *cctx = tv_client_ctx(TLS1_2_VERSION, &p->good, NULL);
	SSL *client = SSL_new(cctx), *server = SSL_new(guard_tls_ctx(set));
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	SSL_set_bio(client, c_in, c_out);
	SSL_set_bio(server, s_in, s_out);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	bool flipped = false, server_done = false, server_failed = false;
	unsigned long err = 0;
	for (int i = 0; i < 32 && !server_done && !server_failed; i++) {
		bool ignored = false;
		unsigned long cerr = 0;
		tv_step(client, &ignored, &cerr);
		flipped |= tv_pump(c_out, s_in, true);
		server_failed = !tv_step(server, &server_done, &err);
		tv_pump(s_out, c_in, false);
	}
	CHECK(flipped);
	CHECK(server_failed && !server_done);
	CHECK_EQ_INT(ERR_GET_REASON(err), SSL_R_BAD_SIGNATURE);
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(cctx);
	ERR_clear_error();
	guard_tls_unref(set);
}

TEST(tls_verify_cache_entry_dies_with_the_certificate)
{
	struct tv_conf t;
	tv_conf_init(&t);
	struct guard_tls *set = tv_build(&t);
	REQUIRE(set);
	struct tv_id brief = tv_client("edge.example.net", -60, 2, "clientAuth", NULL, 41,
				       &tv_pki()->ca);
	CHECK(tv_once(set, &brief, NULL, NULL, NULL));
	CHECK(tv_once(set, &brief, NULL, NULL, NULL));
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	time_t deadline = time(NULL) + 6;
	while (X509_cmp_current_time(X509_get0_notAfter(brief.cert)) >= 0 && time(NULL) < deadline)
		usleep(100 * 1000);
	struct tls_refusal r;
	CHECK(!tv_once(set, &brief, NULL, NULL, &r));
	CHECK_STR(r.class, "expired");
	CHECK_EQ_INT(tv_hits(set, NULL), 1);
	tv_id_free(&brief);
	guard_tls_unref(set);
}

/* Under a FIPS configuration the built-in (non-FIPS) implementations stay
 * out of the way; otherwise they are used. */
TEST(builtin_engine_not_under_fips)
{
	int was = EVP_default_properties_is_fips_enabled(NULL);
	CHECK(EVP_default_properties_enable_fips(NULL, 0) == 1);
	CHECK(builtin_engine_allowed());
	CHECK(EVP_default_properties_enable_fips(NULL, 1) == 1);
	CHECK(!builtin_engine_allowed());
	CHECK(!record_ciphers_install());
	EVP_default_properties_enable_fips(NULL, was);
}
