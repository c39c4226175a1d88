/*
 * Fuzz target for pullgate's own TLS 1.3 records (tls/transport_records.c):
 * a peer with the matching keys seals what the input asks for (application
 * data, KeyUpdates, alerts, stray handshake bytes, raw garbage) and the
 * bytes reach the transport over a socket pair in input-chosen pieces,
 * read into input-chosen buffer sizes; the transport also writes, and the
 * peer opens what it sent. Checked: no crash or sanitizer report, the
 * application data read is always a prefix of what was sealed (all of it
 * when nothing invalid was sent), and what the transport writes opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/tls13_records.h"
#include "tls/transport.h"
#include "tls/transport_records.h"

#define WIRE_MAX (64 * 1024)

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned next_byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

struct run {
	struct transport t;
	int wire;                 /* the peer's end */
	struct tls13_records peer; /* opens what t seals, seals what t opens */
	uint8_t *sent;            /* application data the peer sealed */
	size_t sent_len;
	uint8_t *got;             /* what the transport read */
	size_t got_len;
	uint8_t pending[WIRE_MAX]; /* sealed, not yet on the socket */
	size_t pending_len;
	bool invalid;             /* something the transport must refuse went out */
	bool ended;               /* the transport reported an end or an error */
};

static void fail(void)
{
	abort();
}

/* Reads from the transport into buffers of the given size until it waits. */
static void drain(struct run *r, size_t bufsize)
{
	static uint8_t buf[20000];
	if (bufsize == 0 || bufsize > sizeof buf)
		bufsize = sizeof buf;
	for (int i = 0; i < 1000 && !r->ended; i++) {
		transport_note_events(&r->t, 1); /* IO_READ */
		ssize_t n = transport_read(&r->t, buf, bufsize);
		if (n > 0) {
			r->got = realloc(r->got, r->got_len + (size_t)n);
			memcpy(r->got + r->got_len, buf, (size_t)n);
			r->got_len += (size_t)n;
			if (r->got_len > r->sent_len || memcmp(r->got, r->sent, r->got_len) != 0)
				fail();
			continue;
		}
		if (n == TRANSPORT_AGAIN)
			return;
		r->ended = true;
	}
}

/* Puts the pending bytes on the socket in input-sized pieces, reading
 * after each. */
static void flush(struct run *r, struct input *in)
{
	size_t off = 0;
	for (int tries = 0; off < r->pending_len && !r->ended && tries < 100000; tries++) {
		unsigned b = next_byte(in); /* 0 (or no input left): all at once */
		size_t piece = b ? (b & 0x80 ? b - 0x7f : (size_t)b * 64) : r->pending_len - off;
		if (piece > r->pending_len - off)
			piece = r->pending_len - off;
		ssize_t n = write(r->wire, r->pending + off, piece);
		if (n > 0)
			off += (size_t)n;
		drain(r, next_byte(in) * 80);
		if (n <= 0 && errno != EAGAIN)
			break;
	}
	r->pending_len = 0;
}

static void seal(struct run *r, struct input *in, enum tls13_content type, const uint8_t *p, size_t len)
{
	if (r->pending_len + TLS13_SEALED_LEN(len) > sizeof r->pending)
		flush(r, in);
	size_t n = tls13_seal(&r->peer, type, p, len, r->pending + r->pending_len);
	if (!n)
		fail();
	r->pending_len += n;
}

/* The transport writes len bytes; the peer opens every record of them. */
static void transport_writes(struct run *r, size_t len)
{
	static uint8_t out[3 * 16384], rec[70000];
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 31 + len);
	ssize_t w = transport_write(&r->t, out, len);
	if (w == TRANSPORT_ERROR || w == TRANSPORT_AGAIN)
		return;
	size_t opened = 0, have = 0;
	for (int i = 0; i < 100; i++) {
		ssize_t n = read(r->wire, rec + have, sizeof rec - have);
		if (n > 0)
			have += (size_t)n;
		if (transport_unsent(&r->t))
			transport_flush(&r->t);
		size_t off = 0;
		while (have - off >= TLS13_HEADER_LEN) {
			size_t rl = TLS13_HEADER_LEN + ((size_t)rec[off + 3] << 8 | rec[off + 4]);
			if (have - off < rl)
				break;
			enum tls13_content type;
			size_t clen;
			if (tls13_open(&r->peer, rec + off, rl, &type, &clen) != 0)
				fail();
			const uint8_t *c = rec + off + TLS13_HEADER_LEN;
			if (type == TLS13_HANDSHAKE) {
				/* Our KeyUpdate: the peer moves to our next key. */
				if (clen != 5 || c[0] != 24 || !tls13_key_update(&r->peer, &r->peer.open))
					fail();
			} else if (type == TLS13_APPLICATION_DATA) {
				if (opened + clen > (size_t)w || memcmp(c, out + opened, clen) != 0)
					fail();
				opened += clen;
			} else {
				fail();
			}
			off += rl;
		}
		memmove(rec, rec + off, have - off);
		have -= off;
		if (opened == (size_t)w && !have && !transport_unsent(&r->t))
			return;
		if (n <= 0 && !transport_unsent(&r->t))
			break;
	}
	fail();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char a[32] = { 1, 2, 3 }, b[32] = { 4, 5, 6 };
	static struct run r;
	struct input in = { data, size };
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&r, 0, sizeof r);
	r.wire = sv[1];
	transport_init_plain(&r.t, sv[0]);
	static const uint32_t suites[] = { TLS1_3_CK_AES_128_GCM_SHA256, TLS1_3_CK_AES_256_GCM_SHA384,
					   TLS1_3_CK_CHACHA20_POLY1305_SHA256 };
	uint32_t suite = suites[next_byte(&in) % 3];
	size_t secret_len = suite == TLS1_3_CK_AES_256_GCM_SHA384 ? 48 : 32;
	static unsigned char a48[48] = { 1, 2, 3 }, b48[48] = { 4, 5, 6 };
	const unsigned char *ta = secret_len == 48 ? a48 : a, *tb = secret_len == 48 ? b48 : b;
	struct transport_secrets k = { .suite_id = suite, .open_secret = ta, .seal_secret = tb,
				       .secret_len = secret_len, .client = next_byte(&in) & 1 };
	if (!transport_records_start(&r.t, &k) ||
	    !tls13_records_init(&r.peer, suite, tb, ta, secret_len, 0))
		abort();
	uint8_t scratch[16384];
	while (in.left && !r.ended) {
		unsigned op = next_byte(&in) % 8;
		size_t len = (next_byte(&in) << 8 | next_byte(&in)) % (TLS13_MAX_PLAIN + 1);
		if (op <= 2) { /* application data, most often, mostly short */
			len %= op == 0 ? 300 : op == 1 ? 4000 : TLS13_MAX_PLAIN + 1;
			for (size_t i = 0; i < len; i++)
				scratch[i] = (uint8_t)(r.sent_len + i);
			r.sent = realloc(r.sent, r.sent_len + len + 1);
			memcpy(r.sent + r.sent_len, scratch, len);
			r.sent_len += len;
			seal(&r, &in, TLS13_APPLICATION_DATA, scratch, len);
			if (r.ended)
				break;
		} else if (op == 3) { /* a KeyUpdate, asking for ours or not */
			uint8_t ku[5] = { 24, 0, 0, 1, (uint8_t)(next_byte(&in) & 1) };
			seal(&r, &in, TLS13_HANDSHAKE, ku, sizeof ku);
			if (!tls13_key_update(&r.peer, &r.peer.seal))
				abort();
		} else if (op == 4) { /* an alert, or handshake bytes of any kind */
			size_t n = len % 8;
			for (size_t i = 0; i < n; i++)
				scratch[i] = (uint8_t)next_byte(&in);
			enum tls13_content type = next_byte(&in) & 1 ? TLS13_ALERT : TLS13_HANDSHAKE;
			seal(&r, &in, type, scratch, n);
			r.invalid = true; /* may be refused, or end the stream */
		} else if (op == 5) { /* raw bytes */
			size_t n = len % 32;
			if (r.pending_len + n > sizeof r.pending)
				flush(&r, &in);
			for (size_t i = 0; i < n; i++)
				r.pending[r.pending_len++] = (uint8_t)next_byte(&in);
			r.invalid = true;
		} else if (op == 6) {
			flush(&r, &in);
		} else {
			flush(&r, &in);
			if (!r.ended)
				transport_writes(&r, len % (next_byte(&in) & 1 ? 3 * 16384 : 2000));
		}
	}
	flush(&r, &in);
	drain(&r, 0);
	if (!r.invalid && r.got_len != r.sent_len)
		fail();
	tls13_records_clear(&r.peer);
	transport_close(&r.t);
	close(r.wire);
	free(r.sent);
	free(r.got);
	return 0;
}
