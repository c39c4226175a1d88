/*
 * edge_routes: which pool each proxied record pulls through. Two records
 * share a pool only when every property of the connection is the same: the
 * origin address, the SNI, the SSL mode, the CA bundle and the client
 * certificate — compared as the configuration entry it comes from (global,
 * the zone's, the hostname's), so two zones with their own certificates
 * never share a connection even when their files are alike.
 */
#include <stdlib.h>
#include <string.h>

#include "core/net.h"
#include "edge/edge.h"

static const char *const mode_names[] = { "off", "flexible", "full", "strict" };

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_connection(const struct edge_pool_spec *spec, const struct edge_record *rec,
			    const struct sockaddr_storage *addr, socklen_t len)
{
	const struct edge_record *o = spec->rec;
	return spec->addr_len == len && memcmp(&spec->addr, addr, len) == 0 && o->ssl == rec->ssl &&
	       str_eq(o->origin_sni, rec->origin_sni) && str_eq(o->origin_ca, rec->origin_ca) &&
	       o->client_cert == rec->client_cert;
}

static int route_cmp(const void *a, const void *b)
{
	const struct edge_route *x = a, *y = b;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static const char *pull_name(const struct edge_record *rec)
{
	switch (rec->pull) {
	case ORIGIN_PULL_GLOBAL:
		return "global";
	case ORIGIN_PULL_ZONE:
		return "zone";
	case ORIGIN_PULL_HOSTNAME:
		return "hostname";
	default:
		return "off";
	}
}

int edge_routes_build(struct edge_snapshot *snap, char *err, size_t errlen)
{
	const struct edge_conf *conf = snap->conf;
	size_t total = 0;
	for (size_t z = 0; z < conf->zone_count; z++)
		total += conf->zones[z].record_count;
	snap->routes = calloc(total ? total : 1, sizeof *snap->routes);
	snap->specs = calloc(total ? total : 1, sizeof *snap->specs);
	if (!snap->routes || !snap->specs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t z = 0; z < conf->zone_count; z++) {
		const struct edge_zone *zone = &conf->zones[z];
		for (size_t r = 0; r < zone->record_count; r++) {
			const struct edge_record *rec = &zone->records[r];
			if (!rec->proxied)
				continue;
			struct sockaddr_storage addr;
			socklen_t len;
			char rerr[256];
			if (net_resolve(rec->origin.host, rec->origin.port, &addr, &len, rerr, sizeof rerr) < 0) {
				snprintf(err, errlen, "%s:%d: record %s: origin %s", conf->file, rec->line, rec->name,
					 rerr);
				return -1;
			}
			size_t i = 0;
			while (i < snap->spec_count && !same_connection(&snap->specs[i], rec, &addr, len))
				i++;
			if (i == snap->spec_count) {
				struct edge_pool_spec *spec = &snap->specs[snap->spec_count++];
				spec->rec = rec;
				spec->addr = addr;
				spec->addr_len = len;
				snprintf(spec->name, sizeof spec->name, "%s (%s, pull %s%s%s)", rec->origin.text,
					 mode_names[rec->ssl], pull_name(rec), rec->origin_sni ? ", sni " : "",
					 rec->origin_sni ? rec->origin_sni : "");
			}
			snap->routes[snap->route_count++] = (struct edge_route){ rec, i };
		}
	}
	qsort(snap->routes, snap->route_count, sizeof *snap->routes, route_cmp);
	return 0;
}

void edge_routes_free(struct edge_snapshot *snap)
{
	free(snap->routes);
	free(snap->specs);
	snap->routes = NULL;
	snap->specs = NULL;
}

size_t edge_route_pool(const struct edge_snapshot *snap, const struct edge_record *rec)
{
	struct edge_route key = { .rec = rec };
	const struct edge_route *found =
		bsearch(&key, snap->routes, snap->route_count, sizeof *snap->routes, route_cmp);
	return found ? found->pool_index : (size_t)-1;
}

static SSL *edge_origin_new_ssl(void *arg)
{
	struct edge_pool_arg *a = arg;
	return edge_tls_origin_ssl(a->gen->snap->tls, a->rec);
}

static enum upstream_error edge_origin_classify(SSL *ssl, unsigned long ssl_err, char *detail, size_t len)
{
	switch (edge_tls_classify_origin_failure(ssl, ssl_err, detail, len)) {
	case ORIGIN_TLS_REFUSED_CERT:
		return UPSTREAM_ERR_TLS_REFUSED_CERT;
	case ORIGIN_TLS_INVALID_CERT:
		return UPSTREAM_ERR_TLS_INVALID_CERT;
	default:
		return UPSTREAM_ERR_TLS_HANDSHAKE;
	}
}

const struct upstream_tls_ops edge_origin_tls_ops = {
	.new_ssl = edge_origin_new_ssl,
	.classify = edge_origin_classify,
};
