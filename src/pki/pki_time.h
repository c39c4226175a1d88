/*
 * pki_time: the times of the pki tool — parsing --start WHEN, converting
 * between calendar dates (always UTC) and time_t without the process time
 * zone, and the YYYY-MM-DDTHH:MM:SSZ form printed by `pki inspect`.
 */
#ifndef PULLGATE_PKI_PKI_TIME_H
#define PULLGATE_PKI_PKI_TIME_H

#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>

/* Length of "YYYY-MM-DDTHH:MM:SSZ" plus the NUL. */
#define PKI_TIME_STR_LEN 21

/* Parses WHEN relative to now: "now", "+10d", "-30d", "-2h", "+90m", "-45s",
 * "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ". Returns 0, or -1
 * when the text is not one of those forms or is out of range. */
int pki_time_parse_when(const char *when, time_t now, time_t *out);

/* Seconds since the epoch of a UTC calendar time; fields must be in range. */
int64_t pki_time_from_civil(int year, int month, int day, int hour, int min,
			    int sec);

/* Whole days from now until t, rounded down (negative once t has passed). */
long pki_time_days_left(time_t t, time_t now);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void pki_time_format(time_t t, char out[PKI_TIME_STR_LEN]);

/* Converts an ASN1_TIME (UTCTime or GeneralizedTime); returns 0 or -1. */
int pki_time_from_asn1(const ASN1_TIME *at, time_t *out);

#endif
