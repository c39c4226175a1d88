/* pki_err: formatting of the one-line errors the pki module hands back. */
#include "pki/pki_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void pki_err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void pki_err_ssl(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	unsigned long code = ERR_peek_last_error();
	size_t used;

	if (!err || !errlen) {
		ERR_clear_error();
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (code && used + 3 < errlen) {
		const char *reason = ERR_reason_error_string(code);
		if (reason)
			snprintf(err + used, errlen - used, ": %s", reason);
	}
	ERR_clear_error();
}
