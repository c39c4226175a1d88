/*
 * guard_role: the guard's hooks into the proxy session — the refusal log of
 * failed handshakes, identity headers (shared per client certificate), client
 * copies of them removed, and the Host-to-SNI rule (421).
 */
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "guard/guard.h"

const char *const guard_refusal_classes[GUARD_REFUSAL_CLASSES] = {
	"no certificate", "unknown CA", "expired", "not yet valid",
	"revoked", "wrong key usage", "not pinned", "protocol",
};

static void count_refusal(struct proxy_session *s, const char *class)
{
	struct guard_worker *gw = ((struct guard_gen *)s->pw->data)->gw;
	int i = GUARD_REFUSAL_CLASSES - 1; /* protocol */
	for (int k = 0; k < GUARD_REFUSAL_CLASSES; k++)
		if (strcmp(class, guard_refusal_classes[k]) == 0)
			i = k;
	METRIC_INC(gw->refused[i]);
}

static struct guard_conn *conn_of(struct proxy_session *s)
{
	return s->role_data;
}

static const struct guard_conf *conf_of(struct proxy_session *s)
{
	return ((struct guard_gen *)s->pw->data)->snap->conf;
}

static void guard_on_handshake_failed(struct proxy_session *s)
{
	struct tls_refusal why = { .class = "protocol" };
	if (s->client.ssl && s->close_reason == NULL && !transport_received_any(&s->client)) {
		/* A TCP probe (a load balancer's check) that sent nothing. */
		log_debug("%s: closed before sending anything", s->peer_text);
		ERR_clear_error();
		return;
	}
	if (s->client.ssl && s->close_reason == NULL)
		guard_tls_describe_failure(s->client.ssl, s->client.ssl_error, &why);
	else
		snprintf(why.detail, sizeof why.detail, "%s", s->close_reason ? s->close_reason : "?");
	ERR_clear_error();
	count_refusal(s, why.class);
	log_info("tls refused %s: %s (%s)", s->peer_text, why.class, why.detail);
}

static bool guard_on_established(struct proxy_session *s)
{
	struct guard_conn *gc = conn_of(s);
	gc->identity = guard_tls_identity(s->client.ssl, &conf_of(s)->headers);
	gc->host = guard_tls_matched_host(s->client.ssl);
	if (!gc->identity) {
		s->close_reason = "out of memory";
		return false;
	}
	METRIC_INC(((struct guard_gen *)s->pw->data)->gw->established[s->client.accepted_ours]);
	log_debug("%s: tls established (%s%s)", s->peer_text, transport_tls_version(&s->client),
		  s->client.accepted_ours ? ", pullgate's handshake" : "");
	return true;
}

static void guard_log_fields(struct proxy_session *s, struct access_entry *e)
{
	struct guard_conn *gc = conn_of(s);
	if (gc && gc->identity && gc->identity->fingerprint[0])
		e->client_cert = gc->identity->fingerprint;
}

static int guard_check_request(struct proxy_session *s, const struct http_request *req)
{
	struct guard_conn *gc = conn_of(s);
	if (!guard_tls_host_allowed(gc->tls, gc->host, req->host))
		return 421;
	return 0;
}

static bool guard_drop_header(struct proxy_session *s, struct slice name)
{
	return guard_identity_is_reserved(&conf_of(s)->headers, name);
}

static bool guard_add_headers(struct proxy_session *s, struct buf *out)
{
	struct guard_conn *gc = conn_of(s);
	return buf_append(out, gc->identity->block, gc->identity->len);
}

static void guard_on_close(struct proxy_session *s)
{
	struct guard_conn *gc = conn_of(s);
	if (!gc)
		return;
	guard_identity_unref(gc->identity);
	guard_tls_unref(gc->tls);
	free(gc);
	s->role_data = NULL;
}

const struct proxy_role guard_role = {
	.on_established = guard_on_established,
	.check_request = guard_check_request,
	.drop_header = guard_drop_header,
	.add_headers = guard_add_headers,
	.on_handshake_failed = guard_on_handshake_failed,
	.log_fields = guard_log_fields,
	.on_close = guard_on_close,
};
