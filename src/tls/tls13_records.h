/*
 * tls13_records: TLS 1.3 record protection (RFC 8446, section 5) for a
 * connection whose handshake OpenSSL did: sealing and opening records with
 * the application traffic secrets, and moving to the next secret on a
 * KeyUpdate. No I/O here; tls/transport_records.c drives it.
 */
#ifndef PULLGATE_TLS_TLS13_RECORDS_H
#define PULLGATE_TLS_TLS13_RECORDS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS13_HEADER_LEN 5
#define TLS13_TAG_LEN 16
#define TLS13_IV_LEN 12
#define TLS13_MAX_PLAIN 16384u
/* The largest record body a peer may send: plaintext, type, padding, tag. */
#define TLS13_MAX_BODY (TLS13_MAX_PLAIN + 256u)
/* Records sealed with one key before we move to the next (RFC 8446, 5.5
 * allows about 2^24.5 full records under one AES-GCM key). */
#define TLS13_KEY_RECORDS (1ull << 24)
/* Room a sealed record of n bytes of content needs. */
#define TLS13_SEALED_LEN(n) (TLS13_HEADER_LEN + (n) + 1 + TLS13_TAG_LEN)

enum tls13_content {
	TLS13_ALERT = 21,
	TLS13_HANDSHAKE = 22,
	TLS13_APPLICATION_DATA = 23,
};

/* Alert descriptions this layer knows. */
enum tls13_alert {
	TLS13_ALERT_CLOSE_NOTIFY = 0,
	TLS13_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS13_ALERT_BAD_RECORD_MAC = 20,
	TLS13_ALERT_RECORD_OVERFLOW = 22,
	TLS13_ALERT_ILLEGAL_PARAMETER = 47,
	TLS13_ALERT_DECODE_ERROR = 50,
	TLS13_ALERT_PROTOCOL_VERSION = 70,
	TLS13_ALERT_INTERNAL_ERROR = 80,
	TLS13_ALERT_USER_CANCELED = 90, /* a closure alert, received only */
};

/* One direction's traffic key. */
struct tls13_key {
	EVP_CIPHER_CTX *aead;
	unsigned char secret[EVP_MAX_MD_SIZE];
	unsigned char iv[TLS13_IV_LEN];
	uint64_t seq; /* records protected with this key so far */
};

struct tls13_records {
	const EVP_MD *md;         /* the suite's hash, for the key schedule */
	const EVP_CIPHER *cipher; /* the suite's AEAD */
	size_t secret_len;
	struct tls13_key open; /* the peer's records */
	struct tls13_key seal; /* ours */
};

/* Sets r up from the current application traffic secrets (secret_len
 * bytes each) of suite_id (SSL_CIPHER_get_id): AES-128-GCM, AES-256-GCM or
 * ChaCha20-Poly1305; open_secret protects what the peer sends, seal_secret what
 * we send, of which seal_seq records have gone out already. False when the
 * suite is not supported or libcrypto fails; r is then empty. */
bool tls13_records_init(struct tls13_records *r, uint32_t suite_id,
			const unsigned char *open_secret, const unsigned char *seal_secret,
			size_t secret_len, uint64_t seal_seq);
/* Frees the cipher contexts and wipes the secrets. */
void tls13_records_clear(struct tls13_records *r);

/* Seals len bytes (at most TLS13_MAX_PLAIN) of content type into a record
 * at out, which has TLS13_SEALED_LEN(len) bytes of room; in and out may
 * not overlap. Returns the record's length, 0 on failure. */
size_t tls13_seal(struct tls13_records *r, enum tls13_content type, const void *in, size_t len,
		  unsigned char *out);

/* Opens the whole record rec[0..rec_len) in place: its content starts at
 * rec + TLS13_HEADER_LEN, *content_len bytes of type *type. Returns 0, or
 * the alert to send (bad version, overflow, failed authentication, no
 * content type). */
int tls13_open(struct tls13_records *r, unsigned char *rec, size_t rec_len, enum tls13_content *type,
	       size_t *content_len);

/* The same, with the opened bytes written to out instead, which has room
 * for the record's body less its tag (content, type and padding); out may
 * not overlap the record except at rec + TLS13_HEADER_LEN. On a failure,
 * out may hold unauthenticated bytes: the caller drops them. */
int tls13_open_into(struct tls13_records *r, unsigned char *rec, size_t rec_len, unsigned char *out,
		    enum tls13_content *type, size_t *content_len);

/* Moves a direction to its next traffic secret (a KeyUpdate). */
bool tls13_key_update(struct tls13_records *r, struct tls13_key *k);

#endif
