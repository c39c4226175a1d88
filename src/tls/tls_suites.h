/*
 * tls_suites: the cipher suites every pullgate context offers or accepts.
 * TLS 1.2: forward secrecy and AEAD only. TLS 1.3: OpenSSL's three suites,
 * AES-128-GCM first (as Go and the large CDNs do): strong enough for any
 * session key, with a SHA-256 key schedule and fewer AES rounds, a few
 * percent cheaper per handshake and per byte than AES-256-GCM-SHA384.
 */
#ifndef PULLGATE_TLS_TLS_SUITES_H
#define PULLGATE_TLS_TLS_SUITES_H

#define TLS12_CIPHERS                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

#endif
