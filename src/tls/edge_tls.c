/*
 * edge_tls: builds the edge's TLS set from an edge_conf — the visitor half
 * (edge_tls_visitor.c) and the origin half (edge_tls_origin.c) — and manages
 * its lifetime. Connections hold a reference, so a reload can drop the old
 * set while they finish on it.
 */
#include "tls/edge_tls.h"

#include <stdio.h>
#include <stdlib.h>

#include "tls/client_cert_check.h"
#include "tls/edge_tls_int.h"

size_t edge_tls_record_index(const struct edge_tls *set, const struct edge_record *rec)
{
	size_t zone = (size_t)(rec->zone - set->conf->zones);
	return set->zone_base[zone] + (size_t)(rec - rec->zone->records);
}

bool edge_tls_owns_record(const struct edge_tls *set, const struct edge_record *rec)
{
	const struct edge_conf *conf = set->conf;
	if (!rec || !rec->zone || rec->zone < conf->zones ||
	    rec->zone >= conf->zones + conf->zone_count)
		return false;
	return rec >= rec->zone->records && rec < rec->zone->records + rec->zone->record_count;
}

static void set_free(struct edge_tls *set)
{
	if (!set)
		return;
	edge_tls_visitor_free(set);
	edge_tls_origin_free(set);
	cert_inventory_free(&set->inventory);
	free(set->zone_base);
	free(set);
}

/* A CA bundle's certificates, from the store ctx already holds. */
static bool inventory_add_bundle(struct cert_inventory *inv, const char *ca, SSL_CTX *ctx)
{
	STACK_OF(X509) *certs = X509_STORE_get1_all_certs(SSL_CTX_get_cert_store(ctx));
	bool ok = certs != NULL;
	for (int i = 0; ok && i < sk_X509_num(certs); i++)
		ok = cert_inventory_add_cert(inv, CERT_KIND_TRUST_ANCHOR, ca, sk_X509_value(certs, i),
					     false);
	sk_X509_pop_free(certs, X509_free);
	return ok;
}

/* Records what the built contexts hold, so that the expiry checks never
 * read a file again. */
static bool inventory_build(struct edge_tls *set, char *err, size_t errlen)
{
	struct cert_inventory *inv = &set->inventory;
	for (size_t i = 0; i < set->visitor_count; i++) {
		const struct edge_visitor_ctx *v = &set->visitor[i];
		if (!cert_inventory_add_cert(inv, CERT_KIND_VISITOR, v->certificate,
					     SSL_CTX_get0_certificate(v->ctx), false)) {
			snprintf(err, errlen, "%s: cannot record the certificate", v->certificate);
			return false;
		}
	}
	for (size_t i = 0; i < set->origin_count; i++) {
		const struct edge_origin_ctx *o = &set->origin[i];
		if (o->cert && !cert_inventory_add_cert(inv, CERT_KIND_CLIENT, o->cert->certificate,
							SSL_CTX_get0_certificate(o->ctx), false)) {
			snprintf(err, errlen, "%s: cannot record the certificate", o->cert->certificate);
			return false;
		}
		/* ca is NULL for the system bundle, which is not listed. */
		if (o->ca && !inventory_add_bundle(inv, o->ca, o->ctx)) {
			snprintf(err, errlen, "%s: cannot record the bundle's certificates", o->ca);
			return false;
		}
	}
	return true;
}

struct edge_tls *edge_tls_build(const struct edge_conf *conf, char *err, size_t errlen)
{
	const char *file = conf->file ? conf->file : "configuration";
	struct edge_tls *set = calloc(1, sizeof *set);
	if (!set || !(set->zone_base = calloc(conf->zone_count + 1, sizeof *set->zone_base))) {
		snprintf(err, errlen, "%s: out of memory", file);
		free(set);
		return NULL;
	}
	atomic_init(&set->refs, 1);
	set->conf = conf;
	for (size_t i = 0; i < conf->zone_count; i++) {
		set->zone_base[i] = set->record_count;
		set->record_count += conf->zones[i].record_count;
	}
	if (!edge_tls_visitor_build(set, err, errlen) || !edge_tls_origin_build(set, err, errlen) ||
	    !inventory_build(set, err, errlen)) {
		set_free(set);
		return NULL;
	}
	return set;
}

void edge_tls_ref(struct edge_tls *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
}

void edge_tls_unref(struct edge_tls *set)
{
	if (set && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
		set_free(set);
}

void edge_tls_each_client_cert(struct edge_tls *set,
			       void (*fn)(void *arg, const char *file, int days_left), void *arg)
{
	for (size_t i = 0; i < set->origin_count; i++) {
		const struct edge_origin_ctx *o = &set->origin[i];
		if (!o->cert)
			continue;
		bool seen = false; /* one line per file, also when modes differ */
		for (size_t j = 0; j < i && !seen; j++)
			seen = set->origin[j].cert && set->origin[j].cert == o->cert;
		X509 *leaf = seen ? NULL : SSL_CTX_get0_certificate(o->ctx);
		if (leaf)
			fn(arg, o->cert->certificate, client_cert_days_left(leaf));
	}
}

void edge_tls_inventory(struct edge_tls *set, cert_info_fn fn, void *arg)
{
	if (set)
		cert_inventory_each(&set->inventory, fn, arg);
}
