-- wrk script for the latency scenario: each connection waits this long before
-- its next request, so the rate stays fixed and moderate (connections x
-- 1000 / (delay + latency) per second) instead of saturating the server.
local delay_ms = tonumber(os.getenv("BENCH_LAT_DELAY_MS") or "10")
function delay()
	return delay_ms
end
