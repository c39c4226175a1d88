/*
 * conf_pins: reading pin sets (leaf and SPKI SHA-256 fingerprints, subject
 * patterns) from configuration. The fingerprint texts are what people copy
 * from `openssl x509 -fingerprint -sha256` (hex with colons) and from
 * `openssl pkey -pubout | openssl dgst -sha256 -binary | base64`.
 */
#include "conf/yaml_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"

bool conf_parse_sha256_hex(const char *text, uint8_t out[32], char *why, size_t why_len)
{
	/* Colons, when used, sit between every two digits ("AB:CD:..."): a
	 * misplaced one is more likely a damaged copy than a style. */
	bool colons = strlen(text) > 2 && text[2] == ':';
	size_t nbytes = 0;
	for (const char *p = text; *p;) {
		if (colons && nbytes > 0 && *p++ != ':')
			goto malformed;
		int hi = hex_digit_value((unsigned char)p[0]);
		int lo = hi < 0 ? -1 : hex_digit_value((unsigned char)p[1]);
		if (lo < 0)
			goto malformed;
		if (nbytes < 32)
			out[nbytes] = (uint8_t)(hi << 4 | lo);
		nbytes++;
		p += 2;
	}
	if (nbytes != 32) {
		snprintf(why, why_len, "has %zu bytes; a SHA-256 has 32 (64 hex digits)", nbytes);
		return false;
	}
	return true;
malformed:
	snprintf(why, why_len, "is not a SHA-256 in hex (64 hex digits, colons optional)");
	return false;
}

static int b64_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* 32 bytes are 43 base64 characters and one '='. The 43rd character carries
 * two unused bits, which must be zero in a canonical encoding. */
static bool parse_sha256_base64(const char *text, uint8_t out[32], char *why, size_t why_len)
{
	size_t len = strlen(text);
	if (len != 44) {
		snprintf(why, why_len, "has %zu characters; a base64 SHA-256 has 44 (with = padding)", len);
		return false;
	}
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < 43; i++) {
		int v = b64_value(text[i]);
		if (v < 0)
			goto malformed;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (text[43] != '=' || (acc & ((1u << bits) - 1)) != 0)
		goto malformed;
	return true;
malformed:
	snprintf(why, why_len, "is not a SHA-256 in base64 (44 characters) or hex (64 digits)");
	return false;
}

bool conf_parse_sha256_any(const char *text, uint8_t out[32], char *why, size_t why_len)
{
	if (strspn(text, "0123456789abcdefABCDEF:") == strlen(text))
		return conf_parse_sha256_hex(text, out, why, why_len);
	return parse_sha256_base64(text, out, why, why_len);
}

typedef bool (*sha256_parser)(const char *text, uint8_t out[32], char *why, size_t why_len);

/* One fingerprint or a list of them into a new array; every bad one is
 * reported at its own line. */
static void read_fingerprints(struct ydoc *d, yaml_node_t *n, const char *path, sha256_parser parse,
			      uint8_t (**out)[32], size_t *count)
{
	size_t len = ydoc_list_len(n);
	if (!len)
		return;
	uint8_t(*fps)[32] = calloc(len, sizeof *fps);
	if (!fps) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	size_t got = 0;
	for (size_t i = 0; i < len; i++) {
		char ipath[YDOC_PATH_MAX], why[96];
		yaml_node_t *item = ydoc_list_item(d, n, i);
		const char *v = ydoc_scalar(d, item, ydoc_list_path(ipath, n, path, i));
		if (!v)
			continue;
		if (!*v)
			ydoc_error(d, item, "%s: no value given", ipath);
		else if (!parse(v, fps[got], why, sizeof why))
			ydoc_error(d, item, "%s: \"%s\" %s", ipath, v, why);
		else
			got++;
	}
	*out = fps;
	*count = got;
}

bool ydoc_read_pins(struct ydoc *d, yaml_node_t *n, const char *path, struct pin_set *out)
{
	static const char *const keys[] = { "sha256", "spki_sha256", "subject", NULL };
	size_t before = d->error_count;
	if (!ydoc_expect_map(d, n, path))
		return false;
	ydoc_check_keys(d, n, path, keys);

	char kpath[YDOC_PATH_MAX];
	yaml_node_t *v;
	if ((v = ydoc_get(d, n, "sha256")))
		read_fingerprints(d, v, ydoc_path_key(kpath, path, "sha256"), conf_parse_sha256_hex,
				  &out->cert_sha256, &out->cert_sha256_count);
	if ((v = ydoc_get(d, n, "spki_sha256")))
		read_fingerprints(d, v, ydoc_path_key(kpath, path, "spki_sha256"),
				  conf_parse_sha256_any, &out->spki_sha256, &out->spki_sha256_count);
	if ((v = ydoc_get(d, n, "subject")))
		ydoc_read_str_list(d, v, ydoc_path_key(kpath, path, "subject"), YDOC_STR_TEXT,
				   conf_check_hostname_pattern, &out->subjects);
	return d->error_count == before;
}

void pin_set_free(struct pin_set *p)
{
	free(p->cert_sha256);
	free(p->spki_sha256);
	str_list_free(&p->subjects);
	p->cert_sha256 = p->spki_sha256 = NULL;
	p->cert_sha256_count = p->spki_sha256_count = 0;
}
