/*
 * cert_text: certificate fields as text that is safe in a log line or an HTTP
 * header value — never a CR, LF or other control byte, whatever the
 * certificate holder wrote into their certificate.
 */
#ifndef PULLGATE_TLS_CERT_TEXT_H
#define PULLGATE_TLS_CERT_TEXT_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/* Replaces every byte < 0x20 and 0x7f in s[0..len) with '?'. */
void cert_text_filter(char *s, size_t len);

/* The subject as RFC 2253 text into out (NUL-terminated, truncated to fit,
 * "" on failure). Returns its length. */
size_t cert_text_subject(X509 *cert, char *out, size_t outlen);

/* t as "YYYY-MM-DDTHH:MM:SSZ", or "YYYY-MM-DD" when date_only. */
bool cert_text_time(const ASN1_TIME *t, bool date_only, char *out, size_t outlen);

/* Seconds from now until t (negative when t is past). */
bool cert_time_left(const ASN1_TIME *t, long long *seconds);

#endif
