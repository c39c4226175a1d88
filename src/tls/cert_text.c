/* cert_text: RFC 2253 subjects, ISO 8601 times and the control-byte filter
 * shared by the verify policy's refusal details and the identity headers. */
#include "tls/cert_text.h"

#include <openssl/bio.h>
#include <string.h>
#include <time.h>

void cert_text_filter(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			s[i] = '?';
}

size_t cert_text_subject(X509 *cert, char *out, size_t outlen)
{
	if (outlen == 0)
		return 0;
	out[0] = '\0';
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return 0;
	/* RFC 2253 escapes control bytes as \XX and bytes >= 0x80 too, so
	 * the text is printable ASCII; the filter is a second fence. */
	size_t n = 0;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		char *data = NULL;
		long len = BIO_get_mem_data(bio, &data);
		n = len > 0 ? (size_t)len : 0;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, data, n);
		out[n] = '\0';
		cert_text_filter(out, n);
	}
	BIO_free(bio);
	return n;
}

bool cert_text_time(const ASN1_TIME *t, bool date_only, char *out, size_t outlen)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	const char *fmt = date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ";
	return strftime(out, outlen, fmt, &tm) > 0;
}

bool cert_time_left(const ASN1_TIME *t, long long *seconds)
{
	int days = 0, secs = 0;
	if (!t || ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
		return false;
	*seconds = (long long)days * 86400 + secs;
	return true;
}
