/*
 * fuzz_tls_client_hello: libFuzzer target for src/tls/tls13_client_hello.c.
 * Each input is read as a ClientHello message from an exact-size heap copy
 * (ASan sees any read past it), and aborts when an invariant breaks:
 *   - every view the reader hands out lies inside the message;
 *   - a hello read in full is refused when cut short by any number of
 *     bytes, or with a byte more;
 *   - reading is the same twice (nothing depends on what came before).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls13_client_hello.h"

static void fz_inside(const unsigned char *msg, size_t len, const void *p, size_t n)
{
	if (!p)
		return;
	const unsigned char *b = p;
	assert(b >= msg && n <= len && b - msg <= (ptrdiff_t)(len - n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char *msg = malloc(len + 1);
	assert(msg);
	memcpy(msg, data, len);
	struct tls13_client_hello ch, again;
	bool ok = tls13_client_hello_parse(msg, len, &ch);
	assert(tls13_client_hello_parse(msg, len, &again) == ok);
	if (ok) {
		assert(memcmp(&ch, &again, sizeof ch) == 0);
		fz_inside(msg, len, ch.random, 32);
		fz_inside(msg, len, ch.session_id, ch.session_id_len);
		fz_inside(msg, len, ch.x25519_share, 32);
		fz_inside(msg, len, ch.server_name.ptr, ch.server_name.len);
		fz_inside(msg, len, ch.alpn.ptr, ch.alpn.len);
		fz_inside(msg, len, ch.psk_identities.ptr, ch.psk_identities.len);
		fz_inside(msg, len, ch.psk_binders.ptr, ch.psk_binders.len);
		assert(ch.suite_count <= TLS13_CH_MAX_SUITES);
		if (ch.has_psk)
			assert(ch.binders_at < len &&
			       msg + ch.binders_at + 2 == (const unsigned char *)ch.psk_binders.ptr);
		(void)tls13_client_hello_offers_alpn(&ch, "http/1.1");
		for (size_t cut = 0; cut < len; cut++) {
			unsigned char *part = malloc(cut ? cut : 1);
			assert(part);
			memcpy(part, msg, cut);
			assert(!tls13_client_hello_parse(part, cut, &again));
			free(part);
		}
		msg[len] = 0;
		assert(!tls13_client_hello_parse(msg, len + 1, &again));
	}
	free(msg);
	return 0;
}
