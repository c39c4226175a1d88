/* tls_sni: see tls_sni.h. */
#include "tls/tls_sni.h"

/* The first host_name in a raw server_name extension (RFC 6066 3). */
int tls_client_hello_sni(SSL *ssl, struct slice *name)
{
	const unsigned char *p;
	size_t len;
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len))
		return 0;
	if (len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return -1;
	p += 2;
	len -= 2;
	while (len >= 3) {
		size_t n = (size_t)((p[1] << 8) | p[2]);
		if (n > len - 3)
			return -1;
		if (p[0] == TLSEXT_NAMETYPE_host_name) {
			*name = slice_make((const char *)p + 3, n);
			return n ? 1 : -1;
		}
		p += 3 + n;
		len -= 3 + n;
	}
	return len ? -1 : 0;
}
