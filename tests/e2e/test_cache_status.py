"""Edge cache: what each response says about the cache (RFC 9211
Cache-Status with the configured cache name; CF-Cache-Status with
cf_cache_status: true), and Age on every response from the cache."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, now, start_cache_edge, wait_age
from lib.cache_origin import CacheOrigin

HOST = "www.status.test"
CF_VALUES = {"HIT", "MISS", "EXPIRED", "STALE", "REVALIDATED", "BYPASS", "DYNAMIC"}


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki, [cache_zone("status.test", edge_pki, corigin)],
                            cache={"cf_cache_status": True, "name": "edge-7"})


def cf(r):
    return r.header("CF-Cache-Status")


def test_miss_then_hit(cedge, corigin):
    corigin.script("/s-hit", headers=[("Cache-Control", "max-age=60")])
    r = cedge.get(HOST, "/s-hit")
    assert r.cs["name"] == "edge-7", describe(r)
    assert r.cs["fwd"] == "uri-miss" and r.cs["fwd-status"] == 200, describe(r)
    assert r.cs.get("stored") and r.cs["ttl"] == 60, describe(r)
    assert cf(r) == "MISS", describe(r)
    assert len(r.header_all("Cache-Status")) == 1
    r = cedge.get(HOST, "/s-hit")
    assert r.header("Cache-Status") == "edge-7; hit; ttl=%d" % (60 - int(r.header("Age"))), \
        describe(r)
    assert cf(r) == "HIT"


def test_stale_served(cedge, corigin):
    t_req = now()
    corigin.script("/s-stale", headers=[("Cache-Control", "max-age=1")], etag='"st"')
    cedge.get(HOST, "/s-stale")
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/s-stale", headers=[("Cache-Control", "max-stale=60")])
    assert is_hit(r) and r.cs["ttl"] <= 0 and cf(r) == "STALE", describe(r)


def test_revalidated(cedge, corigin):
    t_req = now()
    corigin.script("/s-reval", headers=[("Cache-Control", "max-age=1")], etag='"rv"')
    cedge.get(HOST, "/s-reval")
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/s-reval")
    assert corigin.count("/s-reval") == 2
    assert cf(r) == "REVALIDATED", describe(r)
    assert r.header("Age") is not None, describe(r)


def test_expired_and_replaced(cedge, corigin):
    t_req = now()
    corigin.script("/s-expired", headers=[("Cache-Control", "max-age=1")], etag='"e1"')
    cedge.get(HOST, "/s-expired")
    wait_age(t_req, 1)
    corigin.script("/s-expired", headers=[("Cache-Control", "max-age=60")], etag='"e2"')
    r = cedge.get(HOST, "/s-expired")
    assert r.cs.get("fwd") == "stale" and r.cs.get("fwd-status") == 200, describe(r)
    assert r.cs.get("stored") and cf(r) == "EXPIRED", describe(r)


def test_not_storable(cedge, corigin):
    corigin.script("/s-private", headers=[("Cache-Control", "private")])
    r = cedge.get(HOST, "/s-private")
    assert r.cs["fwd"] == "uri-miss" and r.cs["fwd-status"] == 200, describe(r)
    assert r.cs.get("detail") == "private" and "ttl" not in r.cs, describe(r)
    assert cf(r) in CF_VALUES - {"HIT", "STALE", "REVALIDATED"}, describe(r)


def test_unsafe_method(cedge, corigin):
    corigin.script("/s-post", status=201)
    r = cedge.get(HOST, "/s-post", method="POST", body=b"x")
    assert r.status == 201, describe(r)
    assert r.cs["fwd"] == "method" and r.cs["fwd-status"] == 201, describe(r)
    assert cf(r) in CF_VALUES, describe(r)


def test_only_if_cached_504_says_so(cedge, corigin):
    r = cedge.get(HOST, "/s-none", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504 and r.cs is not None and r.cs["name"] == "edge-7", describe(r)
    assert corigin.count("/s-none") == 0


def test_origin_failure_says_so(module_edges, edge_pki):
    """An origin that refuses: the 502 of a cached zone carries
    Cache-Status too ("every response of a zone with the cache on")."""
    o = CacheOrigin()
    e = start_cache_edge(module_edges, edge_pki, [cache_zone("down.test", edge_pki, o)],
                         name="cache-edge-down")
    o.stop()
    r = e.get("www.down.test", "/x")
    assert r.status == 502, describe(r)
    assert r.cs is not None and r.cs["name"] == "pullgate" and r.cs.get("fwd") == "uri-miss", \
        describe(r)
