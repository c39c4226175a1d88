/* cache_key: see cache_key.h. */
#include "cache/cache_key.h"

#include <ctype.h>
#include <string.h>

static bool put(char *out, size_t cap, size_t *len, const char *p, size_t n)
{
	if (*len + n > cap)
		return false;
	memcpy(out + *len, p, n);
	*len += n;
	return true;
}

size_t cache_key_primary(char *out, size_t cap, const char *scheme, struct slice host, struct slice target,
			 bool ignore_query)
{
	size_t len = 0;
	struct slice path = target;
	if (ignore_query) {
		const char *q = memchr(path.ptr, '?', path.len);
		if (q)
			path.len = (size_t)(q - path.ptr);
	}
	if (!put(out, cap, &len, scheme, strlen(scheme)) || !put(out, cap, &len, "://", 3) ||
	    !put(out, cap, &len, host.ptr, host.len) || !put(out, cap, &len, path.ptr, path.len))
		return 0;
	return len;
}

/* Appends one header's values, joined by ", " and with runs of
 * whitespace folded, so equivalent requests share a variant. */
static bool put_values(char *out, size_t cap, size_t *len, const char *name,
		       const struct http_header *headers, size_t count)
{
	bool first = true;
	for (size_t i = 0; i < count; i++) {
		if (!slice_eq_cstr_nocase(headers[i].name, name))
			continue;
		if (!first && !put(out, cap, len, ", ", 2))
			return false;
		first = false;
		bool space = false;
		for (size_t k = 0; k < headers[i].value.len; k++) {
			char c = headers[i].value.ptr[k];
			if (c == ' ' || c == '\t') {
				space = true;
				continue;
			}
			if (space && !put(out, cap, len, " ", 1))
				return false;
			space = false;
			if (!put(out, cap, len, &c, 1))
				return false;
		}
	}
	return true;
}

size_t cache_key_add_vary(char *out, size_t cap, size_t len, const char *vary,
			  const struct http_header *headers, size_t count)
{
	if (!put(out, cap, &len, "\0", 1))
		return 0;
	const char *p = vary;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char name[128];
		if (n >= sizeof name)
			return 0;
		memcpy(name, p, n);
		name[n] = '\0';
		if (!put(out, cap, &len, name, n) || !put(out, cap, &len, "=", 1) ||
		    !put_values(out, cap, &len, name, headers, count) || !put(out, cap, &len, "\n", 1))
			return 0;
		p = end ? end + 1 : p + n;
	}
	return len;
}

bool cache_vary_names(const struct http_header *headers, size_t count, char *out, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < count; i++) {
		if (!slice_eq_cstr_nocase(headers[i].name, "vary"))
			continue;
		const char *p = headers[i].value.ptr, *end = p + headers[i].value.len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			const char *start = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if (p == start)
				continue;
			if (len && !put(out, cap - 1, &len, ",", 1))
				return false;
			for (const char *q = start; q < p; q++) {
				char c = (char)tolower((unsigned char)*q);
				if (!put(out, cap - 1, &len, &c, 1))
					return false;
			}
		}
	}
	out[len] = '\0';
	return true;
}
