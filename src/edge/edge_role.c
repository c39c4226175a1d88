/*
 * edge_role: the edge's hooks into the proxy session — routing by Host
 * within the SNI's zone (421 otherwise), the plain-HTTP redirect of zones
 * that always use HTTPS, the visitor's address to the origin, and the status
 * a failed pull gets (502/504, or Cloudflare's 520-526 when a zone asks).
 */
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hostname.h"
#include "core/log.h"
#include "core/metrics.h"
#include "edge/edge.h"
#include "edge/edge_cache_int.h"

static struct edge_conn *conn_of(struct proxy_session *s)
{
	return s->role_data;
}

static const struct edge_conf *conf_of(struct proxy_session *s)
{
	return edge_gen_of(s)->snap->conf;
}

const char *const edge_refusal_classes[EDGE_REFUSAL_CLASSES] = {
	"unknown name", "protocol", "no shared cipher", "timeout",
};

static void count_refusal(struct proxy_session *s, int class)
{
	METRIC_INC(edge_gen_of(s)->ew->refused[class]);
}

static void edge_on_handshake_failed(struct proxy_session *s)
{
	unsigned long e = s->client.ssl_error;
	SSL *ssl = s->client.ssl;
	if (!s->close_reason && ssl && !transport_received_any(&s->client)) {
		log_debug("%s: closed before sending anything", s->peer_text);
		ERR_clear_error();
		return;
	}
	const char *sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
	int reason = ERR_GET_REASON(e);
	count_refusal(s, s->close_reason ? 3
			 : reason == SSL_R_CALLBACK_FAILED ? 0
			 : reason == SSL_R_NO_SHARED_CIPHER ? 2
							     : 1);
	const char *why = s->close_reason ? s->close_reason
		: ERR_GET_REASON(e) == SSL_R_CALLBACK_FAILED ? "no proxied record for this name (unrecognized_name)"
		: e ? ERR_reason_error_string(e) : "handshake failed";
	log_info("visitor tls refused %s: %s (sni %s)", s->peer_text, why, sni ? sni : "none");
	ERR_clear_error();
}

static bool edge_on_established(struct proxy_session *s)
{
	struct edge_conn *ec = conn_of(s);
	if (ec->tls_visitor) {
		ec->sni_record = edge_tls_visitor_record(s->client.ssl);
		if (!ec->sni_record) {
			s->close_reason = "no record for the SNI";
			return false;
		}
	}
	return true;
}

static int edge_check_request(struct proxy_session *s, const struct http_request *req)
{
	struct edge_conn *ec = conn_of(s);
	const struct edge_conf *conf = conf_of(s);
	struct slice host = hostname_from_host_header(req->host);
	const struct edge_record *rec = host.len ? edge_conf_find_record(conf, host.ptr, host.len) : NULL;
	ec->record = NULL;
	if (!rec || !rec->proxied)
		return 421;
	if (ec->tls_visitor && rec->zone != ec->sni_record->zone)
		return 421; /* one zone's connection cannot reach another zone */
	if (!ec->tls_visitor && rec->zone->always_https) {
		struct edge_server *srv = edge_gen_of(s)->ew->srv;
		char port[8] = "";
		if (srv->https_port != 443)
			snprintf(port, sizeof port, ":%u", srv->https_port);
		/* The path of an origin-form target, or of an absolute-form one. */
		struct slice path = req->target;
		if (!(path.len && path.ptr[0] == '/')) {
			const char *auth = path.len > 3 ? memmem(path.ptr, path.len, "://", 3) : NULL;
			const char *slash = auth ? memchr(auth + 3, '/', (size_t)(path.ptr + path.len - auth - 3)) : NULL;
			path = slash ? slice_make(slash, (size_t)(path.ptr + path.len - slash)) : SLICE_LIT("/");
		}
		free(s->location);
		if (asprintf(&s->location, "https://%.*s%s%.*s", (int)host.len, host.ptr, port,
			     (int)path.len, path.ptr) < 0) {
			s->location = NULL;
			return 500; /* out of memory: no redirect without its Location */
		}
		return 301;
	}
	ec->record = rec;
	return 0;
}

static struct upstream_pool *edge_select_pool(struct proxy_session *s, const struct http_request *req)
{
	struct edge_gen *gen = edge_gen_of(s);
	size_t i = edge_route_pool(gen->snap, conn_of(s)->record);
	return i == (size_t)-1 ? NULL : &gen->pools[i];
}

static bool edge_drop_header(struct proxy_session *s, struct slice name)
{
	const char *ip_header = conf_of(s)->connecting_ip_header;
	return (ip_header && slice_eq_cstr_nocase(name, ip_header)) || edge_cache_drop_header(s, name);
}

static bool edge_add_headers(struct proxy_session *s, struct buf *out)
{
	const char *ip_header = conf_of(s)->connecting_ip_header;
	return (!ip_header || buf_append_field_str(out, ip_header, s->peer_ip)) &&
	       edge_cache_add_headers(s, out);
}

static int edge_upstream_status(struct proxy_session *s, enum upstream_error err)
{
	const struct edge_record *rec = conn_of(s)->record;
	bool cloudflare = rec && rec->zone->error_codes == ERROR_CODES_CLOUDFLARE;
	switch (err) {
	case UPSTREAM_ERR_CONNECT_REFUSED:
		return cloudflare ? 521 : 502;
	case UPSTREAM_ERR_CONNECT_TIMEOUT:
		return cloudflare ? 522 : 504;
	case UPSTREAM_ERR_RESPONSE_TIMEOUT:
		return cloudflare ? 524 : 504;
	case UPSTREAM_ERR_TLS_REFUSED_CERT:
	case UPSTREAM_ERR_TLS_HANDSHAKE:
		return cloudflare ? 525 : 502;
	case UPSTREAM_ERR_TLS_INVALID_CERT:
		return cloudflare ? 526 : 502;
	default:
		return cloudflare ? 520 : 502;
	}
}

static void edge_count_status(struct proxy_session *s, int status)
{
	struct edge_conn *ec = conn_of(s);
	const struct edge_record *rec = ec ? (ec->record ? ec->record : ec->sni_record) : NULL;
	struct edge_gen *gen = edge_gen_of(s);
	if (!rec || !gen->ew->zone_responses || !gen->snap->zone_ids)
		return;
	uint16_t slot = gen->snap->zone_ids[rec->zone - gen->snap->conf->zones];
	METRIC_INC(gen->ew->zone_responses[slot][status >= 100 && status < 600 ? status / 100 : 0]);
}

static void edge_log_fields(struct proxy_session *s, struct access_entry *e)
{
	struct edge_conn *ec = conn_of(s);
	if (!ec)
		return;
	const struct edge_record *rec = ec->record ? ec->record : ec->sni_record;
	if (rec)
		e->zone = rec->zone->name;
	const struct edge_cache_req *cr = ec->creq;
	if (cr && cr->request_no == s->requests && (cr->lookup || cr->invalidate))
		e->cache = cr->fwd ? cr->fwd : "hit";
}

static void edge_request_done(struct proxy_session *s)
{
	struct edge_conn *ec = conn_of(s);
	edge_cache_req_free(ec->creq);
	ec->creq = NULL;
}

static void edge_on_close(struct proxy_session *s)
{
	struct edge_conn *ec = conn_of(s);
	if (!ec)
		return;
	edge_cache_req_free(ec->creq);
	ec->creq = NULL;
	if (ec->tls)
		edge_tls_unref(ec->tls);
	free(ec);
	s->role_data = NULL;
}

const struct proxy_role edge_role = {
	.on_established = edge_on_established,
	.check_request = edge_check_request,
	.drop_header = edge_drop_header,
	.add_headers = edge_add_headers,
	.on_handshake_failed = edge_on_handshake_failed,
	.select_pool = edge_select_pool,
	.upstream_status = edge_upstream_status,
	.cache_request = edge_cache_request,
	.cache_response = edge_cache_response,
	.response_headers = edge_cache_response_headers,
	.cache_response_done = edge_cache_response_done,
	.cache_upstream_failed = edge_cache_upstream_failed,
	.log_fields = edge_log_fields,
	.request_done = edge_request_done,
	.count_status = edge_count_status,
	.on_close = edge_on_close,
};
