/* pki_pin: certificate and SPKI digests, hex and base64 forms. */
#include "pki/pki_pin.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

int pki_pin_cert_sha256(X509 *x, unsigned char out[PKI_SHA256_LEN])
{
	unsigned int len = 0;

	if (X509_digest(x, EVP_sha256(), out, &len) != 1 || len != PKI_SHA256_LEN)
		return -1;
	return 0;
}

int pki_pin_spki_sha256(X509 *x, unsigned char out[PKI_SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	int ok;

	if (len <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	     mdlen == PKI_SHA256_LEN;
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

void pki_hex(const unsigned char *in, size_t n, bool upper, char sep, char *out,
	     size_t outlen)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	if (!outlen)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t need = (sep && i) ? 3 : 2;
		if (o + need >= outlen)
			break;
		if (sep && i)
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 0x0f];
	}
	out[o] = '\0';
}

void pki_base64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	if (outlen < 4 * ((n + 2) / 3) + 1 || n > 0x3fffffff) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}
