/*
 * pki_time: WHEN parsing and UTC calendar arithmetic. The conversions are
 * done here rather than with mktime so that the process time zone can never
 * shift a certificate's validity.
 */
#include "pki/pki_time.h"

#include <stdbool.h>
#include <string.h>

/* Relative offsets are bounded so that now + offset + days cannot overflow
 * and stays within what X.509 times can express. */
#define PKI_TIME_MAX_OFFSET ((int64_t)200 * 366 * 86400)

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t pki_time_from_civil(int year, int month, int day, int hour, int min,
			    int sec)
{
	return days_from_civil(year, month, day) * 86400 + hour * 3600 +
	       min * 60 + sec;
}

/* Reads exactly n digits at s; returns -1 if any is not a digit. */
static int read_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_absolute(const char *s, time_t *out)
{
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (len != 10 && len != 20)
		return -1;
	if (s[4] != '-' || s[7] != '-')
		return -1;
	y = read_digits(s, 4);
	mo = read_digits(s + 5, 2);
	d = read_digits(s + 8, 2);
	if (len == 20) {
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
			return -1;
		h = read_digits(s + 11, 2);
		mi = read_digits(s + 14, 2);
		sec = read_digits(s + 17, 2);
	}
	if (y < 1950 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return -1;
	if (d > days_in_month(y, mo))
		return -1;
	*out = (time_t)pki_time_from_civil(y, mo, d, h, mi, sec);
	return 0;
}

static int parse_relative(const char *s, time_t now, time_t *out)
{
	int sign = s[0] == '-' ? -1 : 1;
	int64_t n = 0, unit;
	const char *p = s + 1;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > PKI_TIME_MAX_OFFSET)
			return -1;
	}
	switch (*p) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (p[1] != '\0' || n * unit > PKI_TIME_MAX_OFFSET)
		return -1;
	*out = now + (time_t)(sign * n * unit);
	return 0;
}

int pki_time_parse_when(const char *when, time_t now, time_t *out)
{
	if (!when || !*when)
		return -1;
	if (strcmp(when, "now") == 0) {
		*out = now;
		return 0;
	}
	if (when[0] == '+' || when[0] == '-')
		return parse_relative(when, now, out);
	return parse_absolute(when, out);
}

long pki_time_days_left(time_t t, time_t now)
{
	int64_t diff = (int64_t)t - (int64_t)now;
	int64_t days = diff / 86400;

	/* C division truncates toward zero; round toward minus infinity. */
	if (diff % 86400 != 0 && diff < 0)
		days--;
	return (long)days;
}

void pki_time_format(time_t t, char out[PKI_TIME_STR_LEN])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, PKI_TIME_STR_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(out, "invalid");
}

int pki_time_from_asn1(const ASN1_TIME *at, time_t *out)
{
	struct tm tm;

	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	*out = (time_t)pki_time_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
					   tm.tm_mday, tm.tm_hour, tm.tm_min,
					   tm.tm_sec);
	return 0;
}
