/*
 * pki_err: the error convention of the pki module. Functions that can fail
 * take (char *err, size_t errlen), write one line without a trailing newline
 * (naming the file involved) and return -1 or NULL; only pki_main prints.
 */
#ifndef PULLGATE_PKI_PKI_ERR_H
#define PULLGATE_PKI_PKI_ERR_H

#include <stddef.h>

#define PKI_ERR_LEN 512

void pki_err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like pki_err_set, then appends ": <reason>" from the most recent OpenSSL
 * error, if any, and empties OpenSSL's error queue. */
void pki_err_ssl(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
