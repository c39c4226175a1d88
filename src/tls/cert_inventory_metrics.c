/*
 * cert_inventory_metrics: the certificate expiry families both roles'
 * /metrics carry, written from a list collected off a set's inventory.
 * Called on the admin thread; the list is that call's own.
 */
#include <stdlib.h>
#include <string.h>

#include "tls/cert_inventory.h"

void cert_info_list_add(void *arg, const struct cert_info *ci)
{
	struct cert_info_list *list = arg;
	if (list->failed)
		return;
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct cert_info *grown = realloc(list->items, cap * sizeof *grown);
		if (!grown) {
			list->failed = true;
			return;
		}
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count++] = *ci;
}

void cert_info_list_free(struct cert_info_list *list)
{
	free(list->items);
	memset(list, 0, sizeof *list);
}

static bool same_series(const struct cert_info *a, const struct cert_info *b, bool by_subject)
{
	return a->kind == b->kind && strcmp(a->file, b->file) == 0 &&
	       (!by_subject || strcmp(a->subject, b->subject) == 0);
}

/* True when an entry before i is in the same series: i was merged there. */
static bool seen_before(const struct cert_info_list *list, size_t i, bool by_subject)
{
	for (size_t j = 0; j < i; j++)
		if (same_series(&list->items[j], &list->items[i], by_subject))
			return true;
	return false;
}

/* Label values are bounded so that one sample's labels stay within what
 * metrics_sample formats in one piece. */
struct labels {
	char file[512], subject[320];
};

static void labels_of(const struct cert_info *ci, struct labels *l)
{
	metrics_label_escape(ci->file, l->file, sizeof l->file);
	metrics_label_escape(ci->subject, l->subject, sizeof l->subject);
}

void cert_inventory_metrics(struct metrics_text *m, const char *role,
			    const struct cert_info_list *list)
{
	struct labels l;
	metrics_family(m, "pullgate_certificate_days_left", "gauge",
		       "Whole days until a certificate in use expires, or a CRL passes its "
		       "next update (negative once past).");
	for (size_t i = 0; i < list->count; i++) {
		if (seen_before(list, i, true))
			continue;
		int days = list->items[i].days_left;
		for (size_t j = i + 1; j < list->count; j++)
			if (same_series(&list->items[i], &list->items[j], true) &&
			    list->items[j].days_left < days)
				days = list->items[j].days_left;
		labels_of(&list->items[i], &l);
		metrics_sample(m, "pullgate_certificate_days_left", days,
			       "role=\"%s\",kind=\"%s\",file=\"%s\",subject=\"%s\"", role,
			       cert_kind_name(list->items[i].kind), l.file, l.subject);
	}
	metrics_family(m, "pullgate_certificate_expiring", "gauge",
		       "1 when a certificate in use expires within 30 days, 2 within 14 or "
		       "expired; for a CRL, 2 once past its next update.");
	for (size_t i = 0; i < list->count; i++) {
		if (seen_before(list, i, false))
			continue;
		int level = cert_inventory_level(&list->items[i]);
		for (size_t j = i + 1; j < list->count; j++)
			if (same_series(&list->items[i], &list->items[j], false) &&
			    cert_inventory_level(&list->items[j]) > level)
				level = cert_inventory_level(&list->items[j]);
		labels_of(&list->items[i], &l);
		metrics_sample(m, "pullgate_certificate_expiring", level,
			       "role=\"%s\",kind=\"%s\",file=\"%s\"", role,
			       cert_kind_name(list->items[i].kind), l.file);
	}
	if (list->failed)
		m->failed = 1;
}
