/*
 * cert_inventory: what a TLS set uses that can expire — server, visitor and
 * origin-pull certificates, trust anchors and CRLs — recorded once when the
 * set is built, so that the expiry warnings and the metrics never re-read a
 * file and are cheap to compute from the admin or control thread. Each
 * entry keeps its expiry as a time; whole days are counted at each call.
 */
#ifndef PULLGATE_TLS_CERT_INVENTORY_H
#define PULLGATE_TLS_CERT_INVENTORY_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/metrics.h"

#define CERT_INVENTORY_WARN_DAYS 30   /* a warning from here on */
#define CERT_INVENTORY_URGENT_DAYS 14 /* and an "URGENT: " one from here on */

enum cert_kind {
	CERT_KIND_SERVER,       /* the guard's own certificate(s) */
	CERT_KIND_CLIENT,       /* the edge's origin-pull certificates */
	CERT_KIND_TRUST_ANCHOR, /* CAs a set verifies peers against */
	CERT_KIND_VISITOR,      /* the edge's certificates for visitors */
	CERT_KIND_CRL,          /* expiry is the CRL's nextUpdate */
};

/* One thing that expires, as the enumeration hands it out. file is the path
 * it was read from ("cloudflare preset" for a built-in anchor); subject is
 * "CN=..." when the name has a common name, else the whole RFC 2253 name
 * (a CRL's is its issuer's). days_left is whole days until expires, rounded
 * up (1 until the last second), 0 or less once past. Valid only during the
 * callback. */
struct cert_info {
	enum cert_kind kind;
	const char *file;
	char subject[256];
	int days_left;
	time_t expires;   /* notAfter, or a CRL's nextUpdate */
	bool shared;      /* an anchor that issues to many parties (a CDN's CA) */
};

typedef void (*cert_info_fn)(void *arg, const struct cert_info *ci);

/* "server", "client", "trust_anchor", "visitor", "crl": the metric label. */
const char *cert_kind_name(enum cert_kind kind);

/* 0 nothing to say, 1 a warning, 2 an urgent one. Certificates: within 30
 * days, within 14 or expired. CRLs: 2 once past their nextUpdate, else 0 —
 * a CRL is reissued every few days by design, so nearness is normal. */
int cert_inventory_level(const struct cert_info *ci);

/* The warning for ci as role ("guard", "edge") into out, e.g.
 * "guard: trust anchor cloudflare preset (CN=origin-pull.cloudflare.net)
 * expires in 29 days (2029-11-01)". Returns false, with out untouched, when
 * cert_inventory_level says nothing. */
bool cert_inventory_warning_text(const char *role, const struct cert_info *ci, char *out,
				 size_t outlen);
/* Logs that warning (log_warn) when there is one. */
void cert_inventory_warn(const char *role, const struct cert_info *ci);

/* ---- the stored form, kept by a TLS set ---------------------------- */

struct cert_inventory_entry {
	enum cert_kind kind;
	bool shared;
	char *file;       /* owned */
	char subject[256];
	time_t expires;
};

/* Owned by its set; immutable once the set is built. Zero is empty. */
struct cert_inventory {
	struct cert_inventory_entry *entries;
	size_t count, cap;
};

/* Records cert (borrowed) as read from file. An entry equal in kind, file,
 * subject and expiry is kept once, so a file used twice is listed once.
 * Returns false on allocation failure or an unreadable notAfter. */
bool cert_inventory_add_cert(struct cert_inventory *inv, enum cert_kind kind, const char *file,
			     X509 *cert, bool shared);
/* Records crl (borrowed) by its nextUpdate. A CRL without one never
 * expires and is not recorded (returns true). */
bool cert_inventory_add_crl(struct cert_inventory *inv, const char *file, X509_CRL *crl);
/* Calls fn for each entry, counting days from now. */
void cert_inventory_each(const struct cert_inventory *inv, cert_info_fn fn, void *arg);
void cert_inventory_free(struct cert_inventory *inv);

/* Whole days from now until expires, rounded as cert_info.days_left says. */
int cert_inventory_days_left(time_t expires, time_t now);

/* ---- metrics: collect with cert_info_list_add, then write ---------- */

/* A growing copy of what an enumeration handed out; owns its memory. */
struct cert_info_list {
	struct cert_info *items;
	size_t count, cap;
	bool failed;      /* an allocation failed; the list is short */
};

/* A cert_info_fn: appends ci to the list arg. */
void cert_info_list_add(void *arg, const struct cert_info *ci);
void cert_info_list_free(struct cert_info_list *list);

/* The families pullgate_certificate_days_left{role,kind,file,subject} and
 * pullgate_certificate_expiring{role,kind,file} (cert_inventory_level:
 * the worst of the file's entries). Repeats of one label set are merged
 * (the fewest days, the worst level), so the scrape stays valid when a
 * bundle holds two certificates with one name. */
void cert_inventory_metrics(struct metrics_text *m, const char *role,
			    const struct cert_info_list *list);

#endif
