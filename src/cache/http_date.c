/*
 * http_date: HTTP-date (RFC 9110 5.6.7) to and from seconds since the epoch,
 * with our own calendar arithmetic so that neither the time zone, the locale
 * nor the C library's mktime/timegm can change an answer.
 *
 * Parsing accepts the three formats the RFC asks recipients to accept:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Names are matched without regard to case; a weekday that does not fit the
 * date is tolerated (it carries no information), anything else that is off
 * by one byte makes the whole date invalid.
 */
#include "cache/cache_policy.h"
#include "cache/cache_policy_int.h"

static const char *const wkday_short[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wkday_long[7] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
					   "Thursday", "Friday", "Saturday" };
static const char *const month_name[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Latest time http_date_format can print in four year digits. */
#define HTTP_DATE_MAX 253402300799LL /* 9999-12-31 23:59:59 */

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). The
 * era-based method (H. Hinnant, "chrono-compatible low-level date
 * algorithms"): exact for every year, no tables, no loops. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* A cursor over the date text; every reader advances it or fails. */
struct date_cur {
	const char *p;
	size_t left;
};

static inline bool cur_lit_n(struct date_cur *c, const char *lit, size_t n)
{
	if (c->left < n || !slice_eq_nocase(slice_make(c->p, n), slice_make(lit, n)))
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

/* A string literal (its length known at compile time), in any case. */
#define cur_lit(c, lit) cur_lit_n((c), "" lit, sizeof(lit) - 1)

/* One of names[0..count): its index, or -1. No name in a table is a
 * prefix of another, so the first match is the only one. */
static int cur_name(struct date_cur *c, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		if (cur_lit_n(c, names[i], strlen(names[i])))
			return i;
	}
	return -1;
}

/* Three bytes folded to lower case as one number. Or-ing 0x20 maps only
 * "A".."Z" onto "a".."z", so two such numbers of letters are equal exactly
 * when the letters are equal without regard to case. */
static uint32_t fold3(const char *p)
{
	return ((uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 |
		(uint32_t)(unsigned char)p[2] << 16) | 0x202020u;
}

/* cur_name for a table of three-letter names (weekdays, months): every
 * date has two of these, so they are compared a word at a time. */
static int cur_name3(struct date_cur *c, const char *const *names, int count)
{
	if (c->left < 3)
		return -1;
	uint32_t v = fold3(c->p);
	for (int i = 0; i < count; i++) {
		if (fold3(names[i]) == v) {
			c->p += 3;
			c->left -= 3;
			return i;
		}
	}
	return -1;
}

/* Exactly n digits. */
static bool cur_digits(struct date_cur *c, int n, int64_t *out)
{
	int64_t v = 0;

	if (c->left < (size_t)n)
		return false;
	for (int i = 0; i < n; i++) {
		if (!cache_is_digit((unsigned char)c->p[i]))
			return false;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	c->left -= n;
	*out = v;
	return true;
}

/* "HH:MM:SS" into seconds of the day; second 60 is a leap second. */
static bool cur_time(struct date_cur *c, int64_t *secs)
{
	int64_t h, m, s;

	if (!cur_digits(c, 2, &h) || !cur_lit(c, ":") || !cur_digits(c, 2, &m) ||
	    !cur_lit(c, ":") || !cur_digits(c, 2, &s))
		return false;
	if (h > 23 || m > 59 || s > 60)
		return false;
	*secs = h * 3600 + m * 60 + s;
	return true;
}

static bool date_imf(struct date_cur *c, int64_t *y, int *mon, int64_t *d, int64_t *t)
{
	return cur_name3(c, wkday_short, 7) >= 0 && cur_lit(c, ", ") && cur_digits(c, 2, d) &&
	       cur_lit(c, " ") && (*mon = cur_name3(c, month_name, 12)) >= 0 && cur_lit(c, " ") &&
	       cur_digits(c, 4, y) && cur_lit(c, " ") && cur_time(c, t) && cur_lit(c, " GMT");
}

/* Two-digit years: RFC 9110 wants "the most recent year with those digits
 * that is not more than 50 years ahead", which needs a clock. Without one we
 * use a fixed pivot: 00-69 are 2000-2069, 70-99 are 1970-1999. It differs
 * from the clock rule only for 70-75 read today, and rfc850-dates are
 * obsolete: nobody sends a date that far ahead in them. */
static bool date_rfc850(struct date_cur *c, int64_t *y, int *mon, int64_t *d, int64_t *t)
{
	if (!(cur_name(c, wkday_long, 7) >= 0 && cur_lit(c, ", ") && cur_digits(c, 2, d) &&
	      cur_lit(c, "-") && (*mon = cur_name3(c, month_name, 12)) >= 0 && cur_lit(c, "-") &&
	      cur_digits(c, 2, y) && cur_lit(c, " ") && cur_time(c, t) && cur_lit(c, " GMT")))
		return false;
	*y += *y < 70 ? 2000 : 1900;
	return true;
}

static bool date_asctime(struct date_cur *c, int64_t *y, int *mon, int64_t *d, int64_t *t)
{
	if (!(cur_name3(c, wkday_short, 7) >= 0 && cur_lit(c, " ") &&
	      (*mon = cur_name3(c, month_name, 12)) >= 0 && cur_lit(c, " ")))
		return false;
	/* day = 2DIGIT / ( SP DIGIT ) */
	if (!(cur_lit(c, " ") ? cur_digits(c, 1, d) : cur_digits(c, 2, d)))
		return false;
	return cur_lit(c, " ") && cur_time(c, t) && cur_lit(c, " ") && cur_digits(c, 4, y);
}

int64_t http_date_parse(struct slice s)
{
	int64_t y = 0, d = 0, t = 0;
	int mon = -1;
	bool ok = false;

	s = cache_trim_ows(s);
	/* The three formats differ by the fourth byte (",", a letter of a
	 * long weekday name, or " "), so it picks the only one that can
	 * match. */
	struct date_cur c = { s.ptr, s.len };
	if (s.len > 3 && s.ptr[3] == ',')
		ok = date_imf(&c, &y, &mon, &d, &t);
	else if (s.len > 3 && s.ptr[3] == ' ')
		ok = date_asctime(&c, &y, &mon, &d, &t);
	else
		ok = date_rfc850(&c, &y, &mon, &d, &t);
	ok = ok && c.left == 0;
	if (!ok || mon < 0 || d < 1 || d > days_in_month(y, mon + 1))
		return -1;
	int64_t secs = days_from_civil(y, mon + 1, (int)d) * 86400 + t;
	/* A date before the epoch is valid but has no value apart from -1
	 * ("invalid") to take; the epoch itself is as far in the past. */
	return secs < 0 ? 0 : secs;
}

/* n as exactly width decimal digits (n fits: the callers bound it). */
static char *put_digits(char *p, int n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + n % 10);
		n /= 10;
	}
	return p + width;
}

static char *put_text(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

char *http_date_format(int64_t t, char *out)
{
	int64_t y;
	int m, d;
	char *p = out;

	if (t < 0)
		t = 0;
	if (t > HTTP_DATE_MAX)
		t = HTTP_DATE_MAX;
	int64_t days = t / 86400;
	int sod = (int)(t % 86400);
	civil_from_days(days, &y, &m, &d);
	/* 1970-01-01 was a Thursday. */
	p = put_text(p, wkday_short[(days + 4) % 7]);
	p = put_text(p, ", ");
	p = put_digits(p, d, 2);
	*p++ = ' ';
	p = put_text(p, month_name[m - 1]);
	*p++ = ' ';
	p = put_digits(p, (int)y, 4);
	*p++ = ' ';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	p = put_text(p, " GMT");
	*p = '\0';
	return out;
}
