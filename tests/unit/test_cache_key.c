/* Unit tests of cache keys: primary keys, query handling, Vary variants. */
#include <string.h>

#include "cache/cache_key.h"
#include "unit.h"

static struct http_header ck_h(const char *name, const char *value)
{
	return (struct http_header){ slice_from_cstr(name), slice_from_cstr(value) };
}

TEST(cache_key_primary_with_and_without_query)
{
	char k[256];
	size_t n = cache_key_primary(k, sizeof k, "https", SLICE_LIT("www.example.com"), SLICE_LIT("/a/b?x=1"), false);
	REQUIRE(n > 0);
	CHECK(n == strlen("https://www.example.com/a/b?x=1") && memcmp(k, "https://www.example.com/a/b?x=1", n) == 0);
	n = cache_key_primary(k, sizeof k, "https", SLICE_LIT("www.example.com"), SLICE_LIT("/a/b?x=1"), true);
	CHECK(n == strlen("https://www.example.com/a/b") && memcmp(k, "https://www.example.com/a/b", n) == 0);
}

TEST(cache_key_schemes_and_hosts_differ)
{
	char a[128], b[128];
	size_t na = cache_key_primary(a, sizeof a, "https", SLICE_LIT("a.example"), SLICE_LIT("/"), false);
	size_t nb = cache_key_primary(b, sizeof b, "http", SLICE_LIT("a.example"), SLICE_LIT("/"), false);
	CHECK(na != nb || memcmp(a, b, na) != 0);
	nb = cache_key_primary(b, sizeof b, "https", SLICE_LIT("b.example"), SLICE_LIT("/"), false);
	CHECK(na != nb || memcmp(a, b, na) != 0);
}

TEST(cache_key_too_long_is_refused)
{
	char k[16];
	CHECK_EQ_INT(cache_key_primary(k, sizeof k, "https", SLICE_LIT("www.example.com"), SLICE_LIT("/"), false), 0);
}

TEST(cache_key_vary_values_fold_whitespace)
{
	struct http_header h1[] = { ck_h("Accept-Language", "en,  fr"), ck_h("Host", "x") };
	struct http_header h2[] = { ck_h("accept-language", "en, fr") };
	char a[256] = "p", b[256] = "p";
	size_t na = cache_key_add_vary(a, sizeof a, 1, "accept-language", h1, 2);
	size_t nb = cache_key_add_vary(b, sizeof b, 1, "accept-language", h2, 1);
	REQUIRE(na && nb);
	CHECK(na == nb && memcmp(a, b, na) == 0);
	CHECK(a[1] == '\0');
}

TEST(cache_key_vary_different_values_differ)
{
	struct http_header en[] = { ck_h("Accept-Language", "en") };
	struct http_header fr[] = { ck_h("Accept-Language", "fr") };
	struct http_header none[] = { ck_h("Accept", "*/*") };
	char a[256] = "p", b[256] = "p", c[256] = "p";
	size_t na = cache_key_add_vary(a, sizeof a, 1, "accept-language", en, 1);
	size_t nb = cache_key_add_vary(b, sizeof b, 1, "accept-language", fr, 1);
	size_t nc = cache_key_add_vary(c, sizeof c, 1, "accept-language", none, 1);
	CHECK(na != nb || memcmp(a, b, na) != 0);
	CHECK(nc != na || memcmp(a, c, na) != 0);
}

TEST(cache_key_vary_names_lowercased_and_joined)
{
	struct http_header h[] = { ck_h("Vary", "Accept-Encoding,  Accept-Language"), ck_h("Vary", "Origin") };
	char out[128];
	REQUIRE(cache_vary_names(h, 2, out, sizeof out));
	CHECK_STR(out, "accept-encoding,accept-language,origin");
	char small[8];
	CHECK(!cache_vary_names(h, 2, small, sizeof small));
}
