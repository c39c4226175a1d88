/*
 * tls13_server: pullgate's own TLS 1.3 server handshake (RFC 8446) for the
 * case that matters to an origin: a full handshake over x25519 that asks
 * for a client certificate, with an ECDSA server key. No I/O here: the
 * caller hands in the ClientHello (read by tls/tls13_client_hello.h) and
 * then the client's records as they come, and sends what comes out.
 *
 * Whatever this does not do (a resumption, a HelloRetryRequest, another
 * group, TLS 1.2) is decided before the first byte goes out, from the
 * ClientHello alone (tls13_server_can_answer), and left to OpenSSL.
 */
#ifndef PULLGATE_TLS_TLS13_SERVER_H
#define PULLGATE_TLS_TLS13_SERVER_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls13_client_hello.h"
#include "tls/tls13_hkdf.h"
#include "tls/tls13_records.h"

#define TLS13_ALERT_HANDSHAKE_FAILURE 40
#define TLS13_ALERT_BAD_CERTIFICATE 42
#define TLS13_ALERT_DECRYPT_ERROR 51
#define TLS13_ALERT_UNSUPPORTED_EXTENSION 110
#define TLS13_ALERT_CERTIFICATE_REQUIRED 116
/* Not an alert to send: the client ended the handshake with one. */
#define TLS13_SERVER_PEER_ALERT 256

/* What the server presents: its key and its messages that do not change
 * from one handshake to the next, encoded once. */
struct tls13_server_identity {
	EVP_PKEY *key;              /* an ECDSA P-256 key (a reference held) */
	unsigned char *certificate; /* the Certificate message (owned) */
	size_t certificate_len;
	unsigned char *cert_request; /* the CertificateRequest message (owned) */
	size_t cert_request_len;
};

/* Prepares id for key with leaf and the certificates sent after it (chain
 * may be NULL). False, id empty, when the key is not P-256 or out of
 * memory. */
bool tls13_server_identity_init(struct tls13_server_identity *id, EVP_PKEY *key, X509 *leaf,
                                STACK_OF(X509) * chain);
void tls13_server_identity_clear(struct tls13_server_identity *id);

/* The client's certificate chain as it came (DER, leaf first), for the
 * caller to judge. Returns 0 to go on, with *leaf_key (a new reference)
 * the key its CertificateVerify must verify with, or the alert to end the
 * handshake with. */
typedef int tls13_server_judge_chain(void *arg, const unsigned char *const *der, const size_t *len,
                                     size_t count, EVP_PKEY **leaf_key);

/* The suite to answer ch with, from ours (in our order of preference), or
 * 0 when ch is not a hello this handshake answers: no TLS 1.3, no x25519
 * share, no ECDSA P-256 SHA-256 signatures, a PSK, early data, a cookie,
 * or ALPN without alpn in it. */
uint16_t tls13_server_can_answer(const struct tls13_client_hello *ch, const uint16_t *suites,
                                 size_t suite_count, const char *alpn);

enum tls13_server_state {
	TLS13_SERVER_WAIT_CERTIFICATE,
	TLS13_SERVER_WAIT_CERTIFICATE_VERIFY,
	TLS13_SERVER_WAIT_FINISHED,
	TLS13_SERVER_DONE,
	TLS13_SERVER_FAILED,
};

/* The IV of the AES-256-CBC that seals a session ticket. */
#define TLS13_TICKET_IV_LEN 16

#define TLS13_SERVER_MAX_MESSAGE (64u * 1024) /* a client's certificate chain, at most */

struct tls13_server {
	enum tls13_server_state state;
	uint16_t suite;
	const struct tls13_hash *md;
	struct tls13_transcript transcript;
	struct tls13_records hs; /* handshake traffic keys */
	unsigned char master[TLS13_MAX_HASH];
	unsigned char client_hs[TLS13_MAX_HASH];
	unsigned char client_ap[TLS13_MAX_HASH], server_ap[TLS13_MAX_HASH];
	unsigned char resumption[TLS13_MAX_HASH]; /* resumption_master_secret */
	unsigned char ticket_iv[TLS13_TICKET_IV_LEN]; /* for the session ticket (tls/tls13_ticket.h) */
	bool ccs_seen;
	bool alpn_selected; /* the EncryptedExtensions named a protocol */
	tls13_server_judge_chain *judge;
	void *judge_arg;
	EVP_PKEY *peer_key;
	unsigned char *msg; /* a handshake message being put together (owned) */
	size_t msg_len, msg_room;
};

/* Answers the ClientHello ch (the message msg[0..msg_len), which
 * tls13_server_can_answer gave suite for) with the server's whole flight:
 * ServerHello, a ChangeCipherSpec when the client sent a session id, then
 * EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify
 * and Finished. Writes the records to out (room bytes) and their length to
 * *out_len. alpn, when not NULL, is the protocol the client offered that
 * we speak. Returns 0, or an alert (TLS13_ALERT_INTERNAL_ERROR when out is
 * too small or libcrypto fails) with s failed. Either way s is set up
 * anew, and tls13_server_clear frees it. */
int tls13_server_start(struct tls13_server *s, const struct tls13_server_identity *id,
                       const unsigned char *msg, size_t msg_len, const struct tls13_client_hello *ch,
                       uint16_t suite, const char *alpn, tls13_server_judge_chain *judge, void *judge_arg,
                       unsigned char *out, size_t room, size_t *out_len);

/* Reads whole records from in[0..len): *used bytes are taken. Returns 1
 * when the client's Finished is in and checked (what follows it is not
 * taken), 0 for more, or an alert to send (and s failed; for
 * TLS13_SERVER_PEER_ALERT, none). */
int tls13_server_read(struct tls13_server *s, unsigned char *in, size_t len, size_t *used);

/* Sets r up with the application traffic secrets of s, whose flight is
 * out (ours for sealing, the client's for opening), none sealed yet. */
bool tls13_server_app_records(const struct tls13_server *s, struct tls13_records *r);

/* The id of s's suite, as SSL_CIPHER_get_id gives it. */
static inline uint32_t tls13_server_suite_id(const struct tls13_server *s)
{
	return 0x03000000u | s->suite;
}

/* Frees what s holds and wipes its secrets. */
void tls13_server_clear(struct tls13_server *s);

#endif
