/*
 * transport_records: the watch over a TLS 1.3 handshake, the take over,
 * and the transport operations on pullgate's own records.
 */
#include "tls/transport_records.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hex.h"
#include "tls/tls13_kdf.h"
#include "tls/tls13_records.h"

/* What the handshake tells about the records to come. */
struct tls_capture {
	unsigned char client_secret[EVP_MAX_MD_SIZE];
	unsigned char server_secret[EVP_MAX_MD_SIZE];
	size_t client_len, server_len;
	bool finished_sent;     /* our Finished went out: records since are sealed with ours */
	bool finished_read;     /* the peer's Finished came in */
	bool rekeyed;           /* a KeyUpdate went through OpenSSL: the secrets moved on */
	uint64_t sealed_after;  /* records OpenSSL wrote after our Finished */
	uint64_t opened_after;  /* records OpenSSL read after the peer's Finished */
};

/* A connection's own records. */
struct tls_stream {
	struct tls13_records keys;
	char *plain; /* opened content the reader had no room for (owned) */
	size_t plain_off, plain_len;
	unsigned char hs[5]; /* a post-handshake message arriving in pieces */
	size_t hs_len;
	size_t hs_skip;      /* bytes left of a NewSessionTicket (a client's) */
	unsigned char *held; /* sealed records that leave with the next write (owned) */
	size_t held_len;
	bool client;
	bool key_update_due; /* the peer asked for ours */
	bool failed;         /* the stream failed after data the reader was given first */
	bool close_sent;     /* our close_notify went out with the last write */
};

/* Records sealed per write, sent with one send; records' worth one recv
 * may take in (at least one whole record of the longest kind). */
#define RECORDS_PER_WRITE 4
#define RECORDS_PER_READ 4
#define RECORD_MAX (TLS13_HEADER_LEN + TLS13_MAX_BODY)
#define KEY_UPDATE_LEN 5 /* type, length (3), request */
#define ALERT_LEN 2

static __thread unsigned char rx_scratch[RECORDS_PER_READ * RECORD_MAX];
static __thread unsigned char tx_stage[TRANSPORT_RECORDS_HELD_MAX + TLS13_SEALED_LEN(KEY_UPDATE_LEN) +
				       RECORDS_PER_WRITE * TLS13_SEALED_LEN(TLS13_MAX_PLAIN) +
				       TLS13_SEALED_LEN(ALERT_LEN)];

/* ---- the watch ----------------------------------------------------------- */

/* The secret of a key log line "LABEL <client random> <secret>" in hex. */
static size_t line_secret(const char *line, unsigned char *out, size_t room)
{
	const char *p = strchr(line, ' ');
	p = p ? strchr(p + 1, ' ') : NULL;
	if (!p)
		return 0;
	p++;
	size_t n = 0;
	for (; p[0] && p[1] && n < room; p += 2) {
		int hi = hex_digit_value((unsigned char)p[0]), lo = hex_digit_value((unsigned char)p[1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return *p ? 0 : n;
}

static void keylog_line(const SSL *ssl, const char *line)
{
	struct transport *t = transport_tls_of(ssl);
	struct tls_capture *c = t ? t->capture : NULL;
	if (!c)
		return;
	static const char client[] = "CLIENT_TRAFFIC_SECRET_0 ", server[] = "SERVER_TRAFFIC_SECRET_0 ";
	if (strncmp(line, client, sizeof client - 1) == 0)
		c->client_len = line_secret(line, c->client_secret, sizeof c->client_secret);
	else if (strncmp(line, server, sizeof server - 1) == 0)
		c->server_len = line_secret(line, c->server_secret, sizeof c->server_secret);
}

/* Counts the records OpenSSL seals and opens with the application keys.
 * A handshake message is reported after the record that carried it, so
 * the records after our Finished's report are the ones under our
 * application key. */
static void record_seen(int write_p, int version, int content_type, const void *buf, size_t len,
			SSL *ssl, void *arg)
{
	(void)version;
	(void)arg;
	struct transport *t = transport_tls_of(ssl);
	struct tls_capture *c = t ? t->capture : NULL;
	if (!c)
		return;
	const unsigned char *p = buf;
	if (content_type == SSL3_RT_HEADER) {
		if (write_p && c->finished_sent)
			c->sealed_after++;
		else if (!write_p && c->finished_read)
			c->opened_after++;
	} else if (content_type == SSL3_RT_HANDSHAKE && len > 0 && p[0] == SSL3_MT_FINISHED) {
		if (write_p)
			c->finished_sent = true;
		else
			c->finished_read = true;
	} else if (content_type == SSL3_RT_HANDSHAKE && len > 0 && p[0] == SSL3_MT_KEY_UPDATE) {
		c->rekeyed = true;
	}
}

void transport_records_prepare(SSL_CTX *ctx)
{
	SSL_CTX_set_keylog_callback(ctx, keylog_line);
}

SSL_CTX *transport_records_ctx_new(const SSL_METHOD *method)
{
	const char *propq = tls13_kdf_propq();
	SSL_CTX *ctx = SSL_CTX_new_ex(NULL, propq, method);
	if (ctx && !propq)
		transport_records_prepare(ctx);
	return ctx;
}

/* An application traffic secret from the key schedule (tls/tls13_kdf.h). */
static void secret_derived(void *arg, bool client, const unsigned char *secret, size_t len)
{
	struct tls_capture *c = arg;
	if (len > sizeof c->client_secret)
		return;
	memcpy(client ? c->client_secret : c->server_secret, secret, len);
	if (client)
		c->client_len = len;
	else
		c->server_len = len;
}

void transport_records_observe(struct transport *t)
{
	if (t && t->capture)
		tls13_kdf_observe(secret_derived, t->capture);
	else
		tls13_kdf_observe(NULL, NULL);
}

bool transport_records_watch(struct transport *t)
{
	t->capture = calloc(1, sizeof *t->capture);
	if (!t->capture)
		return false;
	SSL_set_msg_callback(t->ssl, record_seen);
	/* One record at a time: what OpenSSL has not read must stay with the
	 * transport, not in OpenSSL's buffer (transport_tls.c). */
	SSL_set_read_ahead(t->ssl, 0);
	return true;
}

bool transport_records_tickets_may_wait(const struct transport *t)
{
	const struct tls_capture *c = t->capture;
	return c && c->finished_read && t->rx_len > 0 && t->ssl && SSL_is_server(t->ssl) &&
	       SSL_version(t->ssl) == TLS1_3_VERSION;
}

static void capture_free(struct transport *t)
{
	if (t->capture) {
		OPENSSL_cleanse(t->capture, sizeof *t->capture);
		free(t->capture);
		t->capture = NULL;
	}
}

void transport_records_unwatch(struct transport *t)
{
	if (t->ssl)
		SSL_set_msg_callback(t->ssl, NULL);
	capture_free(t);
}

bool transport_records_take_over(struct transport *t)
{
	struct tls_capture *c = t->capture;
	SSL *ssl = t->ssl;
	if (!c)
		return false;
	bool server = SSL_is_server(ssl);
	/* OpenSSL is partway through a record: not now (a client's next
	 * chance is its next release to the pool). */
	if (!server && SSL_has_pending(ssl))
		return false;
	SSL_set_msg_callback(ssl, NULL);
	SSL_SESSION *sess = SSL_get_session(ssl);
	const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
	bool fits = SSL_is_init_finished(ssl) && SSL_version(ssl) == TLS1_3_VERSION && sess && suite &&
		    SSL_get_early_data_status(ssl) != SSL_EARLY_DATA_ACCEPTED &&
		    SSL_SESSION_get_max_fragment_length(sess) == TLSEXT_max_fragment_length_DISABLED &&
		    SSL_get_key_update_type(ssl) == SSL_KEY_UPDATE_NONE && !SSL_has_pending(ssl) &&
		    c->finished_sent && c->finished_read && !c->rekeyed && c->client_len &&
		    c->client_len == c->server_len; /* the suite: tls13_records_init */
	struct transport_secrets k = {
		.suite_id = suite ? SSL_CIPHER_get_id(suite) : 0,
		.open_secret = server ? c->client_secret : c->server_secret,
		.seal_secret = server ? c->server_secret : c->client_secret,
		.secret_len = c->client_len,
		.open_seq = c->opened_after,
		.seal_seq = c->sealed_after,
		.client = !server,
	};
	bool taken = fits && transport_records_start(t, &k);
	capture_free(t);
	ERR_clear_error();
	if (!taken)
		SSL_set_read_ahead(ssl, 1); /* OpenSSL keeps the records, and may read ahead again */
	return taken;
}

bool transport_records_start(struct transport *t, const struct transport_secrets *k)
{
	struct tls_stream *s = calloc(1, sizeof *s);
	if (!s)
		return false;
	if (!tls13_records_init(&s->keys, k->suite_id, k->open_secret, k->seal_secret, k->secret_len,
				k->seal_seq)) {
		free(s);
		return false;
	}
	s->keys.open.seq = k->open_seq;
	s->client = k->client;
	t->stream = s;
	t->ops = &transport_records_ops;
	return true;
}

size_t transport_records_seal(struct transport *t, int type, const void *in, size_t len,
			      unsigned char *out)
{
	return t->stream ? tls13_seal(&t->stream->keys, (enum tls13_content)type, in, len, out) : 0;
}

bool transport_records_hold(struct transport *t, const unsigned char *rec, size_t len)
{
	struct tls_stream *s = t->stream;
	if (!s || s->held || len > TRANSPORT_RECORDS_HELD_MAX)
		return false;
	s->held = malloc(len);
	if (!s->held)
		return false;
	memcpy(s->held, rec, len);
	s->held_len = len;
	return true;
}

void transport_records_free(struct transport *t)
{
	capture_free(t);
	if (t->stream) {
		tls13_records_clear(&t->stream->keys);
		free(t->stream->plain);
		free(t->stream->held);
		free(t->stream);
		t->stream = NULL;
	}
}

/* ---- sending --------------------------------------------------------------- */

/* Sends out[0..len), keeping what the socket does not take. */
static ssize_t send_sealed(struct transport *t, const unsigned char *out, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = transport_send_some(t, out + off, len - off);
		if (n < 0)
			return TRANSPORT_ERROR;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off < len && !transport_keep_unsent(t, (const char *)out + off, len - off)) {
		t->sys_errno = ENOMEM;
		return TRANSPORT_ERROR;
	}
	return (ssize_t)len;
}

/* Seals a KeyUpdate (not asking for the peer's) at out and moves to our
 * next key. Returns its record length, 0 on failure. */
static size_t seal_key_update(struct tls_stream *s, unsigned char *out)
{
	static const unsigned char msg[KEY_UPDATE_LEN] = { SSL3_MT_KEY_UPDATE, 0, 0, 1,
							   SSL_KEY_UPDATE_NOT_REQUESTED };
	size_t n = tls13_seal(&s->keys, TLS13_HANDSHAKE, msg, sizeof msg, out);
	if (!n || !tls13_key_update(&s->keys, &s->keys.seal))
		return 0;
	s->key_update_due = false;
	return n;
}

/* Moves the held records to out; their length. */
static size_t take_held(struct tls_stream *s, unsigned char *out)
{
	size_t n = s->held_len;
	if (n)
		memcpy(out, s->held, n);
	free(s->held);
	s->held = NULL;
	s->held_len = 0;
	return n;
}

/* Sends an alert (a fatal one, or close_notify), best effort. Records
 * held for the next write are dropped: nothing else follows. */
static void send_alert(struct transport *t, int level, int desc)
{
	unsigned char alert[ALERT_LEN] = { (unsigned char)level, (unsigned char)desc };
	unsigned char out[TLS13_SEALED_LEN(ALERT_LEN)];
	free(t->stream->held);
	t->stream->held = NULL;
	t->stream->held_len = 0;
	size_t n = tls13_seal(&t->stream->keys, TLS13_ALERT, alert, sizeof alert, out);
	if (n && !t->unsent)
		(void)transport_send_some(t, out, n);
}

static ssize_t records_write(struct transport *t, const void *buf, size_t len)
{
	struct tls_stream *s = t->stream;
	if (t->unsent) {
		int f = transport_flush(t);
		if (f != 1)
			return f;
	}
	size_t out = take_held(s, tx_stage), done = 0;
	if (s->key_update_due || s->keys.seal.seq >= TLS13_KEY_RECORDS) {
		size_t n = seal_key_update(s, tx_stage + out);
		if (!n)
			return TRANSPORT_ERROR;
		out += n;
	}
	for (int i = 0; i < RECORDS_PER_WRITE && done < len; i++) {
		size_t chunk = len - done < TLS13_MAX_PLAIN ? len - done : TLS13_MAX_PLAIN;
		size_t n = tls13_seal(&s->keys, TLS13_APPLICATION_DATA, (const char *)buf + done, chunk,
				      tx_stage + out);
		if (!n)
			return TRANSPORT_ERROR;
		out += n;
		done += chunk;
	}
	/* The last write of a closing connection takes our close_notify
	 * along: transport_shutdown then has nothing left to send. */
	if (t->closing && done == len && !s->close_sent) {
		static const unsigned char close_notify[ALERT_LEN] = { SSL3_AL_WARNING, TLS13_ALERT_CLOSE_NOTIFY };
		size_t n = tls13_seal(&s->keys, TLS13_ALERT, close_notify, sizeof close_notify, tx_stage + out);
		if (!n)
			return TRANSPORT_ERROR;
		out += n;
		s->close_sent = true;
	}
	if (send_sealed(t, tx_stage, out) < 0)
		return TRANSPORT_ERROR;
	return (ssize_t)done;
}

static void records_shutdown(struct transport *t)
{
	if (!t->stream->close_sent)
		send_alert(t, SSL3_AL_WARNING, TLS13_ALERT_CLOSE_NOTIFY);
	t->stream->close_sent = true;
	/* As SSL_shutdown would note: an SSL freed without it marks its
	 * session not resumable, and a pool resumes with that session. */
	if (t->ssl)
		SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) | SSL_SENT_SHUTDOWN);
}

/* ---- receiving ------------------------------------------------------------- */

/* Length of the whole record at p (have bytes), or 0 when incomplete. */
static size_t record_len(const unsigned char *p, size_t have)
{
	if (have < TLS13_HEADER_LEN)
		return 0;
	size_t n = TLS13_HEADER_LEN + ((size_t)p[3] << 8 | p[4]);
	return have >= n ? n : 0;
}

/* The longest NewSessionTicket a client skips (RFC 8446, 4.6.1 allows a
 * ticket of up to 64 KiB and extensions beside it). */
#define NEW_SESSION_TICKET_MAX (128 * 1024)

/* Post-handshake messages: KeyUpdate both ways, and to a client a
 * NewSessionTicket, which it skips (its pool kept the session the
 * handshake's tickets gave). A server never asks for a certificate after
 * the handshake, so nothing else may come. Returns 0 or an alert. */
static int take_handshake(struct tls_stream *s, const unsigned char *p, size_t len)
{
	while (len) {
		if (s->hs_skip) {
			size_t n = s->hs_skip < len ? s->hs_skip : len;
			s->hs_skip -= n;
			p += n;
			len -= n;
			continue;
		}
		size_t want = s->hs_len < 4 ? 4 : KEY_UPDATE_LEN;
		size_t n = want - s->hs_len < len ? want - s->hs_len : len;
		memcpy(s->hs + s->hs_len, p, n);
		s->hs_len += n;
		p += n;
		len -= n;
		if (s->hs_len == 4 && s->hs[0] == SSL3_MT_NEWSESSION_TICKET && s->client) {
			s->hs_skip = (size_t)s->hs[1] << 16 | (size_t)s->hs[2] << 8 | s->hs[3];
			s->hs_len = 0;
			if (s->hs_skip == 0 || s->hs_skip > NEW_SESSION_TICKET_MAX)
				return TLS13_ALERT_DECODE_ERROR;
			continue;
		}
		if (s->hs_len == 4 && (s->hs[0] != SSL3_MT_KEY_UPDATE || s->hs[1] || s->hs[2] || s->hs[3] != 1))
			return TLS13_ALERT_UNEXPECTED_MESSAGE;
		if (s->hs_len < KEY_UPDATE_LEN)
			continue;
		unsigned char request = s->hs[4];
		s->hs_len = 0;
		if (request > SSL_KEY_UPDATE_REQUESTED)
			return TLS13_ALERT_ILLEGAL_PARAMETER;
		/* The next record is under the new key: nothing may follow the
		 * KeyUpdate in this one. */
		if (len)
			return TLS13_ALERT_UNEXPECTED_MESSAGE;
		if (!tls13_key_update(&s->keys, &s->keys.open))
			return TLS13_ALERT_INTERNAL_ERROR;
		if (request == SSL_KEY_UPDATE_REQUESTED)
			s->key_update_due = true;
	}
	return 0;
}

/* Keeps p[0..n) as received bytes not yet consumed. */
static bool keep_received(struct transport *t, const unsigned char *p, size_t n)
{
	if (!n)
		return true;
	t->rx = malloc(n);
	if (!t->rx)
		return false;
	memcpy(t->rx, p, n);
	t->rx_len = n;
	return true;
}

/* The stream has failed: the data read before the failure in this call
 * (got bytes) goes to the reader first, and the next read fails. */
static ssize_t failed_after(struct transport *t, size_t got)
{
	t->stream->failed = true;
	return got ? (ssize_t)got : TRANSPORT_ERROR;
}

/* The OpenSSL reason that says why we send an alert, for the log. */
static int alert_reason(int alert)
{
	switch (alert) {
	case TLS13_ALERT_BAD_RECORD_MAC:
		return SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC;
	case TLS13_ALERT_RECORD_OVERFLOW:
		return SSL_R_ENCRYPTED_LENGTH_TOO_LONG;
	case TLS13_ALERT_PROTOCOL_VERSION:
		return SSL_R_WRONG_VERSION_NUMBER;
	case TLS13_ALERT_DECODE_ERROR:
		return SSL_R_LENGTH_MISMATCH;
	case TLS13_ALERT_ILLEGAL_PARAMETER:
		return SSL_R_BAD_KEY_UPDATE;
	case TLS13_ALERT_INTERNAL_ERROR:
		return ERR_R_INTERNAL_ERROR;
	default:
		return SSL_R_UNEXPECTED_MESSAGE;
	}
}

/* Fails the connection: an alert to the peer, an OpenSSL-style reason for
 * the log. */
static ssize_t records_fail(struct transport *t, int alert, size_t got)
{
	send_alert(t, SSL3_AL_FATAL, alert);
	t->ssl_error = ERR_PACK(ERR_LIB_SSL, 0, alert_reason(alert));
	return failed_after(t, got);
}

static size_t take_plain(struct tls_stream *s, void *buf, size_t len)
{
	size_t n = s->plain_len < len ? s->plain_len : len;
	memcpy(buf, s->plain + s->plain_off, n);
	s->plain_off += n;
	s->plain_len -= n;
	if (!s->plain_len) {
		free(s->plain);
		s->plain = NULL;
		s->plain_off = 0;
	}
	return n;
}

static ssize_t records_read(struct transport *t, void *buf, size_t len)
{
	struct tls_stream *s = t->stream;
	t->read_wants_write = false;
	if (s->plain_len)
		return (ssize_t)take_plain(s, buf, len);
	if (s->failed)
		return TRANSPORT_ERROR;
	size_t got = 0;
	unsigned char *data = rx_scratch;
	while (!t->eof && got < len) {
		size_t have = t->rx_len;
		if (have) {
			memcpy(data, t->rx, have);
			free(t->rx);
			t->rx = NULL;
			t->rx_len = 0;
		}
		if (!record_len(data, have) && t->readable) {
			ssize_t n = recv(t->fd, data + have, sizeof rx_scratch - have, 0);
			if (n > 0) {
				t->received = true;
				if ((size_t)n < sizeof rx_scratch - have && !t->hup)
					t->readable = false;
				have += (size_t)n;
			} else if (n == 0) {
				t->eof = true; /* no close_notify: HTTP framing decides */
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				t->readable = false;
			} else if (errno != EINTR) {
				t->sys_errno = errno;
				return got ? (ssize_t)got : TRANSPORT_ERROR;
			}
		}
		size_t off = 0, rl;
		while (got < len && !t->eof && (rl = record_len(data + off, have - off)) != 0) {
			enum tls13_content type;
			size_t clen;
			/* Opened straight into the reader's buffer when all of the
			 * body fits there, else in place and copied. */
			size_t opened_max = rl - TLS13_HEADER_LEN;
			unsigned char *content = data + off + TLS13_HEADER_LEN;
			if (opened_max > TLS13_TAG_LEN && opened_max - TLS13_TAG_LEN <= len - got)
				content = (unsigned char *)buf + got;
			int alert = tls13_open_into(&s->keys, data + off, rl, content, &type, &clen);
			if (alert)
				return records_fail(t, alert, got);
			off += rl;
			if ((s->hs_len || s->hs_skip) && type != TLS13_HANDSHAKE)
				return records_fail(t, TLS13_ALERT_UNEXPECTED_MESSAGE, got);
			if (type == TLS13_APPLICATION_DATA) {
				size_t n = clen < len - got ? clen : len - got;
				if (content != (unsigned char *)buf + got)
					memcpy((char *)buf + got, content, n);
				got += n;
				if (n < clen) {
					s->plain = malloc(clen - n);
					if (!s->plain) {
						t->sys_errno = ENOMEM;
						return TRANSPORT_ERROR;
					}
					memcpy(s->plain, content + n, clen - n);
					s->plain_len = clen - n;
				}
			} else if (type == TLS13_ALERT) {
				if (clen != 2)
					return records_fail(t, TLS13_ALERT_DECODE_ERROR, got);
				if (content[1] == TLS13_ALERT_CLOSE_NOTIFY)
					t->eof = true;
				else if (content[1] != TLS13_ALERT_USER_CANCELED) { /* a close_notify follows it */
					t->ssl_error = ERR_PACK(ERR_LIB_SSL, 0, SSL_AD_REASON_OFFSET + content[1]);
					return failed_after(t, got);
				}
			} else if (type == TLS13_HANDSHAKE && clen) {
				int a = take_handshake(s, content, clen);
				if (a)
					return records_fail(t, a, got);
			} else {
				return records_fail(t, TLS13_ALERT_UNEXPECTED_MESSAGE, got);
			}
		}
		/* A record too long to be one: no need to wait for all of it. */
		if (have - off >= TLS13_HEADER_LEN &&
		    ((size_t)data[off + 3] << 8 | data[off + 4]) > TLS13_MAX_BODY)
			return records_fail(t, TLS13_ALERT_RECORD_OVERFLOW, got);
		if (!t->eof && !keep_received(t, data + off, have - off)) {
			t->sys_errno = ENOMEM;
			return TRANSPORT_ERROR;
		}
		/* Nothing whole left, and nothing more to read until an edge. */
		if (s->plain_len || (!record_len(t->rx, t->rx_len) && !t->readable))
			break;
	}
	if (got)
		return (ssize_t)got;
	if (t->eof)
		return 0;
	return TRANSPORT_AGAIN;
}

static bool records_has_pending(struct transport *t)
{
	return t->stream->plain_len || t->stream->failed || record_len(t->rx, t->rx_len);
}

static int records_handshake(struct transport *t)
{
	(void)t;
	return 1;
}

const struct transport_ops transport_records_ops = {
	.name = "tls",
	.handshake = records_handshake,
	.read = records_read,
	.write = records_write,
	.shutdown = records_shutdown,
	.has_pending = records_has_pending,
};
