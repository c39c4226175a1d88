"""Edge cache: serving stale responses (RFC 5861). Within
stale-while-revalidate the stale response is served at once and one
background pull refreshes it; within stale-if-error it is served when the
origin is down or answers 5xx; past the window, or without the directive,
the visitor sees the failure (502 for an origin that refuses)."""
import time

import pytest

from lib import waiting
from lib.cache_edge import (cache_zone, describe, is_hit, now, start_cache_edge, wait_age)
from lib.cache_origin import CacheOrigin

HOST = "www.stale.test"


@pytest.fixture
def corigin():
    """An origin per test: some tests take it down."""
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture
def cedge(edges, edge_pki, corigin):
    return start_cache_edge(edges, edge_pki, [cache_zone("stale.test", edge_pki, corigin)])


def swr_stale(cedge, corigin, path):
    """Stores path (max-age=1, stale-while-revalidate=30, body "old"), waits
    until it is stale, and scripts a slow refresh bringing "new". The
    number of responses stored so far."""
    t_req = now()
    corigin.script(path, headers=[("Cache-Control", "max-age=1, stale-while-revalidate=30")],
                   etag='"w1"', body=b"old")
    r1 = cedge.get(HOST, path)
    assert r1.cs.get("stored"), describe(r1)
    wait_age(t_req, 1)
    corigin.script(path, headers=[("Cache-Control", "max-age=60")], etag='"w2"', body=b"new",
                   delay=1.0)
    return stored_total(cedge)


def stored_total(cedge):
    return cedge.metrics()["pullgate_cache_stored_total"]


def wait_refreshed(cedge, corigin, path, stored_before):
    """Waits for the refresh to store "new" (seen in /metrics, without a
    request for path), then checks that it is served."""
    waiting.wait_for(lambda: corigin.count(path) == 2, 5, "the background refresh")
    assert corigin.last(path).header("If-None-Match") == '"w1"'
    waiting.wait_for(lambda: stored_total(cedge) > stored_before, 10,
                     "the refresh to store its response")
    r = cedge.get(HOST, path)
    assert r.body == b"new" and is_hit(r) and r.cs["ttl"] >= 55, describe(r)
    assert corigin.count(path) == 2


def test_stale_while_revalidate_serves_at_once_and_refreshes_once(cedge, corigin):
    stored = swr_stale(cedge, corigin, "/swr")
    r = cedge.get(HOST, "/swr")
    assert r.status == 200 and r.body == b"old", describe(r)
    assert is_hit(r) and r.cs["ttl"] <= 0, describe(r)
    assert r.elapsed < 0.9, "the stale answer waited for the origin: %.2fs" % r.elapsed
    wait_refreshed(cedge, corigin, "/swr", stored)


def test_stale_while_revalidate_more_visitors_during_the_refresh(cedge, corigin):
    """Visitors arriving while the refresh runs are served stale too, and
    do not start a second refresh."""
    stored = swr_stale(cedge, corigin, "/swr-busy")
    for i in range(3):
        r = cedge.get(HOST, "/swr-busy")
        assert r.status == 200 and r.body == b"old", describe(r)
        assert r.elapsed < 0.9, "the stale answer waited for the origin: %.2fs" % r.elapsed
    assert corigin.count("/swr-busy") <= 2
    wait_refreshed(cedge, corigin, "/swr-busy", stored)


def test_stale_while_revalidate_304_refreshes_headers(cedge, corigin):
    t_req = now()
    corigin.script("/swr304", headers=[("Cache-Control", "max-age=1, stale-while-revalidate=30")],
                   etag='"x1"', body=b"kept")
    cedge.get(HOST, "/swr304")
    wait_age(t_req, 1)
    corigin.script("/swr304", headers=[("Cache-Control", "max-age=60"), ("X-Refreshed", "yes")],
                   etag='"x1"', body=b"not sent")
    before = cedge.metrics()["pullgate_cache_revalidated_total"]
    r = cedge.get(HOST, "/swr304")
    assert r.body == b"kept" and r.header("X-Refreshed") is None, describe(r)
    waiting.wait_for(lambda: corigin.count("/swr304") == 2, 5, "the background refresh")
    assert corigin.last("/swr304").header("If-None-Match") == '"x1"'
    waiting.wait_for(lambda: cedge.metrics()["pullgate_cache_revalidated_total"] > before, 5,
                     "the refresh to apply the 304")
    r = cedge.get(HOST, "/swr304")
    assert r.header("X-Refreshed") == "yes", describe(r)
    assert r.body == b"kept" and is_hit(r) and r.cs["ttl"] >= 55, describe(r)
    assert corigin.count("/swr304") == 2


def test_stale_while_revalidate_window_passed(cedge, corigin):
    t_req = now()
    corigin.script("/swr-late", headers=[("Cache-Control", "max-age=1, stale-while-revalidate=1")],
                   body=b"old")
    cedge.get(HOST, "/swr-late")
    wait_age(t_req, 3)      # 2 s stale: past the 1 s window
    corigin.script("/swr-late", headers=[("Cache-Control", "max-age=60")], body=b"new")
    r = cedge.get(HOST, "/swr-late")
    assert r.body == b"new" and not is_hit(r), describe(r)
    assert corigin.count("/swr-late") == 2


def test_stale_if_error_origin_down(cedge, corigin):
    t_req = now()
    corigin.script("/sie", headers=[("Cache-Control", "max-age=1, stale-if-error=60")],
                   body=b"saved")
    corigin.script("/plain", headers=[("Cache-Control", "max-age=1")], body=b"plain")
    cedge.get(HOST, "/sie")
    cedge.get(HOST, "/plain")
    wait_age(t_req, 1)
    corigin.down()
    mark = cedge.mark()
    r = cedge.get(HOST, "/sie")
    assert r.status == 200 and r.body == b"saved", describe(r)
    assert r.cs.get("detail") == "stale-if-error" and r.cs["ttl"] <= 0, describe(r)
    # Without the directive: the failure.
    r = cedge.get(HOST, "/plain")
    assert r.status == 502, describe(r)
    assert cedge.edge.upstream_lines(mark), cedge.log(mark)


def test_stale_if_error_origin_5xx(cedge, corigin):
    t_req = now()
    corigin.script("/sie5", headers=[("Cache-Control", "max-age=1, stale-if-error=60")],
                   body=b"saved")
    corigin.script("/plain5", headers=[("Cache-Control", "max-age=1")], body=b"plain")
    cedge.get(HOST, "/sie5")
    cedge.get(HOST, "/plain5")
    wait_age(t_req, 1)
    for status in (500, 503):
        corigin.error(status)
        r = cedge.get(HOST, "/sie5")
        assert r.status == 200 and r.body == b"saved", describe(r)
        assert r.cs.get("detail") == "stale-if-error", describe(r)
        r = cedge.get(HOST, "/plain5")
        assert r.status == status, describe(r)
    assert corigin.count("/sie5") == 3
    corigin.error(None)
    r = cedge.get(HOST, "/sie5")
    assert r.status == 200 and r.cs.get("stored"), describe(r)
    assert corigin.count("/sie5") == 4


def test_stale_if_error_window_passed(cedge, corigin):
    t_req = now()
    corigin.script("/sie-late", headers=[("Cache-Control", "max-age=1, stale-if-error=1")],
                   body=b"saved")
    cedge.get(HOST, "/sie-late")
    wait_age(t_req, 3)      # 2 s stale: past the 1 s window
    corigin.down()
    r = cedge.get(HOST, "/sie-late")
    assert r.status == 502, describe(r)


def test_stale_if_error_from_the_request(cedge, corigin):
    """RFC 5861 4: the visitor may ask for stale-if-error itself."""
    t_req = now()
    corigin.script("/sie-req", headers=[("Cache-Control", "max-age=1")], body=b"saved")
    cedge.get(HOST, "/sie-req")
    wait_age(t_req, 1)
    corigin.down()
    r = cedge.get(HOST, "/sie-req", headers=[("Cache-Control", "stale-if-error=60")])
    assert r.status == 200 and r.body == b"saved", describe(r)


@pytest.mark.parametrize("cc", ["max-age=1, must-revalidate", "max-age=1, proxy-revalidate",
                                "s-maxage=1"])
def test_revalidate_directives_not_served_stale_on_error(cedge, corigin, cc):
    """must-revalidate, proxy-revalidate and s-maxage forbid serving stale,
    stale-if-error included."""
    t_req = now()
    corigin.script("/sie-mr", headers=[("Cache-Control", cc + ", stale-if-error=60")],
                   body=b"saved")
    cedge.get(HOST, "/sie-mr")
    wait_age(t_req, 1)
    corigin.error(500)
    r = cedge.get(HOST, "/sie-mr")
    assert r.status == 500 and r.body != b"saved", describe(r)
    corigin.down()
    r = cedge.get(HOST, "/sie-mr")
    assert r.status == 502, describe(r)


def test_s_maxage_not_served_stale_while_revalidating(cedge, corigin):
    t_req = now()
    corigin.script("/swr-s", headers=[("Cache-Control", "s-maxage=1, stale-while-revalidate=60")],
                   body=b"old")
    cedge.get(HOST, "/swr-s")
    wait_age(t_req, 1)
    corigin.script("/swr-s", headers=[("Cache-Control", "s-maxage=60")], body=b"new")
    r = cedge.get(HOST, "/swr-s")
    assert r.body == b"new" and not is_hit(r), describe(r)
    assert corigin.count("/swr-s") == 2


def test_origin_back_after_down(cedge, corigin):
    """The origin comes back: pulls resume (the stored response is
    replaced)."""
    t_req = now()
    corigin.script("/back", headers=[("Cache-Control", "max-age=1, stale-if-error=60")])
    cedge.get(HOST, "/back")
    wait_age(t_req, 1)
    corigin.down()
    assert cedge.get(HOST, "/back").status == 200
    corigin.up()
    t0 = time.monotonic()
    r = waiting.wait_for(lambda: (lambda r: r if r.cs.get("stored") else None)(
        cedge.get(HOST, "/back")), 5, "a pull once the origin is back")
    assert r.body.endswith(b"#2"), (describe(r), time.monotonic() - t0)


def test_stale_if_error_origin_timeout(edges, edge_pki, corigin):
    """An origin that does not answer within origin_response is a failure
    too: the stale response is served after the timeout."""
    e = start_cache_edge(edges, edge_pki, [cache_zone("slow.test", edge_pki, corigin)],
                         timeouts={"origin_response": "1s"}, name="cache-edge-timeout")
    t_req = now()
    corigin.script("/sie-slow", headers=[("Cache-Control", "max-age=1, stale-if-error=60")],
                   body=b"saved")
    corigin.script("/plain-slow", headers=[("Cache-Control", "max-age=1")], body=b"plain")
    e.get("www.slow.test", "/sie-slow")
    e.get("www.slow.test", "/plain-slow")
    wait_age(t_req, 1)
    corigin.script("/sie-slow", headers=[("Cache-Control", "max-age=60")], body=b"late", delay=3)
    corigin.script("/plain-slow", headers=[("Cache-Control", "max-age=60")], body=b"late", delay=3)
    r = e.get("www.slow.test", "/sie-slow")
    assert r.status == 200 and r.body == b"saved", describe(r)
    assert r.cs.get("detail") == "stale-if-error" and r.elapsed < 2.5, (describe(r), r.elapsed)
    r = e.get("www.slow.test", "/plain-slow")
    assert r.status == 504, describe(r)
