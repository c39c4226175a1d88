-- wrk script shared by the scenarios that need more than a fixed request.
--
-- BENCH_UNIQUE_QUERY (a run id, empty for none): every request gets its own
-- query string (?pull=RUN-N), so it is a new cache key on every edge and an
-- origin pull however the edge caches (nothing is shared with another run).
-- BENCH_LAT_DELAY_MS (0 for none): each connection waits about this long
-- before its next request (see below), so the rate stays fixed and moderate
-- (connections x 1000 / (delay + latency) per second) instead of saturating
-- the server.
-- wrk only takes its slower, per-request path when a function is defined, so
-- each is defined only when asked for.
local run = os.getenv("BENCH_UNIQUE_QUERY") or ""
local delay_ms = tonumber(os.getenv("BENCH_LAT_DELAY_MS") or "0") or 0

if run ~= "" then
	local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
	local base = wrk.path .. sep .. "pull=" .. run .. "-"
	local n = 0
	function request()
		n = n + 1
		return wrk.format(nil, base .. n)
	end
end

-- The pause is drawn anew each time, uniformly from half to one and a half
-- times delay_ms, so that the mean, and so the rate, stays the same. With a
-- fixed pause, the connections that wrk opens together stay in step for the
-- whole run: their requests reach the server, and the origin behind it, in
-- bursts, and the percentiles measure the queue of each burst more than the
-- server; the faster a server answers, the longer they stay in step.
if delay_ms > 0 then
	local low = math.floor(delay_ms / 2)
	local high = delay_ms + math.floor(delay_ms / 2)
	math.randomseed(os.time())
	function delay()
		return math.random(low, high)
	end
end
