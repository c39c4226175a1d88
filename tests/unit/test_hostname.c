/* Unit tests for core/hostname: patterns, case, trailing dots, Host values. */
#include "unit.h"

#include "core/hostname.h"

static bool hn_match(const char *pattern, const char *name)
{
	return hostname_matches(pattern, slice_from_cstr(name));
}

static bool hn_host_is(const char *header, const char *want)
{
	struct slice s = hostname_from_host_header(slice_from_cstr(header));
	return slice_eq(s, slice_from_cstr(want));
}

TEST(hostname_exact_any_case)
{
	CHECK(hn_match("app.example.com", "app.example.com"));
	CHECK(hn_match("app.example.com", "APP.Example.COM"));
	CHECK(hn_match("APP.example.com", "app.example.com"));
	CHECK(!hn_match("app.example.com", "app.example.co"));
	CHECK(!hn_match("app.example.com", "xapp.example.com"));
	CHECK(!hn_match("app.example.com", ""));
	CHECK(!hn_match("", "app.example.com"));
}

TEST(hostname_trailing_dot)
{
	CHECK(hn_match("app.example.com", "app.example.com."));
	CHECK(hn_match("app.example.com.", "app.example.com"));
	CHECK(!hn_match("app.example.com", "app.example.com.."));
}

TEST(hostname_wildcard_one_label)
{
	CHECK(hn_match("*.example.com", "a.example.com"));
	CHECK(hn_match("*.example.com", "A.EXAMPLE.COM."));
	CHECK(!hn_match("*.example.com", "example.com"));
	CHECK(!hn_match("*.example.com", ".example.com"));
	CHECK(!hn_match("*.example.com", "a.b.example.com"));
	CHECK(!hn_match("*.example.com", "aexample.com"));
	CHECK(!hn_match("*.example.com", "a.example.org"));
}

TEST(hostname_star_only_as_first_label)
{
	CHECK(!hn_match("a*.example.com", "ab.example.com"));
	CHECK(!hn_match("*", "example"));
	CHECK(!hn_match("*.", "a."));
}

TEST(hostname_embedded_nul_never_matches)
{
	static const char name[] = "app.example.com\0.evil";
	CHECK(!hostname_matches("app.example.com", slice_make(name, sizeof name - 1)));
	static const char wild[] = "a\0b.example.com";
	CHECK(!hostname_matches("app.example.com", slice_make(wild, sizeof wild - 1)));
}

TEST(hostname_host_header_port)
{
	CHECK(hn_host_is("a.example:8443", "a.example"));
	CHECK(hn_host_is("a.example", "a.example"));
	CHECK(hn_host_is("A.EXAMPLE.", "A.EXAMPLE"));
	CHECK(hn_host_is("A.EXAMPLE.:443", "A.EXAMPLE"));
	CHECK(hn_host_is("127.0.0.1:80", "127.0.0.1"));
	CHECK(hn_host_is("", ""));
}

TEST(hostname_host_header_ipv6)
{
	CHECK(hn_host_is("[::1]:443", "::1"));
	CHECK(hn_host_is("[::1]", "::1"));
	CHECK(hn_host_is("[2001:db8::1]:8443", "2001:db8::1"));
	/* Unbracketed IPv6 has no port to strip; unclosed brackets stay as is. */
	CHECK(hn_host_is("2001:db8::1", "2001:db8::1"));
	CHECK(hn_host_is("[::1", "[::1"));
}

TEST(hostname_host_header_then_match)
{
	struct slice h = hostname_from_host_header(SLICE_LIT("App.Example.com.:8443"));
	CHECK(hostname_matches("app.example.com", h));
	CHECK(hostname_matches("*.example.com", h));
}
