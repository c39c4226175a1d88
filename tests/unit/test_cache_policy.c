/* Unit tests for cache_policy: Cache-Control, storability, freshness, ages,
 * the serve/revalidate decision, HTTP dates, conditionals and ranges. Where
 * an RFC gives an example, the test uses it. */
#include "unit.h"

#include "cache/cache_policy.h"

#define CP_MAX_HEADERS 16

/* Headers from "Name: value" strings (the strings outlive the headers). */
struct cp_headers {
	struct http_header h[CP_MAX_HEADERS];
	size_t n;
};

static struct cp_headers cp_make(const char *const *lines)
{
	struct cp_headers hs = { .n = 0 };

	for (; *lines && hs.n < CP_MAX_HEADERS; lines++) {
		const char *colon = strchr(*lines, ':');
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		hs.h[hs.n].name = slice_make(*lines, (size_t)(colon - *lines));
		hs.h[hs.n].value = slice_from_cstr(v);
		hs.n++;
	}
	return hs;
}

#define CP_HDRS(...) cp_make((const char *const[]){ __VA_ARGS__, NULL })

static struct cache_control cp_cc(bool is_request, struct cp_headers hs)
{
	struct cache_control cc;

	cache_control_parse(hs.h, hs.n, is_request, &cc);
	return cc;
}

static struct cache_response_info cp_resp(int status, struct cp_headers hs)
{
	struct cache_response_info r;

	cache_response_info_parse(status, hs.h, hs.n, &r);
	return r;
}

static enum cache_store_verdict cp_store(int status, struct cp_headers resp)
{
	struct cache_control req = { 0 };
	struct cache_response_info r = cp_resp(status, resp);

	return cache_storable(HTTP_METHOD_GET, &req, false, &r, false);
}

static enum cache_use cp_decide(const char *req_cc, const char *resp_cc, int64_t lifetime,
				int64_t age)
{
	struct cache_control req = cp_cc(true, req_cc ? CP_HDRS(req_cc) : CP_HDRS("X: y"));
	struct cache_control resp = cp_cc(false, resp_cc ? CP_HDRS(resp_cc) : CP_HDRS("X: y"));
	struct cache_stored st = { &resp, lifetime, age };

	return cache_decide(&req, &st);
}

static bool cp_sie(const char *req_cc, const char *resp_cc, int64_t lifetime, int64_t age)
{
	struct cache_control req = cp_cc(true, req_cc ? CP_HDRS(req_cc) : CP_HDRS("X: y"));
	struct cache_control resp = cp_cc(false, resp_cc ? CP_HDRS(resp_cc) : CP_HDRS("X: y"));
	struct cache_stored st = { &resp, lifetime, age };

	return cache_stale_if_error_ok(&req, &st);
}

static int64_t cp_date(const char *s)
{
	return http_date_parse(slice_from_cstr(s));
}

#define RFC_DATE 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

/* ---- Cache-Control ---- */

TEST(cache_policy_cc_basic)
{
	struct cache_control cc = cp_cc(false, CP_HDRS("Cache-Control: public, max-age=60, must-revalidate"));

	CHECK(cc.public_);
	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 60);
	CHECK(cc.must_revalidate);
	CHECK(!cc.no_store && !cc.no_cache && !cc.private_ && !cc.has_s_maxage);
}

TEST(cache_policy_cc_case_and_quoted)
{
	struct cache_control cc =
		cp_cc(false, CP_HDRS("cache-control: MAX-AGE=\"120\", No-Store, S-MaxAge = 30, Immutable"));

	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 120);
	CHECK(cc.no_store);
	CHECK(cc.has_s_maxage);
	CHECK_EQ_INT(cc.s_maxage, 30);
	CHECK(cc.immutable);
}

TEST(cache_policy_cc_multiple_headers_combine)
{
	struct cache_control cc = cp_cc(false, CP_HDRS("Cache-Control: max-age=10", "Content-Type: text/html",
						       "Cache-Control: no-transform, proxy-revalidate"));

	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 10);
	CHECK(cc.no_transform);
	CHECK(cc.proxy_revalidate);
}

TEST(cache_policy_cc_malformed_max_age_is_zero)
{
	const char *bad[] = { "Cache-Control: max-age=abc", "Cache-Control: max-age=",
			      "Cache-Control: max-age=-1", "Cache-Control: max-age=1.5",
			      "Cache-Control: max-age", "Cache-Control: max-age=\"60",
			      "Cache-Control: max-age=6 0" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cache_control cc = cp_cc(false, CP_HDRS(bad[i]));
		CHECK(cc.has_max_age);
		CHECK_EQ_INT(cc.max_age, 0);
	}
	struct cache_control cc = cp_cc(false, CP_HDRS("Cache-Control: s-maxage=x1, max-age=100"));
	CHECK(cc.has_s_maxage);
	CHECK_EQ_INT(cc.s_maxage, 0);
	CHECK_EQ_INT(cc.max_age, 100);
}

TEST(cache_policy_cc_delta_clamped)
{
	struct cache_control cc =
		cp_cc(false, CP_HDRS("Cache-Control: max-age=99999999999999999999999999, stale-if-error=2147483649"));

	CHECK_EQ_INT(cc.max_age, CACHE_DELTA_MAX);
	CHECK_EQ_INT(cc.stale_if_error, CACHE_DELTA_MAX);
}

TEST(cache_policy_cc_max_stale_forms)
{
	struct cache_control a = cp_cc(true, CP_HDRS("Cache-Control: max-stale"));
	struct cache_control b = cp_cc(true, CP_HDRS("Cache-Control: max-stale=45"));
	struct cache_control c = cp_cc(true, CP_HDRS("Cache-Control: max-stale=soon"));

	CHECK(a.has_max_stale && a.max_stale_any);
	CHECK(b.has_max_stale && !b.max_stale_any);
	CHECK_EQ_INT(b.max_stale, 45);
	/* A broken max-stale is ignored: ignoring it never serves staler. */
	CHECK(!c.has_max_stale && !c.max_stale_any);
}

TEST(cache_policy_cc_field_forms)
{
	struct cache_control cc = cp_cc(
		false, CP_HDRS("Cache-Control: private=\"Set-Cookie, X-User\", no-cache=\"Authorization\", max-age=5"));

	CHECK(cc.private_ && cc.private_fields);
	CHECK(cc.no_cache && cc.no_cache_fields);
	/* The comma inside the quotes did not end the directive. */
	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 5);
}

TEST(cache_policy_cc_garbage_and_unknown)
{
	struct cache_control cc =
		cp_cc(false, CP_HDRS("Cache-Control: foo;bar, ,, community=\"UCI\", @@, max-age=7, x=\"a,b\""));

	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 7);
	CHECK(!cc.no_store && !cc.private_ && !cc.public_);
}

TEST(cache_policy_cc_unterminated_quote_hides_nothing)
{
	struct cache_control cc = cp_cc(false, CP_HDRS("Cache-Control: max-age=\"60, private, no-store"));

	CHECK(cc.has_max_age);
	CHECK_EQ_INT(cc.max_age, 0);
	CHECK(cc.private_);
	CHECK(cc.no_store);
}

TEST(cache_policy_cc_first_duplicate_wins)
{
	struct cache_control cc = cp_cc(false, CP_HDRS("Cache-Control: max-age=30", "Cache-Control: max-age=3000"));

	CHECK_EQ_INT(cc.max_age, 30);
}

TEST(cache_policy_cc_pragma_no_cache)
{
	struct cache_control a = cp_cc(true, CP_HDRS("Pragma: no-cache"));
	struct cache_control b = cp_cc(true, CP_HDRS("Pragma: no-cache", "Cache-Control: max-age=60"));
	struct cache_control c = cp_cc(false, CP_HDRS("Pragma: no-cache"));
	struct cache_control d = cp_cc(true, CP_HDRS("Pragma: x-foo, No-Cache"));

	CHECK(a.no_cache);
	CHECK(!b.no_cache); /* Cache-Control present: Pragma is ignored */
	CHECK(!c.no_cache); /* responses: Pragma never counts */
	CHECK(d.no_cache);
}

/* ---- HTTP dates (RFC 9110 5.6.7) ---- */

TEST(cache_policy_date_three_formats)
{
	CHECK_EQ_INT(cp_date("Sun, 06 Nov 1994 08:49:37 GMT"), RFC_DATE);
	CHECK_EQ_INT(cp_date("Sunday, 06-Nov-94 08:49:37 GMT"), RFC_DATE);
	CHECK_EQ_INT(cp_date("Sun Nov  6 08:49:37 1994"), RFC_DATE);
	CHECK_EQ_INT(cp_date("sun, 06 nov 1994 08:49:37 gmt"), RFC_DATE);
	CHECK_EQ_INT(cp_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
	CHECK_EQ_INT(cp_date("Sun Nov 16 08:49:37 1994"), RFC_DATE + 10 * 86400);
}

TEST(cache_policy_date_wrong_weekday_tolerated)
{
	CHECK_EQ_INT(cp_date("Mon, 06 Nov 1994 08:49:37 GMT"), RFC_DATE);
	CHECK_EQ_INT(cp_date("Friday, 06-Nov-94 08:49:37 GMT"), RFC_DATE);
}

TEST(cache_policy_date_garbage_rejected)
{
	const char *bad[] = {
		"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37",
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun 06 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 32 Oct 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT", "Thu, 29 Feb 1900 00:00:00 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT junk", "Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (cp_date(bad[i]) != -1)
			unit_fail(__FILE__, __LINE__, bad[i]);
	}
}

TEST(cache_policy_date_calendar_edges)
{
	CHECK_EQ_INT(cp_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
	CHECK_EQ_INT(cp_date("Thu, 01 Mar 2000 00:00:00 GMT"), 951868800);
	CHECK_EQ_INT(cp_date("Fri, 31 Dec 1999 23:59:59 GMT"), 946684799);
	CHECK_EQ_INT(cp_date("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648LL);
	CHECK_EQ_INT(cp_date("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL);
	/* Before the epoch: valid, and as far in the past as we can say. */
	CHECK_EQ_INT(cp_date("Wed, 31 Dec 1969 23:59:59 GMT"), 0);
	/* A leap second runs into the next minute. */
	CHECK_EQ_INT(cp_date("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);
}

TEST(cache_policy_date_names_any_case_letters_only)
{
	CHECK_EQ_INT(cp_date("SUN, 06 NOV 1994 08:49:37 GMT"), RFC_DATE);
	CHECK_EQ_INT(cp_date("sun, 06 nov 1994 08:49:37 gmt"), RFC_DATE);
	CHECK_EQ_INT(cp_date("sUn Nov  6 08:49:37 1994"), RFC_DATE);
	/* Every byte in place of the month's and the weekday's first letter:
	 * only that letter, in either case, makes a date. */
	char d[] = "Sun, 06 Nov 1994 08:49:37 GMT";
	for (int at = 0; at <= 8; at += 8) {
		char keep = d[at];
		for (int b = 1; b < 256; b++) {
			d[at] = (char)b;
			bool same = b == keep || b == (keep | 0x20);
			if ((cp_date(d) == RFC_DATE) != same) {
				unit_fail(__FILE__, __LINE__, d);
				break;
			}
		}
		d[at] = keep;
	}
}

TEST(cache_policy_date_two_digit_years)
{
	CHECK_EQ_INT(cp_date("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
	CHECK_EQ_INT(cp_date("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
	CHECK_EQ_INT(cp_date("Friday, 31-Dec-99 23:59:59 GMT"), 946684799);
	CHECK_EQ_INT(cp_date("Sunday, 01-Jan-69 00:00:00 GMT"), cp_date("Tue, 01 Jan 2069 00:00:00 GMT"));
}

TEST(cache_policy_date_format)
{
	char buf[30];

	CHECK_STR(http_date_format(RFC_DATE, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK_STR(http_date_format(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
	CHECK_STR(http_date_format(951782400, buf), "Tue, 29 Feb 2000 00:00:00 GMT");
	CHECK_STR(http_date_format(-5, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
	CHECK_STR(http_date_format(INT64_MAX, buf), "Fri, 31 Dec 9999 23:59:59 GMT");
	/* Round trip across a wide span, including leap days and year ends. */
	for (int64_t t = 0; t < 253402300799LL; t += 86399LL * 37 + 12345) {
		if (http_date_parse(slice_from_cstr(http_date_format(t, buf))) != t) {
			unit_fail(__FILE__, __LINE__, buf);
			break;
		}
	}
}

/* ---- response info ---- */

TEST(cache_policy_info_parse)
{
	struct cache_response_info r = cp_resp(
		200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT", "Expires: Sun, 06 Nov 1994 09:49:37 GMT",
			     "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT", "Age: 12", "ETag: W/\"v1\"",
			     "Set-Cookie: a=b", "Vary: Accept-Encoding", "Cache-Control: max-age=5"));

	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_INT(r.date, RFC_DATE);
	CHECK_EQ_INT(r.expires, RFC_DATE + 3600);
	CHECK_EQ_INT(r.last_modified, RFC_DATE - 3600);
	CHECK_EQ_INT(r.age, 12);
	CHECK(slice_eq(r.etag, SLICE_LIT("W/\"v1\"")));
	CHECK(r.has_set_cookie);
	CHECK(r.has_vary && !r.vary_star);
	CHECK_EQ_INT(r.cc.max_age, 5);
}

TEST(cache_policy_info_absent_and_invalid)
{
	struct cache_response_info a = cp_resp(200, CP_HDRS("Content-Type: text/plain"));
	struct cache_response_info b = cp_resp(200, CP_HDRS("Expires: 0", "Age: -3", "Date: yesterday",
							    "Vary: Cookie, *"));
	struct cache_response_info c = cp_resp(200, CP_HDRS("Age: 99999999999999"));

	CHECK_EQ_INT(a.date, -1);
	CHECK_EQ_INT(a.expires, -1);
	CHECK_EQ_INT(a.last_modified, -1);
	CHECK_EQ_INT(a.age, 0);
	CHECK_EQ_INT(a.etag.len, 0);
	CHECK(!a.has_set_cookie && !a.has_vary && !a.vary_star);
	CHECK_EQ_INT(b.expires, 0); /* invalid Expires: already expired */
	CHECK_EQ_INT(b.age, 0);
	CHECK_EQ_INT(b.date, -1);
	CHECK(b.has_vary && b.vary_star);
	CHECK_EQ_INT(c.age, CACHE_DELTA_MAX);
}

/* ---- storability (RFC 9111 3) ---- */

TEST(cache_policy_store_method)
{
	struct cache_control req = { 0 };
	struct cache_response_info r = cp_resp(200, CP_HDRS("Cache-Control: max-age=60"));

	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &r, false), CACHE_STORABLE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_HEAD, &req, false, &r, false), CACHE_NOT_METHOD);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_POST, &req, false, &r, false), CACHE_NOT_METHOD);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, NULL, false, &r, false), CACHE_STORABLE);
}

TEST(cache_policy_verdict_from_response)
{
	struct cache_control req_ns = cp_cc(true, CP_HDRS("Cache-Control: no-store"));
	struct cache_response_info ok = cp_resp(200, CP_HDRS("Cache-Control: max-age=60"));
	struct cache_response_info ns = cp_resp(200, CP_HDRS("Cache-Control: no-store"));
	struct cache_response_info priv = cp_resp(200, CP_HDRS("Cache-Control: private"));
	struct cache_response_info none = cp_resp(200, CP_HDRS("Content-Type: text/plain"));
	enum cache_store_verdict v;

	/* The request's doing: says nothing about the next request. */
	v = cache_storable(HTTP_METHOD_GET, &req_ns, false, &ok, false);
	CHECK_EQ_INT(v, CACHE_NOT_NO_STORE);
	CHECK(!cache_verdict_from_response(v, &ok));
	v = cache_storable(HTTP_METHOD_GET, NULL, true, &ok, false);
	CHECK_EQ_INT(v, CACHE_NOT_AUTHORIZATION);
	CHECK(!cache_verdict_from_response(v, &ok));
	CHECK(!cache_verdict_from_response(CACHE_NOT_METHOD, &ok));
	/* The response's doing. */
	v = cache_storable(HTTP_METHOD_GET, &req_ns, false, &ns, false);
	CHECK(cache_verdict_from_response(v, &ns));
	v = cache_storable(HTTP_METHOD_GET, NULL, false, &priv, false);
	CHECK_EQ_INT(v, CACHE_NOT_PRIVATE);
	CHECK(cache_verdict_from_response(v, &priv));
	v = cache_storable(HTTP_METHOD_GET, NULL, false, &none, false);
	CHECK_EQ_INT(v, CACHE_NOT_NO_FRESHNESS);
	CHECK(cache_verdict_from_response(v, &none));
}

TEST(cache_policy_store_no_store_private)
{
	struct cache_control req = cp_cc(true, CP_HDRS("Cache-Control: no-store"));
	struct cache_response_info ok = cp_resp(200, CP_HDRS("Cache-Control: max-age=60"));

	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &ok, false), CACHE_NOT_NO_STORE);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: max-age=60, no-store")), CACHE_NOT_NO_STORE);
	/* RFC 9111 5.2.2.7: private keeps it out of a shared cache, also in
	 * its field-name form and also next to s-maxage. */
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: private, s-maxage=60")), CACHE_NOT_PRIVATE);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: private=\"X\", max-age=60")), CACHE_NOT_PRIVATE);
	/* Order: no-store before private before status. */
	CHECK_EQ_INT(cp_store(206, CP_HDRS("Cache-Control: private, no-store")), CACHE_NOT_NO_STORE);
	CHECK_EQ_INT(cp_store(206, CP_HDRS("Cache-Control: private")), CACHE_NOT_PRIVATE);
}

TEST(cache_policy_store_status)
{
	CHECK_EQ_INT(cp_store(206, CP_HDRS("Cache-Control: max-age=60")), CACHE_NOT_STATUS);
	CHECK_EQ_INT(cp_store(304, CP_HDRS("Cache-Control: max-age=60")), CACHE_NOT_STATUS);
	CHECK_EQ_INT(cp_store(101, CP_HDRS("Cache-Control: max-age=60")), CACHE_NOT_STATUS);
	CHECK_EQ_INT(cp_store(500, CP_HDRS("ETag: \"x\"")), CACHE_NOT_STATUS);
	CHECK_EQ_INT(cp_store(302, CP_HDRS("Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT")), CACHE_NOT_STATUS);
	CHECK_EQ_INT(cp_store(500, CP_HDRS("Cache-Control: max-age=5")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(302, CP_HDRS("Expires: Sun, 06 Nov 1994 08:49:37 GMT")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(503, CP_HDRS("Cache-Control: public", "ETag: \"x\"")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(404, CP_HDRS("ETag: \"x\"")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(301, CP_HDRS("Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT")), CACHE_STORABLE);
	CHECK(cache_status_heuristic(200) && cache_status_heuristic(501) && cache_status_heuristic(206));
	CHECK(!cache_status_heuristic(302) && !cache_status_heuristic(500) && !cache_status_heuristic(304));
}

TEST(cache_policy_store_authorization)
{
	struct cache_control req = { 0 };
	struct cache_response_info plain = cp_resp(200, CP_HDRS("Cache-Control: max-age=60"));
	struct cache_response_info pub = cp_resp(200, CP_HDRS("Cache-Control: public, max-age=60"));
	struct cache_response_info smax = cp_resp(200, CP_HDRS("Cache-Control: s-maxage=60"));
	struct cache_response_info mr = cp_resp(200, CP_HDRS("Cache-Control: must-revalidate, max-age=60"));

	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, true, &plain, false), CACHE_NOT_AUTHORIZATION);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, true, &pub, false), CACHE_STORABLE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, true, &smax, false), CACHE_STORABLE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, true, &mr, false), CACHE_STORABLE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &plain, false), CACHE_STORABLE);
}

TEST(cache_policy_store_set_cookie)
{
	struct cache_control req = { 0 };
	struct cache_response_info r = cp_resp(200, CP_HDRS("Cache-Control: max-age=60", "Set-Cookie: s=1"));
	struct cache_response_info both =
		cp_resp(200, CP_HDRS("Cache-Control: max-age=60", "Set-Cookie: s=1", "Vary: *"));

	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &r, false), CACHE_NOT_SET_COOKIE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &r, true), CACHE_STORABLE);
	/* Order: Set-Cookie before Vary: *. */
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &both, false), CACHE_NOT_SET_COOKIE);
	CHECK_EQ_INT(cache_storable(HTTP_METHOD_GET, &req, false, &both, true), CACHE_NOT_VARY_STAR);
}

TEST(cache_policy_store_vary)
{
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: max-age=60", "Vary: *")), CACHE_NOT_VARY_STAR);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: max-age=60", "Vary: Accept-Encoding, *")),
		     CACHE_NOT_VARY_STAR);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: max-age=60", "Vary: Accept-Encoding")),
		     CACHE_STORABLE);
}

TEST(cache_policy_store_no_freshness)
{
	/* Nothing to be fresh by and nothing to revalidate by. */
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Content-Type: text/html")), CACHE_NOT_NO_FRESHNESS);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: public")), CACHE_NOT_NO_FRESHNESS);
	/* A validator alone: stored, revalidated on every use. */
	CHECK_EQ_INT(cp_store(200, CP_HDRS("ETag: \"abc\"")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT")), CACHE_STORABLE);
	/* An invalid Expires is still explicit (already expired). */
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Expires: 0")), CACHE_STORABLE);
	CHECK_EQ_INT(cp_store(200, CP_HDRS("Cache-Control: max-age=0")), CACHE_STORABLE);
}

TEST(cache_policy_store_verdict_names)
{
	CHECK_STR(cache_store_verdict_name(CACHE_STORABLE), "storable");
	CHECK_STR(cache_store_verdict_name(CACHE_NOT_VARY_STAR), "vary-star");
	CHECK_STR(cache_store_verdict_name(CACHE_NOT_NO_FRESHNESS), "no-freshness");
	CHECK_STR(cache_store_verdict_name((enum cache_store_verdict)99), "unknown");
}

/* ---- freshness lifetime (RFC 9111 4.2.1, 4.2.2) ---- */

TEST(cache_policy_lifetime_explicit)
{
	bool h = true;
	/* RFC 9111 5.2.2.10: s-maxage overrides max-age and Expires. */
	struct cache_response_info a = cp_resp(200, CP_HDRS("Cache-Control: max-age=60, s-maxage=600",
							    "Date: Sun, 06 Nov 1994 08:49:37 GMT",
							    "Expires: Sun, 06 Nov 1994 08:49:47 GMT"));
	struct cache_response_info b = cp_resp(200, CP_HDRS("Cache-Control: max-age=60",
							    "Date: Sun, 06 Nov 1994 08:49:37 GMT",
							    "Expires: Sun, 06 Nov 1994 08:49:47 GMT"));
	struct cache_response_info c = cp_resp(200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
							    "Expires: Sun, 06 Nov 1994 08:49:47 GMT"));

	CHECK_EQ_INT(cache_freshness_lifetime(&a, RFC_DATE, &h), 600);
	CHECK(!h);
	CHECK_EQ_INT(cache_freshness_lifetime(&b, RFC_DATE, &h), 60);
	CHECK_EQ_INT(cache_freshness_lifetime(&c, RFC_DATE + 1000, &h), 10);
	CHECK(!h);
}

TEST(cache_policy_lifetime_expires_edges)
{
	struct cache_response_info nodate = cp_resp(200, CP_HDRS("Expires: Sun, 06 Nov 1994 08:49:47 GMT"));
	struct cache_response_info past = cp_resp(200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
							       "Expires: Sun, 06 Nov 1994 08:00:00 GMT"));
	struct cache_response_info inval = cp_resp(200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
								"Expires: -1"));

	/* No Date: the response time stands in for it. */
	CHECK_EQ_INT(cache_freshness_lifetime(&nodate, RFC_DATE + 4, NULL), 6);
	CHECK_EQ_INT(cache_freshness_lifetime(&past, RFC_DATE, NULL), 0);
	CHECK_EQ_INT(cache_freshness_lifetime(&inval, RFC_DATE, NULL), 0);
}

TEST(cache_policy_lifetime_heuristic)
{
	bool h = false;
	struct cache_response_info a = cp_resp(200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
							    "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT"));
	struct cache_response_info cap = cp_resp(404, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
							      "Last-Modified: Sun, 06 Nov 1984 08:49:37 GMT"));
	struct cache_response_info s500 = cp_resp(500, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
							       "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT"));
	struct cache_response_info pub = cp_resp(500, CP_HDRS("Cache-Control: public",
							      "Date: Sun, 06 Nov 1994 08:49:37 GMT",
							      "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT"));
	struct cache_response_info future = cp_resp(200, CP_HDRS("Date: Sun, 06 Nov 1994 08:49:37 GMT",
								 "Last-Modified: Sun, 06 Nov 1994 09:49:37 GMT"));
	struct cache_response_info nodate = cp_resp(200, CP_HDRS("Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT"));

	CHECK_EQ_INT(cache_freshness_lifetime(&a, RFC_DATE, &h), 360); /* 10% of an hour */
	CHECK(h);
	CHECK_EQ_INT(cache_freshness_lifetime(&cap, RFC_DATE, &h), 86400);
	CHECK(h);
	CHECK_EQ_INT(cache_freshness_lifetime(&s500, RFC_DATE, &h), 0);
	CHECK(!h);
	CHECK_EQ_INT(cache_freshness_lifetime(&pub, RFC_DATE, &h), 360);
	CHECK_EQ_INT(cache_freshness_lifetime(&future, RFC_DATE, &h), 0);
	CHECK(!h);
	CHECK_EQ_INT(cache_freshness_lifetime(&nodate, RFC_DATE + 3600, &h), 720);
}

/* ---- age (RFC 9111 4.2.3) ---- */

TEST(cache_policy_age_rfc_calculation)
{
	/* Sent at 100, head back at 104, dated 102 by the origin, Age 0:
	 * apparent_age = 2, response_delay = 4, corrected_age_value = 4,
	 * corrected_initial_age = max(2, 4) = 4. */
	struct cache_response_info r = cp_resp(200, CP_HDRS("X: y"));
	r.date = 102;
	CHECK_EQ_INT(cache_initial_age(&r, 100, 104), 4);
	/* An upstream cache's Age: 30 -> corrected_age_value 34. */
	r.age = 30;
	CHECK_EQ_INT(cache_initial_age(&r, 100, 104), 34);
	/* A slow clock at the origin: Date far behind -> apparent age wins. */
	r.age = 0;
	r.date = 40;
	CHECK_EQ_INT(cache_initial_age(&r, 100, 104), 64);
	/* A fast clock: Date in the future -> apparent_age 0. */
	r.date = 500;
	CHECK_EQ_INT(cache_initial_age(&r, 100, 104), 4);
	/* No Date. */
	r.date = -1;
	r.age = 7;
	CHECK_EQ_INT(cache_initial_age(&r, 100, 104), 11);
	/* current_age = corrected_initial_age + resident_time. */
	CHECK_EQ_INT(cache_current_age(11, 104, 204), 111);
	CHECK_EQ_INT(cache_current_age(11, 104, 50), 11); /* clock stepped back */
}

/* ---- serving decisions (RFC 9111 4.2, 5.2.1; RFC 5861) ---- */

TEST(cache_policy_decide_fresh_and_stale)
{
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: max-age=60", 60, 59), CACHE_USE_FRESH);
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: max-age=60", 60, 60), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide(NULL, NULL, 0, 0), CACHE_USE_REVALIDATE);
	struct cache_stored st = { NULL, 10, 5 };
	CHECK_EQ_INT(cache_decide(NULL, &st), CACHE_USE_FRESH);
}

TEST(cache_policy_decide_swr_rfc5861)
{
	/* RFC 5861 3: "max-age=600, stale-while-revalidate=30". */
	const char *cc = "Cache-Control: max-age=600, stale-while-revalidate=30";

	CHECK_EQ_INT(cp_decide(NULL, cc, 600, 599), CACHE_USE_FRESH);
	CHECK_EQ_INT(cp_decide(NULL, cc, 600, 615), CACHE_USE_STALE_REVALIDATE_BG);
	CHECK_EQ_INT(cp_decide(NULL, cc, 600, 630), CACHE_USE_STALE_REVALIDATE_BG);
	CHECK_EQ_INT(cp_decide(NULL, cc, 600, 631), CACHE_USE_REVALIDATE);
	/* must-revalidate and s-maxage forbid serving stale. */
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: max-age=600, stale-while-revalidate=30, must-revalidate",
			       600, 615), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: s-maxage=600, stale-while-revalidate=30", 600, 615),
		     CACHE_USE_REVALIDATE);
}

TEST(cache_policy_decide_request_max_age)
{
	CHECK_EQ_INT(cp_decide("Cache-Control: max-age=0", "Cache-Control: max-age=600", 600, 1),
		     CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-age=0", "Cache-Control: max-age=600", 600, 0),
		     CACHE_USE_FRESH);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-age=100", "Cache-Control: max-age=600", 600, 50),
		     CACHE_USE_FRESH);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-age=100", "Cache-Control: max-age=600", 600, 101),
		     CACHE_USE_REVALIDATE);
}

TEST(cache_policy_decide_no_cache)
{
	CHECK_EQ_INT(cp_decide("Cache-Control: no-cache", "Cache-Control: max-age=600", 600, 1),
		     CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Pragma: no-cache", "Cache-Control: max-age=600", 600, 1),
		     CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: no-cache, max-age=600", 600, 1), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide(NULL, "Cache-Control: no-cache=\"Set-Cookie\", max-age=600", 600, 1),
		     CACHE_USE_REVALIDATE);
}

TEST(cache_policy_decide_min_fresh)
{
	const char *cc = "Cache-Control: max-age=600";

	CHECK_EQ_INT(cp_decide("Cache-Control: min-fresh=100", cc, 600, 500), CACHE_USE_FRESH);
	CHECK_EQ_INT(cp_decide("Cache-Control: min-fresh=100", cc, 600, 501), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Cache-Control: min-fresh=bad", cc, 600, 501), CACHE_USE_FRESH);
}

TEST(cache_policy_decide_max_stale)
{
	const char *cc = "Cache-Control: max-age=600";

	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale", cc, 600, 100000), CACHE_USE_STALE_OK);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale=60", cc, 600, 660), CACHE_USE_STALE_OK);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale=60", cc, 600, 661), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale", "Cache-Control: max-age=600, must-revalidate",
			       600, 700), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale", "Cache-Control: max-age=600, proxy-revalidate",
			       600, 700), CACHE_USE_REVALIDATE);
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale", "Cache-Control: s-maxage=600", 600, 700),
		     CACHE_USE_REVALIDATE);
	/* Request max-age still bounds a max-stale request. */
	CHECK_EQ_INT(cp_decide("Cache-Control: max-stale, max-age=650", cc, 600, 700), CACHE_USE_REVALIDATE);
}

TEST(cache_policy_stale_if_error_rfc5861)
{
	/* RFC 5861 4: "max-age=600, stale-if-error=1200". */
	const char *cc = "Cache-Control: max-age=600, stale-if-error=1200";

	CHECK(cp_sie(NULL, cc, 600, 100)); /* fresh */
	CHECK(cp_sie(NULL, cc, 600, 1000));
	CHECK(cp_sie(NULL, cc, 600, 1800));
	CHECK(!cp_sie(NULL, cc, 600, 1801));
	CHECK(!cp_sie(NULL, "Cache-Control: max-age=600", 600, 700));
	/* The request may grant the window too. */
	CHECK(cp_sie("Cache-Control: stale-if-error=200", "Cache-Control: max-age=600", 600, 800));
	CHECK(!cp_sie("Cache-Control: stale-if-error=200", "Cache-Control: max-age=600", 600, 801));
	/* Never past must-revalidate, proxy-revalidate, s-maxage. */
	CHECK(!cp_sie(NULL, "Cache-Control: max-age=600, stale-if-error=1200, must-revalidate", 600, 700));
	CHECK(!cp_sie(NULL, "Cache-Control: max-age=600, stale-if-error=1200, proxy-revalidate", 600, 700));
	CHECK(!cp_sie("Cache-Control: stale-if-error=1200", "Cache-Control: s-maxage=600", 600, 700));
	CHECK(cp_sie(NULL, "Cache-Control: s-maxage=600", 600, 599));
}

/* ---- conditionals (RFC 9110 13.1.2, 13.1.3) ---- */

static bool cp_nm(struct cp_headers hs, const char *etag, int64_t lm)
{
	return cache_not_modified(hs.h, hs.n, slice_from_cstr(etag), lm);
}

TEST(cache_policy_inm_weak_comparison)
{
	CHECK(cp_nm(CP_HDRS("If-None-Match: \"abc\""), "\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: W/\"abc\""), "\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: \"abc\""), "W/\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: W/\"abc\""), "W/\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: \"x\", W/\"y\" ,\"abc\""), "\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: \"x\"", "if-none-match: \"abc\""), "\"abc\"", -1));
	CHECK(cp_nm(CP_HDRS("If-None-Match: \"a,b\""), "\"a,b\"", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"abcd\""), "\"abc\"", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"ABC\""), "\"abc\"", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"abc\""), "", -1));
	/* Unreadable lists never produce a 304. */
	CHECK(!cp_nm(CP_HDRS("If-None-Match: abc"), "abc", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"abc"), "\"abc\"", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"x\" junk, \"abc\""), "\"abc\"", -1));
}

TEST(cache_policy_inm_star_and_precedence)
{
	CHECK(cp_nm(CP_HDRS("If-None-Match: *"), "\"abc\"", -1));
	CHECK(!cp_nm(CP_HDRS("If-None-Match: *"), "", -1));
	/* If-None-Match decides alone, even when If-Modified-Since would
	 * say "not modified". */
	CHECK(!cp_nm(CP_HDRS("If-None-Match: \"other\"", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"),
		     "\"abc\"", RFC_DATE - 100));
	CHECK(cp_nm(CP_HDRS("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", "If-None-Match: \"abc\""),
		    "\"abc\"", RFC_DATE + 100));
}

TEST(cache_policy_if_modified_since)
{
	const char *ims = "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT";

	CHECK(cp_nm(CP_HDRS(ims), "", RFC_DATE));
	CHECK(cp_nm(CP_HDRS(ims), "\"abc\"", RFC_DATE - 1));
	CHECK(!cp_nm(CP_HDRS(ims), "", RFC_DATE + 1));
	CHECK(!cp_nm(CP_HDRS(ims), "", -1));
	CHECK(!cp_nm(CP_HDRS("If-Modified-Since: yesterday"), "", RFC_DATE));
	CHECK(cp_nm(CP_HDRS("If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT"), "", RFC_DATE));
	CHECK(!cp_nm(CP_HDRS("Accept: */*"), "\"abc\"", RFC_DATE));
}

/* ---- ranges (RFC 9110 14.1.2, 14.2) ---- */

static int cp_range(const char *range, uint64_t length, uint64_t *f, uint64_t *l)
{
	struct cp_headers hs = range ? CP_HDRS(range) : CP_HDRS("Accept: */*");

	*f = *l = 12345;
	return cache_parse_range(hs.h, hs.n, length, f, l);
}

TEST(cache_policy_range_rfc_examples)
{
	uint64_t f, l;

	CHECK_EQ_INT(cp_range("Range: bytes=0-499", 10000, &f, &l), 1);
	CHECK(f == 0 && l == 499);
	CHECK_EQ_INT(cp_range("Range: bytes=500-999", 10000, &f, &l), 1);
	CHECK(f == 500 && l == 999);
	CHECK_EQ_INT(cp_range("Range: bytes=-500", 10000, &f, &l), 1);
	CHECK(f == 9500 && l == 9999);
	CHECK_EQ_INT(cp_range("Range: bytes=9500-", 10000, &f, &l), 1);
	CHECK(f == 9500 && l == 9999);
	CHECK_EQ_INT(cp_range("Range: bytes=0-0", 10000, &f, &l), 1);
	CHECK(f == 0 && l == 0);
	CHECK_EQ_INT(cp_range("Range: bytes=-1", 10000, &f, &l), 1);
	CHECK(f == 9999 && l == 9999);
}

TEST(cache_policy_range_clamps_and_416)
{
	uint64_t f, l;

	CHECK_EQ_INT(cp_range("Range: bytes=9000-20000", 10000, &f, &l), 1);
	CHECK(f == 9000 && l == 9999);
	CHECK_EQ_INT(cp_range("Range: bytes=-20000", 10000, &f, &l), 1);
	CHECK(f == 0 && l == 9999);
	CHECK_EQ_INT(cp_range("Range: bytes=99999999999999999999999-", 10000, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=0-99999999999999999999999", 10000, &f, &l), 1);
	CHECK(f == 0 && l == 9999);
	CHECK_EQ_INT(cp_range("Range: bytes=10000-", 10000, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=10000-10005", 10000, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=500-400", 10000, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=-0", 10000, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=0-0", 0, &f, &l), -1);
	CHECK_EQ_INT(cp_range("Range: bytes=-5", 0, &f, &l), -1);
}

TEST(cache_policy_range_ignored)
{
	uint64_t f, l;

	CHECK_EQ_INT(cp_range(NULL, 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=0-1,5-6", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=0-499,", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: items=0-5", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytesx=0-5", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=-", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=a-b", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=1-2-3", 10000, &f, &l), 0);
	CHECK_EQ_INT(cp_range("Range: bytes=+1-2", 10000, &f, &l), 0);
	CHECK(f == 12345 && l == 12345); /* untouched when ignored */

	struct cp_headers two = CP_HDRS("Range: bytes=0-1", "Range: bytes=2-3");
	CHECK_EQ_INT(cache_parse_range(two.h, two.n, 10000, &f, &l), 0);
}

TEST(cache_policy_range_case_and_whitespace)
{
	uint64_t f, l;

	CHECK_EQ_INT(cp_range("range: BYTES=0-9", 100, &f, &l), 1);
	CHECK(f == 0 && l == 9);
	CHECK_EQ_INT(cp_range("Range: bytes = 10 - 19 ", 100, &f, &l), 1);
	CHECK(f == 10 && l == 19);
	CHECK_EQ_INT(cp_range("Range: bytes= - 5", 100, &f, &l), 1);
	CHECK(f == 95 && l == 99);
}
