/*
 * tls13_accept: driving our own server handshake on a transport (see
 * tls13_accept.h).
 */
#include "tls/tls13_accept.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tls/tls13_ticket.h"
#include "tls/transport_records.h"

#define RECORD_MAX (TLS13_HEADER_LEN + TLS13_MAX_BODY)

struct tls13_accepting {
	struct tls13_server s;
	struct tls13_accept_choice choice;
	int failed_alert;
};

static int offer_index = -1;
static pthread_once_t offer_once = PTHREAD_ONCE_INIT;

static void offer_index_init(void)
{
	offer_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

bool tls13_accept_offer_install(SSL_CTX *ctx, const struct tls13_accept_offer *offer)
{
	pthread_once(&offer_once, offer_index_init);
	return offer_index >= 0 && SSL_CTX_set_ex_data(ctx, offer_index, (void *)offer) == 1;
}

const struct tls13_accept_offer *tls13_accept_offer_of(SSL_CTX *ctx)
{
	pthread_once(&offer_once, offer_index_init);
	return offer_index >= 0 ? SSL_CTX_get_ex_data(ctx, offer_index) : NULL;
}

/* Receives what has arrived onto t->rx: 1 when bytes came, 0 when none
 * (the socket is empty), -1 at the end of the stream or on an error. */
static int receive(struct transport *t)
{
	if (!t->readable)
		return 0;
	unsigned char buf[RECORD_MAX];
	ssize_t n = recv(t->fd, buf, sizeof buf, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			t->readable = false;
			return 0;
		}
		if (errno == EINTR)
			return 0;
		t->sys_errno = errno;
		return -1;
	}
	if (n == 0) {
		t->eof = true;
		return -1;
	}
	t->received = true;
	if ((size_t)n < sizeof buf && !t->hup)
		t->readable = false; /* the socket is empty: wait for the next edge */
	unsigned char *grown = realloc(t->rx, t->rx_len + (size_t)n);
	if (!grown)
		return -1;
	memcpy(grown + t->rx_len, buf, (size_t)n);
	t->rx = grown;
	t->rx_len += (size_t)n;
	return 1;
}

/* Sends p[0..len), keeping what the socket does not take. */
static bool send_all(struct transport *t, const unsigned char *p, size_t len)
{
	ssize_t n;
	do
		n = send(t->fd, p, len, transport_send_flags(t));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		t->writable = false;
		n = 0;
	}
	if (n < 0) {
		t->sys_errno = errno;
		return false;
	}
	return (size_t)n == len || transport_keep_unsent(t, (const char *)p + n, len - (size_t)n);
}

/* The first record, when it is a whole ClientHello of its own: its
 * message's length (the message starts at t->rx + 5); 0 to wait for more;
 * -1 when the hello is not one to look at. */
static long first_hello(struct transport *t)
{
	if (t->rx_len < TLS13_HEADER_LEN)
		return 0;
	const unsigned char *h = t->rx;
	size_t len = (size_t)h[3] << 8 | h[4];
	if (h[0] != TLS13_HANDSHAKE || h[1] != 3 || len > TLS13_MAX_PLAIN || len < 4)
		return -1;
	if (t->rx_len < TLS13_HEADER_LEN + len)
		return 0;
	size_t msg = (size_t)h[6] << 16 | (size_t)h[7] << 8 | h[8];
	return h[5] == 1 && msg + 4 == len ? (long)len : -1;
}

/* Reads the ClientHello and, when it is ours, answers it: 1 when our
 * flight is out, 0 to wait for the rest of the hello, 2 when OpenSSL is
 * to answer, -1 on failure. */
static int begin(struct transport *t, const struct tls13_accept_offer *offer)
{
	long len;
	while ((len = first_hello(t)) == 0) {
		int r = receive(t);
		if (r <= 0)
			return r == 0 ? 0 : t->rx_len ? 2 : -1; /* a hello cut short: OpenSSL says so */
	}
	if (len < 0)
		return 2;
	const unsigned char *msg = t->rx + TLS13_HEADER_LEN;
	struct tls13_client_hello ch;
	static const uint16_t suites[] = {0x1301, 0x1302, 0x1303}; /* tls/tls_suites.h's order */
	struct tls13_accept_choice choice = {0};
	uint16_t suite =
	    tls13_client_hello_parse(msg, (size_t)len, &ch)
	        ? tls13_server_can_answer(&ch, suites, sizeof suites / sizeof suites[0], "http/1.1")
	        : 0;
	if (!suite || !offer->prepare(offer->arg, t->ssl, &ch, &choice))
		return 2;
	struct tls13_accepting *a = calloc(1, sizeof *a);
	size_t room = 1024 + choice.id->certificate_len + choice.id->cert_request_len;
	unsigned char *flight = a ? malloc(room) : NULL;
	if (!flight) {
		free(a);
		return 2; /* OpenSSL may manage with less */
	}
	a->choice = choice;
	t->accepting = a;
	const char *alpn = ch.has_alpn ? "http/1.1" : NULL;
	size_t flight_len = 0;
	int alert = tls13_server_start(&a->s, choice.id, msg, (size_t)len, &ch, suite, alpn, choice.judge,
	                               choice.judge_arg, flight, room, &flight_len);
	transport_drop_received(t, TLS13_HEADER_LEN + (size_t)len);
	bool sent = !alert && send_all(t, flight, flight_len);
	OPENSSL_cleanse(flight, flight_len);
	free(flight);
	if (!sent) {
		a->failed_alert = alert ? alert : TLS13_ALERT_INTERNAL_ERROR;
		return -1;
	}
	return 1;
}

/* Tells the client why, best effort: under our application key, which
 * protects all we send after our Finished (RFC 8446, 7.1). */
static void send_alert(struct transport *t, int alert)
{
	struct tls13_records app;
	unsigned char body[2] = {2, (unsigned char)alert}, rec[TLS13_SEALED_LEN(2)];
	if (!tls13_server_app_records(&t->accepting->s, &app))
		return;
	size_t n = tls13_seal(&app, TLS13_ALERT, body, sizeof body, rec);
	tls13_records_clear(&app);
	if (n)
		(void)transport_send_some(t, rec, n);
}

/* The client's Finished is in: our records, then the session ticket as
 * their first. */
static int finish(struct transport *t)
{
	struct tls13_accepting *a = t->accepting;
	struct tls13_server *s = &a->s;
	struct transport_secrets k = {
	    .suite_id = tls13_server_suite_id(s),
	    .open_secret = s->client_ap,
	    .seal_secret = s->server_ap,
	    .secret_len = s->md->len,
	    .client = false,
	};
	transport_records_unwatch(t);
	bool ok = transport_records_start(t, &k);
	if (ok && a->choice.ticket_keys) {
		unsigned char rec[TLS13_SEALED_LEN(TLS13_TICKET_MESSAGE_MAX)];
		unsigned char msg[TLS13_TICKET_MESSAGE_MAX];
		size_t len = tls13_ticket_message(s, &a->choice, t->ssl, msg, sizeof msg);
		size_t n = len ? transport_records_seal(t, TLS13_HANDSHAKE, msg, len, rec) : 0;
		OPENSSL_cleanse(msg, len);
		/* No ticket is no failure: the client does a full handshake
		 * next time. When the client's first request came with its
		 * Finished, the ticket leaves with the response, in its send:
		 * nobody waits for a ticket. */
		if (n && !(t->rx_len > 0 && transport_records_hold(t, rec, n)))
			ok = send_all(t, rec, n);
	}
	tls13_accept_free(t);
	t->read_wants_write = t->write_wants_read = false;
	t->accepted_ours = ok;
	return ok ? 1 : -1;
}

int tls13_accept_step(struct transport *t)
{
	if (!t->accepting) {
		const struct tls13_accept_offer *offer =
		    t->accept_declined ? NULL : tls13_accept_offer_of(SSL_get_SSL_CTX(t->ssl));
		int r = offer ? begin(t, offer) : 2;
		if (r == 2)
			t->accept_declined = true;
		if (r != 1)
			return r;
	}
	struct tls13_accepting *a = t->accepting;
	if (a->failed_alert)
		return -1;
	if (t->unsent) {
		int f = transport_flush(t);
		if (f == TRANSPORT_ERROR)
			return -1;
		if (f == TRANSPORT_AGAIN)
			return 0;
	}
	for (;;) {
		size_t used = 0;
		int r = t->rx_len ? tls13_server_read(&a->s, t->rx, t->rx_len, &used) : 0;
		transport_drop_received(t, used);
		if (r == 1)
			return finish(t);
		if (r) {
			a->failed_alert = r;
			if (a->choice.failed)
				a->choice.failed(a->choice.judge_arg, r);
			if (r != TLS13_SERVER_PEER_ALERT)
				send_alert(t, r);
			return -1;
		}
		int got = receive(t);
		if (got == 0)
			return 0;
		if (got < 0)
			return -1;
	}
}

void tls13_accept_free(struct transport *t)
{
	if (t->accepting) {
		tls13_server_clear(&t->accepting->s);
		free(t->accepting);
		t->accepting = NULL;
	}
}
