/*
 * tls13_client_hello: reading a ClientHello (see tls13_client_hello.h).
 */
#include "tls/tls13_client_hello.h"

#include <string.h>

#define HANDSHAKE_CLIENT_HELLO 1
#define MAX_EXTENSIONS 64

enum ext_type {
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_PRE_SHARED_KEY = 41,
	EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_COOKIE = 44,
	EXT_PSK_KEX_MODES = 45,
	EXT_POST_HANDSHAKE_AUTH = 49,
	EXT_KEY_SHARE = 51,
};

#define GROUP_X25519 0x001d
#define X25519_LEN 32

/* A cursor over bytes still to read. */
struct reader {
	const unsigned char *p;
	size_t n;
};

static bool take(struct reader *r, size_t len, const unsigned char **out)
{
	if (r->n < len)
		return false;
	*out = r->p;
	r->p += len;
	r->n -= len;
	return true;
}

static bool take_u8(struct reader *r, unsigned *v)
{
	const unsigned char *b;
	if (!take(r, 1, &b))
		return false;
	*v = b[0];
	return true;
}

static bool take_u16(struct reader *r, unsigned *v)
{
	const unsigned char *b;
	if (!take(r, 2, &b))
		return false;
	*v = (unsigned)b[0] << 8 | b[1];
	return true;
}

/* A vector with a length of width bytes (1 or 2) in front: its body. */
static bool take_vector(struct reader *r, int width, struct reader *body)
{
	unsigned len;
	if (!(width == 1 ? take_u8(r, &len) : take_u16(r, &len)))
		return false;
	body->n = len;
	return take(r, len, &body->p);
}

/* A u16 list with an even, non-empty body and nothing after it. */
static bool whole_u16_list(struct reader *ext, int width, struct reader *list)
{
	return take_vector(ext, width, list) && ext->n == 0 && list->n > 0 && list->n % 2 == 0;
}

static bool read_server_name(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!take_vector(&ext, 2, &list) || ext.n || !list.n)
		return false;
	bool host_seen = false;
	while (list.n) {
		unsigned type;
		struct reader name;
		if (!take_u8(&list, &type) || !take_vector(&list, 2, &name))
			return false;
		if (type != 0)
			continue;
		/* One host_name, not empty, without a NUL, a DNS name's length
		 * at most (RFC 6066, 3). */
		if (host_seen || !name.n || name.n > 255 || memchr(name.p, 0, name.n))
			return false;
		host_seen = true;
		ch->server_name = (struct slice){(const char *)name.p, name.n};
	}
	return true;
}

static bool read_groups(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!whole_u16_list(&ext, 2, &list))
		return false;
	unsigned g;
	while (take_u16(&list, &g))
		if (g == GROUP_X25519)
			ch->group_x25519 = true;
	return true;
}

static bool read_sigalgs(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!whole_u16_list(&ext, 2, &list))
		return false;
	unsigned s;
	while (take_u16(&list, &s)) {
		if (s == 0x0403)
			ch->sigalgs |= TLS13_SIG_ECDSA_P256_SHA256;
		else if (s == 0x0503)
			ch->sigalgs |= TLS13_SIG_ECDSA_P384_SHA384;
		else if (s == 0x0807)
			ch->sigalgs |= TLS13_SIG_ED25519;
		else if (s == 0x0804)
			ch->sigalgs |= TLS13_SIG_RSA_PSS_RSAE_SHA256;
	}
	return true;
}

static bool read_alpn(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!take_vector(&ext, 2, &list) || ext.n || !list.n)
		return false;
	ch->alpn = (struct slice){(const char *)list.p, list.n};
	ch->has_alpn = true;
	while (list.n) {
		struct reader name;
		if (!take_vector(&list, 1, &name) || !name.n)
			return false;
	}
	return true;
}

static bool read_versions(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!take_vector(&ext, 1, &list) || ext.n || !list.n || list.n % 2)
		return false;
	unsigned v;
	while (take_u16(&list, &v))
		if (v == 0x0304)
			ch->offers_tls13 = true;
	return true;
}

static bool read_psk_modes(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!take_vector(&ext, 1, &list) || ext.n || !list.n)
		return false;
	unsigned m;
	while (take_u8(&list, &m))
		if (m == 0)
			ch->psk_modes |= TLS13_PSK_KE;
		else if (m == 1)
			ch->psk_modes |= TLS13_PSK_DHE_KE;
	return true;
}

/* KeyShareClientHello: each group at most once (RFC 8446, 4.2.8). */
static bool read_key_share(struct reader ext, struct tls13_client_hello *ch)
{
	struct reader list;
	if (!take_vector(&ext, 2, &list) || ext.n)
		return false;
	ch->has_key_share = true;
	unsigned seen[16];
	size_t nseen = 0;
	while (list.n) {
		unsigned group;
		struct reader key;
		if (!take_u16(&list, &group) || !take_vector(&list, 2, &key) || !key.n)
			return false;
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == group)
				return false;
		if (nseen == sizeof seen / sizeof seen[0])
			return false;
		seen[nseen++] = group;
		if (group == GROUP_X25519) {
			if (key.n != X25519_LEN)
				return false;
			ch->x25519_share = key.p;
		}
	}
	return true;
}

/* OfferedPsks: identities then binders, one binder per identity. The
 * binders' place is kept: a binder covers the hello up to it. */
static bool read_psk(struct reader ext, const unsigned char *msg, struct tls13_client_hello *ch)
{
	struct reader ids, binders;
	if (!take_vector(&ext, 2, &ids) || !ids.n)
		return false;
	size_t binders_at = (size_t)(ext.p - msg);
	if (!take_vector(&ext, 2, &binders) || ext.n || !binders.n)
		return false;
	ch->psk_identities = (struct slice){(const char *)ids.p, ids.n};
	ch->psk_binders = (struct slice){(const char *)binders.p, binders.n};
	ch->binders_at = binders_at;
	size_t count = 0;
	while (ids.n) {
		struct reader id;
		const unsigned char *age;
		if (!take_vector(&ids, 2, &id) || !id.n || !take(&ids, 4, &age))
			return false;
		count++;
	}
	while (binders.n) {
		struct reader b;
		if (!take_vector(&binders, 1, &b) || b.n < 32)
			return false;
		if (count-- == 0)
			return false;
	}
	ch->has_psk = true;
	return count == 0;
}

static bool read_extension(unsigned type, struct reader body, const unsigned char *msg,
                           struct tls13_client_hello *ch)
{
	switch (type) {
	case EXT_SERVER_NAME:
		return read_server_name(body, ch);
	case EXT_SUPPORTED_GROUPS:
		return read_groups(body, ch);
	case EXT_SIGNATURE_ALGORITHMS:
		return read_sigalgs(body, ch);
	case EXT_ALPN:
		return read_alpn(body, ch);
	case EXT_PRE_SHARED_KEY:
		return read_psk(body, msg, ch);
	case EXT_EARLY_DATA:
		ch->early_data = true;
		return body.n == 0;
	case EXT_SUPPORTED_VERSIONS:
		return read_versions(body, ch);
	case EXT_COOKIE:
		ch->cookie = true;
		return true;
	case EXT_PSK_KEX_MODES:
		return read_psk_modes(body, ch);
	case EXT_POST_HANDSHAKE_AUTH:
		ch->post_handshake_auth = true;
		return body.n == 0;
	case EXT_KEY_SHARE:
		return read_key_share(body, ch);
	default:
		return true; /* not ours to read (RFC 8446, 4.2) */
	}
}

static bool read_extensions(struct reader exts, const unsigned char *msg, struct tls13_client_hello *ch)
{
	unsigned seen[MAX_EXTENSIONS];
	size_t nseen = 0;
	while (exts.n) {
		unsigned type;
		struct reader body;
		if (!take_u16(&exts, &type) || !take_vector(&exts, 2, &body))
			return false;
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == type)
				return false;
		if (nseen == MAX_EXTENSIONS)
			return false;
		seen[nseen++] = type;
		if (!read_extension(type, body, msg, ch))
			return false;
		if (type == EXT_PRE_SHARED_KEY && exts.n)
			return false; /* it must be the last (RFC 8446, 4.2.11) */
	}
	return true;
}

bool tls13_client_hello_parse(const unsigned char *msg, size_t len, struct tls13_client_hello *ch)
{
	memset(ch, 0, sizeof *ch);
	struct reader r = {msg, len};
	const unsigned char *h;
	if (!take(&r, 4, &h) || h[0] != HANDSHAKE_CLIENT_HELLO ||
	    ((size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]) != r.n)
		return false;
	unsigned version;
	struct reader sid, suites, compression, exts;
	if (!take_u16(&r, &version) || version != 0x0303 || !take(&r, 32, &ch->random) ||
	    !take_vector(&r, 1, &sid) || sid.n > 32 || !take_vector(&r, 2, &suites) || !suites.n ||
	    suites.n % 2 || !take_vector(&r, 1, &compression) || compression.n != 1 ||
	    compression.p[0] != 0 || !take_vector(&r, 2, &exts) || r.n)
		return false;
	ch->session_id = sid.p;
	ch->session_id_len = sid.n;
	unsigned s;
	while (take_u16(&suites, &s))
		if ((s >> 8) == 0x13 && ch->suite_count < TLS13_CH_MAX_SUITES)
			ch->suites[ch->suite_count++] = (uint16_t)s;
	return read_extensions(exts, msg, ch);
}

bool tls13_client_hello_offers_alpn(const struct tls13_client_hello *ch, const char *name)
{
	if (!ch->has_alpn)
		return true;
	size_t want = strlen(name);
	struct reader list = {(const unsigned char *)ch->alpn.ptr, ch->alpn.len};
	struct reader one;
	while (take_vector(&list, 1, &one))
		if (one.n == want && memcmp(one.p, name, want) == 0)
			return true;
	return false;
}
