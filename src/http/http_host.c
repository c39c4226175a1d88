/*
 * http_host: the syntax of a Host value or of the authority in an
 * absolute-form target: uri-host [ ":" port ] per RFC 3986, without userinfo.
 * A host that only looks like one is where routing and the origin disagree,
 * so the check is exact; what the name means is decided elsewhere.
 */
#include <string.h>

#include "http/http_internal.h"

static bool is_hex(unsigned char c)
{
	return http_cc_is(c, HTTP_CC_HEX);
}

static bool is_digit(unsigned char c)
{
	return http_cc_is(c, HTTP_CC_DIGIT);
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros. */
static bool ipv4_is_valid(const char *p, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t s = i;
		unsigned v = 0;
		while (i < n && i - s < 3 && is_digit((unsigned char)p[i]))
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == s || v > 255 || (i - s > 1 && p[s] == '0'))
			return false;
		if (part < 3) {
			if (i == n || p[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

/* IPv6address of RFC 3986: eight 16-bit groups, one "::" standing for at
 * least one of them, and an optional dotted IPv4 tail counting as two. */
static bool ipv6_is_valid(const char *p, size_t n)
{
	size_t i = 0, groups = 0;
	bool elided = false;

	if (n >= 2 && p[0] == ':' && p[1] == ':') {
		elided = true;
		i = 2;
	} else if (n == 0 || p[0] == ':') {
		return false;
	}
	while (i < n) {
		size_t j = i;
		while (j < n && j - i < 5 && is_hex((unsigned char)p[j]))
			j++;
		if (j < n && p[j] == '.') {
			if (!ipv4_is_valid(p + i, n - i))
				return false;
			groups += 2;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		i = j;
		if (i == n)
			break;
		if (p[i] != ':' || ++i == n)
			return false;
		if (p[i] == ':') {
			if (elided)
				return false;
			elided = true;
			i++;
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
static bool ipvfuture_is_valid(const char *p, size_t n)
{
	size_t i = 1;

	if (n == 0 || (p[0] != 'v' && p[0] != 'V'))
		return false;
	while (i < n && is_hex((unsigned char)p[i]))
		i++;
	if (i == 1 || i == n || p[i] != '.' || ++i == n)
		return false;
	for (; i < n; i++) {
		if (!http_cc_is((unsigned char)p[i], HTTP_CC_REGNAME) && p[i] != ':')
			return false;
	}
	return true;
}

/* reg-name (which covers IPv4address): unreserved, sub-delims, %HH. */
static size_t skip_reg_name(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (http_cc_is(c, HTTP_CC_REGNAME)) {
			i++;
		} else if (c == '%' && i + 2 < n && is_hex((unsigned char)p[i + 1]) &&
			   is_hex((unsigned char)p[i + 2])) {
			i += 3;
		} else {
			break;
		}
	}
	return i;
}

static bool port_is_valid(const char *p, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= 65535;
}

bool http_host_is_valid(struct slice v)
{
	const char *p = v.ptr;
	size_t n = v.len, i;

	if (n == 0)
		return false;
	if (p[0] == '[') {
		const char *close = memchr(p, ']', n);
		if (!close)
			return false;
		size_t in = (size_t)(close - p) - 1;
		if (!ipv6_is_valid(p + 1, in) && !ipvfuture_is_valid(p + 1, in))
			return false;
		i = in + 2;
	} else {
		i = skip_reg_name(p, n);
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	return p[i] == ':' && port_is_valid(p + i + 1, n - i - 1);
}
