/*
 * tls13_client_hello: what a TLS 1.3 ClientHello offers (RFC 8446, 4.1.2),
 * read from the handshake message as it arrived, for pullgate's own server
 * handshake to decide whether it can answer it.
 *
 * The reading is strict and has one answer to anything unusual: the hello
 * is not ours. A hello that does not parse, repeats an extension, puts
 * pre_shared_key anywhere but last, or carries an extension this reader
 * checks with a body that does not add up goes to OpenSSL as it came, and
 * OpenSSL answers it (an alert, a TLS 1.2 handshake, a HelloRetryRequest).
 * No allocation: the views point into the message, which the caller keeps.
 */
#ifndef PULLGATE_TLS_TLS13_CLIENT_HELLO_H
#define PULLGATE_TLS_TLS13_CLIENT_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define TLS13_CH_MAX_SUITES 8 /* the TLS 1.3 suites kept, in the client's order */

/* Signature schemes this reader notes (bits of sigalgs). */
enum tls13_sigalg_bit {
	TLS13_SIG_ECDSA_P256_SHA256 = 1u << 0,   /* 0x0403 */
	TLS13_SIG_ECDSA_P384_SHA384 = 1u << 1,   /* 0x0503 */
	TLS13_SIG_ED25519 = 1u << 2,             /* 0x0807 */
	TLS13_SIG_RSA_PSS_RSAE_SHA256 = 1u << 3, /* 0x0804 */
};

/* Key exchange modes for resumption (bits of psk_modes). */
enum tls13_psk_mode_bit {
	TLS13_PSK_KE = 1u << 0,
	TLS13_PSK_DHE_KE = 1u << 1,
};

struct tls13_client_hello {
	const unsigned char *random;     /* 32 bytes */
	const unsigned char *session_id; /* legacy_session_id, echoed back */
	size_t session_id_len;
	uint16_t suites[TLS13_CH_MAX_SUITES]; /* offered TLS 1.3 suites (0x13xx) */
	size_t suite_count;
	bool offers_tls13;                 /* supported_versions lists 0x0304 */
	bool group_x25519;                 /* supported_groups lists x25519 */
	const unsigned char *x25519_share; /* key_share's x25519 entry (32 bytes) or NULL */
	bool has_key_share;                /* the extension is there at all */
	unsigned sigalgs;                  /* enum tls13_sigalg_bit */
	struct slice server_name;          /* the host_name, or empty */
	struct slice alpn;                 /* the ProtocolNameList's body, or empty */
	bool has_alpn;
	unsigned psk_modes;          /* enum tls13_psk_mode_bit */
	struct slice psk_identities; /* pre_shared_key's identities' body, or empty */
	struct slice psk_binders;    /* its binders' body */
	size_t binders_at;           /* where the binders' list starts in the message */
	bool has_psk;
	bool early_data; /* early_data offered */
	bool cookie;     /* a second hello, after a HelloRetryRequest */
	bool post_handshake_auth;
};

/* Reads the ClientHello handshake message msg[0..len) (its 4-byte header
 * included) into ch. True when it is one this reader accepts in full;
 * false for anything to leave to OpenSSL. */
bool tls13_client_hello_parse(const unsigned char *msg, size_t len, struct tls13_client_hello *ch);

/* Whether the ALPN list ch offers contains name (true when ch offers no
 * ALPN at all). */
bool tls13_client_hello_offers_alpn(const struct tls13_client_hello *ch, const char *name);

#endif
