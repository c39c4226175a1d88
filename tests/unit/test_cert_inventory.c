/*
 * Unit tests for the certificate inventory (src/tls/cert_inventory*.c) and
 * what the guard and edge TLS sets record in it: kinds, files, subjects and
 * days, the warning wording at its thresholds, the metric families, and the
 * guard's expiry check as it logs. Certificates are made here with
 * libcrypto, fresh per run, into a temporary folder.
 */
#include "unit.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include "guard/guard.h"
#include "guard/guard_expiry.h"
#include "tls/cert_inventory.h"
#include "tls/edge_tls.h"
#include "tls/guard_tls.h"
#include "tls/trust_store.h"

#define CI_DAY 86400L

/* ---- certificates -------------------------------------------------- */

struct ci_id {
	X509 *cert;
	EVP_PKEY *key;
};

static void ci_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext)
		X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* A certificate for a fresh key valid from now-1d to now+to_s, issued by ca
 * (self-signed when NULL). */
static struct ci_id ci_issue(const char *cn, long to_s, const char *eku, bool is_ca,
			     const struct ci_id *ca)
{
	static long serial = 500;
	struct ci_id id = { X509_new(), EVP_EC_gen("P-256") };
	X509 *x = id.cert;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -CI_DAY);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Pullgate Test",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca->cert) : name);
	X509_set_pubkey(x, id.key);
	X509 *signer = ca ? ca->cert : x;
	ci_ext(x, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	ci_ext(x, signer, NID_subject_key_identifier, "hash");
	if (is_ca)
		ci_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (eku)
		ci_ext(x, signer, NID_ext_key_usage, eku);
	X509_sign(x, ca ? ca->key : id.key, EVP_sha256());
	return id;
}

/* A CRL from ca whose nextUpdate is next_s from now (negative: past). */
static X509_CRL *ci_make_crl(const struct ci_id *ca, long next_s)
{
	X509_CRL *crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	ASN1_TIME *t = X509_gmtime_adj(NULL, next_s - 7 * CI_DAY);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_s);
	X509_CRL_set1_nextUpdate(crl, t);
	X509_CRL_sign(crl, ca->key, EVP_sha256());
	ASN1_TIME_free(t);
	return crl;
}

/* ---- the fixture: one PKI per run ----------------------------------- */

enum { CF_CA, CF_CRL, CF_SRV, CF_SRV_KEY, CF_HOST, CF_HOST_KEY, CF_VIS, CF_VIS_KEY, CF_CLIENT,
       CF_CLIENT_KEY, CF_BUNDLE, CF_COUNT };

static const char *const ci_names[CF_COUNT] = {
	"cas.pem", "old.crl", "server.pem", "server.key", "host.pem", "host.key", "visitor.pem",
	"visitor.key", "client.pem", "client.key", "bundle.pem",
};

struct ci_pki {
	char dir[64];
	char path[CF_COUNT][128];
	struct ci_id ca, ca2, server, host, visitor, client, origin_ca, origin_ca2, leaf;
};

static struct ci_pki *ci_pki_ptr;

static void ci_write(const char *path, X509 *a, X509 *b, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (a)
		PEM_write_X509(f, a);
	if (b)
		PEM_write_X509(f, b);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static struct ci_pki *ci_pki(void)
{
	if (ci_pki_ptr)
		return ci_pki_ptr;
	struct ci_pki *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	snprintf(p->dir, sizeof p->dir, "/tmp/pullgate-certinv-XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	char dir[sizeof p->dir];
	memcpy(dir, p->dir, sizeof dir);
	for (int i = 0; i < CF_COUNT; i++)
		snprintf(p->path[i], sizeof p->path[i], "%s/%s", dir, ci_names[i]);
	p->ca = ci_issue("Inventory CA", 3650 * CI_DAY, NULL, true, NULL);
	p->ca2 = ci_issue("Inventory CA 2", 20 * CI_DAY, NULL, true, NULL);
	p->server = ci_issue("origin.example", 10 * CI_DAY, "serverAuth", false, NULL);
	p->host = ci_issue("pinned.example", 365 * CI_DAY, "serverAuth", false, NULL);
	p->visitor = ci_issue("www.example.com", 200 * CI_DAY, "serverAuth", false, NULL);
	p->origin_ca = ci_issue("Origin CA", 3650 * CI_DAY, NULL, true, NULL);
	p->origin_ca2 = ci_issue("Origin CA 2", 12 * CI_DAY, NULL, true, NULL);
	p->client = ci_issue("edge client", 10 * CI_DAY, "clientAuth", false, &p->ca);
	p->leaf = ci_issue("guarded client", 90 * CI_DAY, "clientAuth", false, &p->ca);
	ci_write(p->path[CF_CA], p->ca.cert, p->ca2.cert, NULL);
	X509_CRL *crl = ci_make_crl(&p->ca, -2 * CI_DAY - 600);
	FILE *f = fopen(p->path[CF_CRL], "w");
	PEM_write_X509_CRL(f, crl);
	fclose(f);
	X509_CRL_free(crl);
	ci_write(p->path[CF_SRV], p->server.cert, NULL, NULL);
	ci_write(p->path[CF_SRV_KEY], NULL, NULL, p->server.key);
	ci_write(p->path[CF_HOST], p->host.cert, NULL, NULL);
	ci_write(p->path[CF_HOST_KEY], NULL, NULL, p->host.key);
	ci_write(p->path[CF_VIS], p->visitor.cert, NULL, NULL);
	ci_write(p->path[CF_VIS_KEY], NULL, NULL, p->visitor.key);
	ci_write(p->path[CF_CLIENT], p->client.cert, NULL, NULL);
	ci_write(p->path[CF_CLIENT_KEY], NULL, NULL, p->client.key);
	ci_write(p->path[CF_BUNDLE], p->origin_ca.cert, p->origin_ca2.cert, NULL);
	ci_pki_ptr = p;
	return p;
}

__attribute__((destructor)) static void ci_pki_cleanup(void)
{
	struct ci_pki *p = ci_pki_ptr;
	if (!p)
		return;
	for (int i = 0; i < CF_COUNT; i++)
		unlink(p->path[i]);
	rmdir(p->dir);
	struct ci_id *ids[] = { &p->ca, &p->ca2, &p->server, &p->host, &p->visitor, &p->client,
				&p->origin_ca, &p->origin_ca2, &p->leaf };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		X509_free(ids[i]->cert);
		EVP_PKEY_free(ids[i]->key);
	}
	free(p);
	ci_pki_ptr = NULL;
}

/* stderr to /dev/null between begin and end: builds log warnings that
 * other tests check. Returns the saved descriptor. */
static int ci_quiet_begin(void)
{
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
	return saved;
}

static void ci_quiet_end(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

/* The entry of kind with this file and subject, or NULL. */
static const struct cert_info *ci_find(const struct cert_info_list *l, enum cert_kind kind,
				       const char *file, const char *subject)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->items[i].kind == kind && strcmp(l->items[i].file, file) == 0 &&
		    strcmp(l->items[i].subject, subject) == 0)
			return &l->items[i];
	return NULL;
}

static size_t ci_count_kind(const struct cert_info_list *l, enum cert_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < l->count; i++)
		n += l->items[i].kind == kind;
	return n;
}

/* ---- the guard's set ------------------------------------------------ */

struct ci_guard_conf {
	struct guard_conf c;
	char *ca[1], *crl[1], *preset[1], *h_names[1];
	struct guard_host hosts[2];
};

/* Default certificate server.pem (10 days), a hosts entry with host.pem and
 * one that reuses server.pem, cas.pem (two CAs), the cloudflare preset and
 * a CRL two days past its nextUpdate. */
static void ci_guard_conf_init(struct ci_guard_conf *t)
{
	struct ci_pki *p = ci_pki();
	memset(t, 0, sizeof *t);
	t->c.file = "/etc/pullgate/guard.yaml";
	t->c.certificate = p->path[CF_SRV];
	t->c.key = p->path[CF_SRV_KEY];
	t->ca[0] = p->path[CF_CA];
	t->c.ca_files = (struct str_list){ t->ca, 1 };
	t->preset[0] = "cloudflare";
	t->c.presets = (struct str_list){ t->preset, 1 };
	t->crl[0] = p->path[CF_CRL];
	t->c.crl_files = (struct str_list){ t->crl, 1 };
	t->h_names[0] = "pinned.example";
	t->hosts[0] = (struct guard_host){ .hostnames = { t->h_names, 1 }, .line = 12,
		.certificate = p->path[CF_HOST], .key = p->path[CF_HOST_KEY] };
	t->hosts[1] = (struct guard_host){ .hostnames = { t->h_names, 1 }, .line = 20,
		.certificate = p->path[CF_SRV], .key = p->path[CF_SRV_KEY] };
	t->c.hosts = t->hosts;
	t->c.host_count = 2;
}

static struct guard_tls *ci_guard_build(struct ci_guard_conf *t)
{
	char err[512] = "";
	int saved = ci_quiet_begin();
	struct guard_tls *set = guard_tls_build(&t->c, err, sizeof err);
	ci_quiet_end(saved);
	if (!set)
		fprintf(stderr, "  guard_tls_build: %s\n", err);
	return set;
}

TEST(cert_inventory_guard_lists_everything)
{
	struct ci_pki *p = ci_pki();
	struct ci_guard_conf t;
	ci_guard_conf_init(&t);
	struct guard_tls *set = ci_guard_build(&t);
	REQUIRE(set);
	struct cert_info_list l = { 0 };
	guard_tls_inventory(set, cert_info_list_add, &l);
	CHECK(!l.failed);
	/* Server certificates: one per file, though two entries use server.pem. */
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_SERVER), 2);
	const struct cert_info *ci = ci_find(&l, CERT_KIND_SERVER, p->path[CF_SRV], "CN=origin.example");
	CHECK(ci && (ci->days_left == 10 || ci->days_left == 9));
	CHECK(ci && !ci->shared);
	ci = ci_find(&l, CERT_KIND_SERVER, p->path[CF_HOST], "CN=pinned.example");
	CHECK(ci && ci->days_left >= 364 && ci->days_left <= 365);
	/* Anchors: both of the file's, and the preset's, marked shared. */
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_TRUST_ANCHOR), 3);
	ci = ci_find(&l, CERT_KIND_TRUST_ANCHOR, p->path[CF_CA], "CN=Inventory CA");
	CHECK(ci && ci->days_left >= 3649 && !ci->shared);
	ci = ci_find(&l, CERT_KIND_TRUST_ANCHOR, p->path[CF_CA], "CN=Inventory CA 2");
	CHECK(ci && (ci->days_left == 20 || ci->days_left == 19));
	ci = ci_find(&l, CERT_KIND_TRUST_ANCHOR, "cloudflare preset", "CN=origin-pull.cloudflare.net");
	CHECK(ci && ci->shared);
	struct tm tm;
	CHECK(ci && gmtime_r(&ci->expires, &tm) && tm.tm_year == 129 && tm.tm_mon == 10 &&
	      tm.tm_mday == 1);
	/* The CRL, by its issuer and its nextUpdate: past. */
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_CRL), 1);
	ci = ci_find(&l, CERT_KIND_CRL, p->path[CF_CRL], "CN=Inventory CA");
	CHECK(ci && ci->days_left == -2);
	CHECK_EQ_INT(l.count, 6);
	cert_info_list_free(&l);
	guard_tls_unref(set);
}

TEST(cert_inventory_guard_check_expiry_logs)
{
	struct ci_pki *p = ci_pki();
	struct ci_guard_conf t;
	ci_guard_conf_init(&t);
	struct guard_tls *set = ci_guard_build(&t);
	REQUIRE(set);
	struct guard_snapshot snap = { .tls = set };
	struct guard_server srv = { .current = &snap };
	char path[96], log[8192] = "";
	snprintf(path, sizeof path, "%s/log.txt", p->dir);
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	REQUIRE(f);
	dup2(fileno(f), 2);
	guard_check_expiry_all(&srv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(log, 1, sizeof log - 1, f);
	log[n] = '\0';
	fclose(f);
	unlink(path);
	char want[512];
	snprintf(want, sizeof want, "URGENT: guard: server certificate %s (CN=origin.example) "
		 "expires in ", p->path[CF_SRV]);
	CHECK(strstr(log, want) != NULL);
	snprintf(want, sizeof want, "guard: trust anchor %s (CN=Inventory CA 2) expires in ",
		 p->path[CF_CA]);
	CHECK(strstr(log, want) != NULL);
	snprintf(want, sizeof want, "URGENT: guard: CRL %s (issued by CN=Inventory CA) is past its "
		 "next update (2 days ago, ", p->path[CF_CRL]);
	CHECK(strstr(log, want) != NULL);
	/* Nothing about what is far from expiry. */
	CHECK(strstr(log, "pinned.example") == NULL);
	CHECK(strstr(log, "cloudflare") == NULL);
	CHECK(strstr(log, "(CN=Inventory CA)") == NULL);
	guard_tls_unref(set);
}

static void ci_ignore_warning(void *arg, const char *msg)
{
}

/* The claim of the CRL warning: past its nextUpdate, a CRL refuses the
 * client certificates it covers. */
TEST(cert_inventory_past_crl_refuses_clients)
{
	struct ci_pki *p = ci_pki();
	struct ci_guard_conf t;
	ci_guard_conf_init(&t);
	t.c.presets.count = 0;
	struct trust_store_info info;
	struct cert_inventory inv = { 0 };
	char err[256] = "";
	X509_STORE *store = trust_store_build(&t.c, &info, &inv, ci_ignore_warning, NULL, err,
					       sizeof err);
	REQUIRE(store);
	CHECK_EQ_INT(inv.count, 3);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, p->leaf.cert, NULL);
	CHECK(X509_verify_cert(ctx) != 1);
	CHECK_EQ_INT(X509_STORE_CTX_get_error(ctx), X509_V_ERR_CRL_HAS_EXPIRED);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	cert_inventory_free(&inv);
	ERR_clear_error();
}

/* ---- the edge's set ------------------------------------------------- */

struct ci_edge_conf {
	struct edge_conf c;
	struct edge_zone zone;
	struct edge_record rec[2];
};

/* Zone example.com, strict with bundle.pem, pulls with client.pem (10
 * days); two records share the visitor certificate. */
static void ci_edge_conf_init(struct ci_edge_conf *t)
{
	struct ci_pki *p = ci_pki();
	memset(t, 0, sizeof *t);
	t->c.file = "/etc/pullgate/edge.yaml";
	t->c.origin_ca = p->path[CF_BUNDLE];
	struct edge_zone *z = &t->zone;
	*z = (struct edge_zone){ .name = "example.com", .ssl = SSL_MODE_STRICT,
		.pull = ORIGIN_PULL_ZONE, .records = t->rec, .record_count = 2, .line = 8,
		.client_cert = { p->path[CF_CLIENT], p->path[CF_CLIENT_KEY], 9 },
		.visitor_cert = { p->path[CF_VIS], p->path[CF_VIS_KEY], 8 } };
	static const char *const names[2] = { "www.example.com", "api.example.com" };
	for (int i = 0; i < 2; i++)
		t->rec[i] = (struct edge_record){ .name = (char *)names[i], .zone = z,
			.proxied = true, .origin = { .text = "127.0.0.1:443", .host = "127.0.0.1",
			.port = 443 }, .origin_sni = "origin.example.com",
			.ssl = i ? SSL_MODE_FULL : SSL_MODE_STRICT, .pull = ORIGIN_PULL_ZONE,
			.client_cert = &z->client_cert, .origin_ca = p->path[CF_BUNDLE],
			.visitor_cert = &z->visitor_cert, .line = 10 + i };
	t->c.zones = z;
	t->c.zone_count = 1;
}

static void ci_client_days(void *arg, const char *file, int days_left)
{
	*(int *)arg = days_left;
}

TEST(cert_inventory_edge_lists_everything)
{
	struct ci_pki *p = ci_pki();
	struct ci_edge_conf t;
	ci_edge_conf_init(&t);
	char err[512] = "";
	int saved = ci_quiet_begin();
	struct edge_tls *set = edge_tls_build(&t.c, err, sizeof err);
	ci_quiet_end(saved);
	if (!set)
		fprintf(stderr, "  edge_tls_build: %s\n", err);
	REQUIRE(set);
	struct cert_info_list l = { 0 };
	edge_tls_inventory(set, cert_info_list_add, &l);
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_VISITOR), 1);
	const struct cert_info *ci = ci_find(&l, CERT_KIND_VISITOR, p->path[CF_VIS],
					     "CN=www.example.com");
	CHECK(ci && ci->days_left >= 199 && ci->days_left <= 200);
	/* One client certificate, though a strict and a full context carry it. */
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_CLIENT), 1);
	ci = ci_find(&l, CERT_KIND_CLIENT, p->path[CF_CLIENT], "CN=edge client");
	CHECK(ci && (ci->days_left == 10 || ci->days_left == 9));
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_TRUST_ANCHOR), 2);
	CHECK(ci_find(&l, CERT_KIND_TRUST_ANCHOR, p->path[CF_BUNDLE], "CN=Origin CA") != NULL);
	ci = ci_find(&l, CERT_KIND_TRUST_ANCHOR, p->path[CF_BUNDLE], "CN=Origin CA 2");
	CHECK(ci && (ci->days_left == 12 || ci->days_left == 11));
	CHECK_EQ_INT(l.count, 4);
	/* The older family agrees on the client certificate. */
	int days = 0;
	edge_tls_each_client_cert(set, ci_client_days, &days);
	ci = ci_find(&l, CERT_KIND_CLIENT, p->path[CF_CLIENT], "CN=edge client");
	CHECK(ci && days == ci->days_left);
	cert_info_list_free(&l);
	/* The system bundle (no origin_ca) is not listed. */
	edge_tls_unref(set);
	t.c.origin_ca = NULL;
	t.rec[0].origin_ca = NULL;
	saved = ci_quiet_begin();
	set = edge_tls_build(&t.c, err, sizeof err);
	ci_quiet_end(saved);
	REQUIRE(set);
	edge_tls_inventory(set, cert_info_list_add, &l);
	CHECK_EQ_INT(ci_count_kind(&l, CERT_KIND_TRUST_ANCHOR), 0);
	CHECK_EQ_INT(l.count, 2);
	cert_info_list_free(&l);
	edge_tls_unref(set);
}

/* ---- the wording and the levels ------------------------------------- */

static struct cert_info ci_info(enum cert_kind kind, const char *file, const char *subject,
				int days)
{
	struct cert_info ci = { .kind = kind, .file = file, .days_left = days };
	snprintf(ci.subject, sizeof ci.subject, "%s", subject);
	/* 2029-11-01T17:00:00Z, the cloudflare anchor's notAfter. */
	ci.expires = (time_t)1888246800;
	return ci;
}

TEST(cert_inventory_warning_thresholds)
{
	char msg[512] = "untouched";
	struct cert_info ci = ci_info(CERT_KIND_TRUST_ANCHOR, "cloudflare preset",
				      "CN=origin-pull.cloudflare.net", 31);
	CHECK(!cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_STR(msg, "untouched");
	CHECK_EQ_INT(cert_inventory_level(&ci), 0);
	ci.days_left = 30;
	CHECK(cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_STR(msg, "guard: trust anchor cloudflare preset (CN=origin-pull.cloudflare.net) "
		       "expires in 30 days (2029-11-01)");
	CHECK_EQ_INT(cert_inventory_level(&ci), 1);
	ci.days_left = 15;
	CHECK_EQ_INT(cert_inventory_level(&ci), 1);
	ci.days_left = 14;
	CHECK(cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_STR(msg, "URGENT: guard: trust anchor cloudflare preset "
		       "(CN=origin-pull.cloudflare.net) expires in 14 days (2029-11-01)");
	CHECK_EQ_INT(cert_inventory_level(&ci), 2);
	ci = ci_info(CERT_KIND_CLIENT, "/x/client.pem", "CN=edge", 1);
	CHECK(cert_inventory_warning_text("edge", &ci, msg, sizeof msg));
	CHECK_STR(msg, "URGENT: edge: origin-pull certificate /x/client.pem (CN=edge) expires in "
		       "1 day (2029-11-01)");
	ci = ci_info(CERT_KIND_SERVER, "/x/server.pem", "CN=origin", 0);
	CHECK(cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_STR(msg, "URGENT: guard: server certificate /x/server.pem (CN=origin) expired less "
		       "than a day ago (2029-11-01)");
	ci = ci_info(CERT_KIND_VISITOR, "/x/www.pem", "CN=www", -3);
	CHECK(cert_inventory_warning_text("edge", &ci, msg, sizeof msg));
	CHECK_STR(msg, "URGENT: edge: visitor certificate /x/www.pem (CN=www) expired 3 days ago "
		       "(2029-11-01)");
}

TEST(cert_inventory_crl_warns_only_when_past)
{
	char msg[512];
	struct cert_info ci = ci_info(CERT_KIND_CRL, "/x/edge.crl", "CN=Edge CA", 3);
	CHECK(!cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_EQ_INT(cert_inventory_level(&ci), 0);
	ci.days_left = 1;
	CHECK(!cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	ci.days_left = -2;
	CHECK(cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK_STR(msg, "URGENT: guard: CRL /x/edge.crl (issued by CN=Edge CA) is past its next "
		       "update (2 days ago, 2029-11-01): client certificates it covers are refused "
		       "until it is refreshed");
	CHECK_EQ_INT(cert_inventory_level(&ci), 2);
	ci.days_left = -1;
	CHECK(cert_inventory_warning_text("guard", &ci, msg, sizeof msg));
	CHECK(strstr(msg, "(1 day ago, ") != NULL);
}

TEST(cert_inventory_days_left_rounding)
{
	CHECK_EQ_INT(cert_inventory_days_left(1000 + 10 * CI_DAY, 1000), 10);
	CHECK_EQ_INT(cert_inventory_days_left(1000 + 10 * CI_DAY - 5, 1000), 10);
	CHECK_EQ_INT(cert_inventory_days_left(1000 + 1, 1000), 1);
	CHECK_EQ_INT(cert_inventory_days_left(1000, 1000), 0);
	CHECK_EQ_INT(cert_inventory_days_left(1000 - CI_DAY + 1, 1000), 0);
	CHECK_EQ_INT(cert_inventory_days_left(1000 - 2 * CI_DAY - 600, 1000), -2);
}

TEST(cert_inventory_metrics_families)
{
	struct cert_info_list l = { 0 };
	struct cert_info items[] = {
		ci_info(CERT_KIND_SERVER, "/x/server.pem", "CN=origin", 10),
		ci_info(CERT_KIND_TRUST_ANCHOR, "/x/cas.pem", "CN=Old CA", 20),
		ci_info(CERT_KIND_TRUST_ANCHOR, "/x/cas.pem", "CN=New CA", 900),
		/* A renewed CA with its old name, in the same bundle. */
		ci_info(CERT_KIND_TRUST_ANCHOR, "/x/cas.pem", "CN=New CA", 40),
		ci_info(CERT_KIND_CRL, "/x/\"q\".crl", "CN=New CA", -2),
		ci_info(CERT_KIND_VISITOR, "/x/www.pem", "CN=www", 31),
	};
	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
		cert_info_list_add(&l, &items[i]);
	struct metrics_text m = { 0 };
	cert_inventory_metrics(&m, "guard", &l);
	REQUIRE(m.data && !m.failed);
	static const char *const want[] = {
		"# TYPE pullgate_certificate_days_left gauge\n",
		"pullgate_certificate_days_left{role=\"guard\",kind=\"server\",file=\"/x/server.pem\","
		"subject=\"CN=origin\"} 10\n",
		"pullgate_certificate_days_left{role=\"guard\",kind=\"trust_anchor\",file=\"/x/cas.pem\","
		"subject=\"CN=Old CA\"} 20\n",
		"pullgate_certificate_days_left{role=\"guard\",kind=\"trust_anchor\",file=\"/x/cas.pem\","
		"subject=\"CN=New CA\"} 40\n",
		"pullgate_certificate_days_left{role=\"guard\",kind=\"crl\",file=\"/x/\\\"q\\\".crl\","
		"subject=\"CN=New CA\"} -2\n",
		"pullgate_certificate_days_left{role=\"guard\",kind=\"visitor\",file=\"/x/www.pem\","
		"subject=\"CN=www\"} 31\n",
		"# TYPE pullgate_certificate_expiring gauge\n",
		"pullgate_certificate_expiring{role=\"guard\",kind=\"server\",file=\"/x/server.pem\"} 2\n",
		"pullgate_certificate_expiring{role=\"guard\",kind=\"trust_anchor\",file=\"/x/cas.pem\"} 1\n",
		"pullgate_certificate_expiring{role=\"guard\",kind=\"crl\",file=\"/x/\\\"q\\\".crl\"} 2\n",
		"pullgate_certificate_expiring{role=\"guard\",kind=\"visitor\",file=\"/x/www.pem\"} 0\n",
	};
	const char *at = m.data;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *hit = strstr(at, want[i]);
		if (!hit)
			fprintf(stderr, "  missing or out of order: %s", want[i]);
		CHECK(hit != NULL);
		if (hit)
			at = hit + strlen(want[i]);
	}
	/* One series each: the merged repeats are not written twice. */
	CHECK(strstr(m.data, "} 900\n") == NULL);
	const char *first = strstr(m.data, "kind=\"trust_anchor\",file=\"/x/cas.pem\"}");
	CHECK(first && !strstr(first + 1, "kind=\"trust_anchor\",file=\"/x/cas.pem\"}"));
	metrics_text_free(&m);
	cert_info_list_free(&l);
}
