"""Edge cache: purging through the admin listener (by URL, by host, all;
each answers "purged N" and the next request is a miss), the cache's
/metrics counters, responses larger than max_object (streamed whole, not
stored), and a large response that streams to its first visitor while it
fills the cache."""
import hashlib
import time

import pytest

from lib import waiting
from lib.cache_edge import cache_zone, describe, is_hit, now, start_cache_edge, wait_age
from lib.cache_origin import CacheOrigin, Script

WWW = "www.purge.test"
API = "api.purge.test"
MAX_OBJECT = 256 * 1024


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki,
                            [cache_zone("purge.test", edge_pki, corigin, hosts=("www", "api"))],
                            cache={"max_object": "256k", "size": "64m"})


def cached(cedge, corigin, host, path, body=None):
    corigin.script(path, headers=[("Cache-Control", "max-age=300")], body=body)
    cedge.get(host, path)
    r = cedge.get(host, path)
    assert is_hit(r), describe(r)
    return r


def stored(cedge, host, path):
    r = cedge.get(host, path, headers=[("Cache-Control", "only-if-cached")])
    return r.status == 200


def test_purge_by_url(cedge, corigin):
    cached(cedge, corigin, WWW, "/pa")
    cached(cedge, corigin, WWW, "/pb")
    cached(cedge, corigin, API, "/pa")
    assert cedge.purge("url=https://%s/pa" % WWW) == 1
    r = cedge.get(WWW, "/pa")
    assert not is_hit(r) and r.cs.get("fwd") == "uri-miss", describe(r)
    assert corigin.count("/pa") == 3
    assert stored(cedge, WWW, "/pb") and stored(cedge, API, "/pa")
    # The host of the URL in any case, with a port: the same entry.
    assert cedge.purge("url=https://WWW.Purge.Test:443/pa") == 1
    assert not stored(cedge, WWW, "/pa")
    # Nothing stored there: purged 0.
    assert cedge.purge("url=https://%s/never" % WWW) == 0


def test_purge_by_url_with_query(cedge, corigin):
    cached(cedge, corigin, WWW, "/pq?x=1&y=2")
    assert cedge.purge("url=https%%3A%%2F%%2F%s%%2Fpq%%3Fx%%3D1%%26y%%3D2" % WWW) == 1
    assert not stored(cedge, WWW, "/pq?x=1&y=2")


def test_purge_by_host(cedge, corigin):
    cedge.purge("host=" + WWW)          # what earlier tests left there
    cached(cedge, corigin, WWW, "/ph1")
    cached(cedge, corigin, WWW, "/ph2")
    cached(cedge, corigin, API, "/ph1")
    assert cedge.purge("host=" + WWW) == 2
    assert not stored(cedge, WWW, "/ph1") and not stored(cedge, WWW, "/ph2")
    assert stored(cedge, API, "/ph1")
    n = corigin.count("/ph1")
    r = cedge.get(WWW, "/ph1")
    assert not is_hit(r) and corigin.count("/ph1") == n + 1, describe(r)
    assert cedge.purge("host=WWW.PURGE.TEST") == 1
    assert cedge.purge("host=nothing.purge.test") == 0


def test_purge_all(cedge, corigin):
    cached(cedge, corigin, WWW, "/pall")
    cached(cedge, corigin, API, "/pall")
    objects = cedge.metrics()["pullgate_cache_objects"]
    assert objects >= 2
    assert cedge.purge("all") == objects
    assert cedge.metrics()["pullgate_cache_objects"] == 0
    assert cedge.metrics()["pullgate_cache_bytes"] == 0
    assert not stored(cedge, WWW, "/pall") and not stored(cedge, API, "/pall")


def test_bad_purge_requests(cedge):
    assert cedge.admin("POST", "/purge?what=ever")[0] == 400
    assert cedge.admin("POST", "/purge?url=")[0] == 400
    assert cedge.admin("GET", "/purge?all")[0] != 200


def test_metrics_move(cedge, corigin):
    body = b"m" * 1000
    corigin.script("/metered", headers=[("Cache-Control", "max-age=300")], body=body)
    m0 = cedge.metrics()
    assert m0["pullgate_cache_max_bytes"] == 64 * 1024 * 1024
    cedge.get(WWW, "/metered")          # miss, stored

    def delta(name, m):
        return m[name] - m0[name]

    m1 = waiting.wait_for(lambda: (lambda m: m if delta("pullgate_cache_stored_total", m) == 1
                                   else None)(cedge.metrics()), 5, "stored_total + 1")
    assert delta("pullgate_cache_misses_total", m1) == 1
    assert delta("pullgate_cache_hits_total", m1) == 0
    assert delta("pullgate_cache_objects", m1) == 1
    assert delta("pullgate_cache_bytes", m1) >= len(body)
    for _ in range(3):
        assert is_hit(cedge.get(WWW, "/metered"))
    m2 = cedge.metrics()
    assert delta("pullgate_cache_hits_total", m2) == 3
    assert delta("pullgate_cache_misses_total", m2) == 1
    assert delta("pullgate_cache_served_bytes_total", m2) == 3 * len(body)
    assert cedge.purge("url=https://%s/metered" % WWW) == 1
    m3 = cedge.metrics()
    assert delta("pullgate_cache_purged_total", m3) == 1
    assert delta("pullgate_cache_objects", m3) == 0
    assert corigin.count("/metered") == 1


def test_metrics_revalidated_and_stale(cedge, corigin):
    t_req = now()
    corigin.script("/metered-stale", headers=[("Cache-Control", "max-age=1")], etag='"ms"')
    cedge.get(WWW, "/metered-stale")
    wait_age(t_req, 1)
    m0 = cedge.metrics()
    cedge.get(WWW, "/metered-stale", headers=[("Cache-Control", "max-stale=60")])
    m1 = cedge.metrics()
    # A stale response taken by max-stale is a hit; a 304 is a revalidation.
    assert m1["pullgate_cache_hits_total"] - m0["pullgate_cache_hits_total"] == 1
    cedge.get(WWW, "/metered-stale")
    m2 = cedge.metrics()
    assert m2["pullgate_cache_revalidated_total"] - m1["pullgate_cache_revalidated_total"] == 1
    assert corigin.count("/metered-stale") == 2


def test_larger_than_max_object_streams_whole_not_stored(cedge, corigin):
    body = bytes(range(256)) * (4 * MAX_OBJECT // 256)     # 1 MiB
    corigin.script("/big", headers=[("Cache-Control", "max-age=300")], body=body)
    for i in range(1, 3):
        r = cedge.get(WWW, "/big")
        assert r.status == 200 and r.body == body, describe(r)
        assert not is_hit(r) and not r.cs.get("stored"), describe(r)
        assert r.cs.get("detail") == "too-large", describe(r)
        assert corigin.count("/big") == i


def test_larger_than_max_object_chunked_not_stored(cedge, corigin):
    """Without Content-Length the size shows only while it streams: the copy
    is dropped, the visitor still gets every byte."""
    body = bytes(range(256)) * (2 * MAX_OBJECT // 256)
    corigin.script("/big-chunked", headers=[("Cache-Control", "max-age=300")], body=body,
                   chunked=True, trickle=(32 * 1024, 0))
    for i in range(1, 3):
        r = cedge.get(WWW, "/big-chunked")
        assert r.status == 200 and r.body == body, describe(r)
        assert not is_hit(r), describe(r)
        assert corigin.count("/big-chunked") == i


def test_small_chunked_is_stored(cedge, corigin):
    corigin.script("/small-chunked", headers=[("Cache-Control", "max-age=300")], body=b"x" * 5000,
                   chunked=True, trickle=(1000, 0))
    r1 = cedge.get(WWW, "/small-chunked")
    assert r1.body == b"x" * 5000, describe(r1)
    r2 = cedge.get(WWW, "/small-chunked")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert r2.header("Content-Length") == "5000"
    assert corigin.count("/small-chunked") == 1


def test_large_response_streams_while_it_fills(module_edges, edge_pki):
    """2 MiB trickled by the origin over about 1.6 s: the first visitor
    receives its first bytes long before the origin has finished, gets all
    of it, and the second visitor is a hit with the same bytes."""
    o = CacheOrigin()
    try:
        e = start_cache_edge(module_edges, edge_pki, [cache_zone("stream.test", edge_pki, o)],
                             cache={"max_object": "4m"}, name="cache-edge-stream")
        body = hashlib.sha256(b"seed").digest() * (2 * 1024 * 1024 // 32)
        o.script("/large", headers=[("Cache-Control", "max-age=300")], body=body,
                 trickle=(64 * 1024, 0.05))
        first = []
        got = []

        def sink(data):
            if not first:
                first.append(time.monotonic())
            got.append(data)
        t0 = time.monotonic()
        with e.connect("www.stream.test") as c:
            c.send(b"GET /large HTTP/1.1\r\nHost: www.stream.test\r\nConnection: close\r\n\r\n")
            r = c.read_response(sink=sink, timeout=30)
        t_end = time.monotonic()
        assert r.status == 200 and b"".join(got) == body, (r.status, r.body_len)
        assert first[0] - t0 < 0.8 * (t_end - t0), \
            "the first byte came %.2fs after the request; the whole at %.2fs" % (
                first[0] - t0, t_end - t0)
        assert "stored" in r.header("Cache-Status"), r.header("Cache-Status")
        r2 = e.get("www.stream.test", "/large")
        assert is_hit(r2) and r2.body == body, describe(r2)
        assert o.count("/large") == 1
    finally:
        o.stop()


def test_purge_by_url_removes_every_variant(cedge, corigin):
    def by_language(req):
        lang = req.header("accept-language")
        return Script(headers=[("Cache-Control", "max-age=300"), ("Vary", "Accept-Language")],
                      body=("%s #%d" % (lang, req.n)).encode())
    corigin.script("/pvary", by_language)
    en, fr = [("Accept-Language", "en")], [("Accept-Language", "fr")]
    assert cedge.get(WWW, "/pvary", headers=en).body == b"en #1"
    assert cedge.get(WWW, "/pvary", headers=fr).body == b"fr #2"
    assert is_hit(cedge.get(WWW, "/pvary", headers=en))
    assert cedge.purge("url=https://%s/pvary" % WWW) >= 2
    r = cedge.get(WWW, "/pvary", headers=fr)
    assert not is_hit(r) and r.body == b"fr #3", describe(r)
    r = cedge.get(WWW, "/pvary", headers=en)
    assert not is_hit(r) and r.body == b"en #4", describe(r)


def test_eviction_keeps_the_cache_within_its_size_and_popular_objects(module_edges, edge_pki):
    """A 1 MiB cache and a scan of one-time URLs three times its size:
    objects are evicted, the bytes held stay within the size, and an
    object used again before the scan (S3-FIFO's main queue) survives it."""
    o = CacheOrigin()
    try:
        e = start_cache_edge(module_edges, edge_pki, [cache_zone("evict.test", edge_pki, o)],
                             cache={"size": "1m", "max_object": "64k"}, name="cache-edge-evict")
        host = "www.evict.test"
        piece = b"p" * (20 * 1024)
        o.script("/popular", headers=[("Cache-Control", "max-age=300")], body=piece)
        for _ in range(3):
            e.get(host, "/popular")
        assert o.count("/popular") == 1
        for i in range(160):
            o.script("/scan-%d" % i, headers=[("Cache-Control", "max-age=300")], body=piece)
            e.get(host, "/scan-%d" % i)
        m = e.metrics()
        assert m["pullgate_cache_evictions_total"] > 0, m
        assert m["pullgate_cache_bytes"] <= m["pullgate_cache_max_bytes"] == 1024 * 1024, m
        r = e.get(host, "/popular")
        assert is_hit(r), describe(r)
        assert o.count("/popular") == 1
    finally:
        o.stop()
