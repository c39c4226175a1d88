"""Edge cache: what a visitor's Cache-Control asks of a stored response
(RFC 9111 5.2.1): no-cache and Pragma: no-cache force a revalidation,
max-age bounds the age it accepts, min-fresh the freshness it wants left,
max-stale lets it take a stale response, only-if-cached keeps the request
away from the origin (504 when nothing is stored)."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, now, start_cache_edge, wait_age
from lib.cache_origin import CacheOrigin

HOST = "www.req.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki, [cache_zone("req.test", edge_pki, corigin)])


def store(cedge, corigin, path, cc="max-age=60", etag=None):
    """Scripts path, pulls it once into the cache; the first Response."""
    corigin.script(path, headers=[("Cache-Control", cc)], etag=etag)
    r = cedge.get(HOST, path)
    assert r.status == 200 and r.cs.get("stored"), describe(r)
    assert corigin.count(path) == 1
    return r


def test_no_cache_forces_revalidation(cedge, corigin):
    r1 = store(cedge, corigin, "/rq-no-cache", etag='"a1"')
    assert is_hit(cedge.get(HOST, "/rq-no-cache"))
    r = cedge.get(HOST, "/rq-no-cache", headers=[("Cache-Control", "no-cache")])
    assert corigin.count("/rq-no-cache") == 2, describe(r)
    assert corigin.last("/rq-no-cache").header("If-None-Match") == '"a1"'
    assert r.status == 200 and r.body == r1.body, describe(r)
    # The stored response stays and serves the next plain request.
    r = cedge.get(HOST, "/rq-no-cache")
    assert is_hit(r) and r.body == r1.body, describe(r)
    assert corigin.count("/rq-no-cache") == 2


def test_no_cache_without_validator_refetches(cedge, corigin):
    store(cedge, corigin, "/rq-no-cache-plain")
    r = cedge.get(HOST, "/rq-no-cache-plain", headers=[("Cache-Control", "no-cache")])
    assert corigin.count("/rq-no-cache-plain") == 2, describe(r)
    assert corigin.last("/rq-no-cache-plain").header("If-None-Match") is None
    assert r.body.endswith(b"#2"), describe(r)


def test_pragma_no_cache(cedge, corigin):
    store(cedge, corigin, "/rq-pragma", etag='"p1"')
    r = cedge.get(HOST, "/rq-pragma", headers=[("Pragma", "no-cache")])
    assert corigin.count("/rq-pragma") == 2, describe(r)
    assert corigin.last("/rq-pragma").header("If-None-Match") == '"p1"'


def test_pragma_ignored_when_cache_control_present(cedge, corigin):
    """RFC 9111 5.4: Pragma only counts without Cache-Control."""
    store(cedge, corigin, "/rq-pragma-cc")
    r = cedge.get(HOST, "/rq-pragma-cc", headers=[("Pragma", "no-cache"),
                                                   ("Cache-Control", "max-stale=5")])
    assert is_hit(r), describe(r)
    assert corigin.count("/rq-pragma-cc") == 1


def test_max_age_zero_revalidates_an_aged_response(cedge, corigin):
    t_req = now()
    r1 = store(cedge, corigin, "/rq-max-age", etag='"m1"')
    wait_age(t_req, 1)
    # Old enough for max-age=0; young enough for max-age=30.
    r = cedge.get(HOST, "/rq-max-age", headers=[("Cache-Control", "max-age=30")])
    assert is_hit(r), describe(r)
    assert corigin.count("/rq-max-age") == 1
    r = cedge.get(HOST, "/rq-max-age", headers=[("Cache-Control", "max-age=0")])
    assert corigin.count("/rq-max-age") == 2, describe(r)
    assert corigin.last("/rq-max-age").header("If-None-Match") == '"m1"'
    assert r.status == 200 and r.body == r1.body, describe(r)


def test_min_fresh(cedge, corigin):
    r1 = store(cedge, corigin, "/rq-min-fresh", etag='"f1"')
    r = cedge.get(HOST, "/rq-min-fresh", headers=[("Cache-Control", "min-fresh=10")])
    assert is_hit(r), describe(r)
    assert corigin.count("/rq-min-fresh") == 1
    r = cedge.get(HOST, "/rq-min-fresh", headers=[("Cache-Control", "min-fresh=120")])
    assert corigin.count("/rq-min-fresh") == 2, describe(r)
    assert r.body == r1.body, describe(r)


def test_max_stale_serves_stale(cedge, corigin):
    t_req = now()
    r1 = store(cedge, corigin, "/rq-max-stale", cc="max-age=1")
    wait_age(t_req, 2)
    r = cedge.get(HOST, "/rq-max-stale", headers=[("Cache-Control", "max-stale=60")])
    assert is_hit(r) and r.body == r1.body, describe(r)
    assert r.cs["ttl"] < 0 and int(r.header("Age")) >= 2, describe(r)
    # max-stale with no value: any staleness.
    r = cedge.get(HOST, "/rq-max-stale", headers=[("Cache-Control", "max-stale")])
    assert is_hit(r), describe(r)
    assert corigin.count("/rq-max-stale") == 1
    # Staler than the visitor accepts: a pull.
    r = cedge.get(HOST, "/rq-max-stale", headers=[("Cache-Control", "max-stale=0")])
    assert corigin.count("/rq-max-stale") == 2, describe(r)


def test_only_if_cached_not_stored_is_504(cedge, corigin):
    corigin.script("/rq-oic-none", headers=[("Cache-Control", "max-age=60")])
    r = cedge.get(HOST, "/rq-oic-none", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504, describe(r)
    assert corigin.count("/rq-oic-none") == 0


def test_only_if_cached_stored_is_a_hit(cedge, corigin):
    r1 = store(cedge, corigin, "/rq-oic")
    r = cedge.get(HOST, "/rq-oic", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 200 and is_hit(r) and r.body == r1.body, describe(r)
    assert corigin.count("/rq-oic") == 1


def test_request_no_store_does_not_store(cedge, corigin):
    corigin.script("/rq-no-store", headers=[("Cache-Control", "max-age=60")])
    r = cedge.get(HOST, "/rq-no-store", headers=[("Cache-Control", "no-store")])
    assert r.status == 200 and not r.cs.get("stored"), describe(r)
    assert r.cs.get("detail") == "no-store", describe(r)
    r = cedge.get(HOST, "/rq-no-store")
    assert not is_hit(r), describe(r)
    assert corigin.count("/rq-no-store") == 2
    r = cedge.get(HOST, "/rq-no-store")
    assert is_hit(r), describe(r)
    assert corigin.count("/rq-no-store") == 2


def test_only_if_cached_does_not_serve_stale_must_revalidate(cedge, corigin):
    """must-revalidate: a stale response is not reused before the origin
    validated it (RFC 9111 5.2.2.2); only-if-cached cannot ask the origin,
    so the answer is 504 (5.2.1.7)."""
    t_req = now()
    store(cedge, corigin, "/rq-oic-mr", cc="max-age=1, must-revalidate", etag='"omr"')
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/rq-oic-mr", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504, describe(r)
    assert corigin.count("/rq-oic-mr") == 1


def test_only_if_cached_does_not_serve_no_cache_unvalidated(cedge, corigin):
    """no-cache: never reused without a successful validation (RFC 9111
    5.2.2.4); only-if-cached forbids the validation: 504."""
    store(cedge, corigin, "/rq-oic-nc", cc="no-cache, max-age=60", etag='"onc"')
    r = cedge.get(HOST, "/rq-oic-nc", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504, describe(r)
    assert corigin.count("/rq-oic-nc") == 1


def test_only_if_cached_does_not_serve_stale_unasked(cedge, corigin):
    """A plain stale response: RFC 9111 4.2.4 lets a cache serve it only
    when the client or the origin allows (max-stale, stale-*), which
    only-if-cached alone does not; with max-stale it is served."""
    t_req = now()
    store(cedge, corigin, "/rq-oic-stale", cc="max-age=1")
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/rq-oic-stale", headers=[("Cache-Control", "only-if-cached, max-stale")])
    assert r.status == 200 and is_hit(r), describe(r)
    r = cedge.get(HOST, "/rq-oic-stale", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504, describe(r)
    assert corigin.count("/rq-oic-stale") == 1
