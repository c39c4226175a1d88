/*
 * cache_freshness: how long a stored response is fresh (RFC 9111 4.2.1,
 * 4.2.2), how old it is (4.2.3), and what a shared cache may do with it
 * when a request comes (4.2, 4.2.4, 5.2.1, RFC 5861). All times are seconds;
 * callers pass the clock in.
 */
#include "cache/cache_policy.h"
#include "cache/cache_policy_int.h"

#define CACHE_HEURISTIC_MAX 86400 /* one day: a heuristic lifetime never exceeds it */

int64_t cache_freshness_lifetime(const struct cache_response_info *resp, int64_t response_time,
				 bool *heuristic)
{
	const struct cache_control *cc = &resp->cc;
	/* A response without Date is dated when it arrived (RFC 9110 6.6.1). */
	int64_t date = resp->date >= 0 ? resp->date : response_time;

	if (heuristic)
		*heuristic = false;
	if (cc->has_s_maxage)
		return cc->s_maxage;
	if (cc->has_max_age)
		return cc->max_age;
	if (resp->expires >= 0)
		return resp->expires > date ? resp->expires - date : 0;
	/* RFC 9111 4.2.2: a fraction of the time since the last change, the
	 * rule of thumb the RFC names, for statuses that allow it. */
	if ((cache_status_heuristic(resp->status) || cc->public_) && resp->last_modified >= 0 &&
	    resp->last_modified < date) {
		int64_t lifetime = (date - resp->last_modified) / 10;
		if (heuristic)
			*heuristic = true;
		return lifetime > CACHE_HEURISTIC_MAX ? CACHE_HEURISTIC_MAX : lifetime;
	}
	return 0;
}

/* RFC 9111 4.2.3, in its own words:
 *   apparent_age = max(0, response_time - date_value);
 *   response_delay = response_time - request_time;
 *   corrected_age_value = age_value + response_delay;
 *   corrected_initial_age = max(apparent_age, corrected_age_value);
 * Without Date the apparent age is 0: the response was dated on arrival. */
int64_t cache_initial_age(const struct cache_response_info *resp, int64_t request_time,
			  int64_t response_time)
{
	int64_t apparent_age = 0;

	if (resp->date >= 0 && response_time > resp->date)
		apparent_age = response_time - resp->date;
	int64_t response_delay = response_time - request_time;
	int64_t corrected_age_value = resp->age + response_delay;
	return apparent_age > corrected_age_value ? apparent_age : corrected_age_value;
}

/* resident_time = now - response_time; a clock that stepped back does not
 * make a response younger than when it arrived. */
int64_t cache_current_age(int64_t initial_age, int64_t response_time, int64_t now)
{
	int64_t resident_time = now > response_time ? now - response_time : 0;

	return initial_age + resident_time;
}

/* must-revalidate, proxy-revalidate and s-maxage (which implies
 * proxy-revalidate, RFC 9111 5.2.2.10) forbid a shared cache to serve the
 * response stale, whatever the request or stale-* directives say. */
static bool never_stale(const struct cache_control *cc)
{
	return cc->must_revalidate || cc->proxy_revalidate || cc->has_s_maxage;
}

enum cache_use cache_decide(const struct cache_control *req_cc, const struct cache_stored *st)
{
	static const struct cache_control none;
	const struct cache_control *req = req_cc ? req_cc : &none;
	const struct cache_control *cc = st->cc ? st->cc : &none;

	if (cc->no_cache || req->no_cache)
		return CACHE_USE_REVALIDATE;
	if (req->has_max_age && st->age > req->max_age)
		return CACHE_USE_REVALIDATE;
	if (req->has_min_fresh && st->lifetime - st->age < req->min_fresh)
		return CACHE_USE_REVALIDATE;
	if (st->age < st->lifetime)
		return CACHE_USE_FRESH;

	int64_t staleness = st->age - st->lifetime;
	if (never_stale(cc))
		return CACHE_USE_REVALIDATE;
	if (req->has_max_stale && (req->max_stale_any || staleness <= req->max_stale))
		return CACHE_USE_STALE_OK;
	if (cc->has_stale_while_revalidate && staleness <= cc->stale_while_revalidate)
		return CACHE_USE_STALE_REVALIDATE_BG;
	return CACHE_USE_REVALIDATE;
}

/* Called when the origin could not be reached or answered 500, 502, 503 or
 * 504. A fresh response may always answer (unless no-cache demands a
 * successful validation first); a stale one within the stale-if-error
 * window of the response or of the request (RFC 5861 4 defines both). */
bool cache_stale_if_error_ok(const struct cache_control *req_cc, const struct cache_stored *st)
{
	static const struct cache_control none;
	const struct cache_control *req = req_cc ? req_cc : &none;
	const struct cache_control *cc = st->cc ? st->cc : &none;

	if (cc->no_cache)
		return false;
	if (st->age < st->lifetime)
		return true;
	if (never_stale(cc))
		return false;

	int64_t staleness = st->age - st->lifetime;
	if (cc->has_stale_if_error && staleness <= cc->stale_if_error)
		return true;
	return req->has_stale_if_error && staleness <= req->stale_if_error;
}
