"""Edge cache: validation. A stale response with a validator goes to the
origin as a conditional request; a 304 updates the stored headers (new
freshness, new fields) and the visitor gets the stored body; a 200 replaces
it. A visitor's own If-None-Match / If-Modified-Since is answered with 304
from a stored response, without asking the origin."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, now, start_cache_edge, wait_age
from lib.cache_origin import CacheOrigin, Script, http_date

HOST = "www.val.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki, [cache_zone("val.test", edge_pki, corigin)])


def test_stale_etag_revalidated_and_304_updates_headers(cedge, corigin):
    t_req = now()
    corigin.script("/doc", headers=[("Cache-Control", "max-age=1"), ("X-Version", "1")],
                   etag='"v1"', body=b"the stored body")
    r1 = cedge.get(HOST, "/doc")
    assert r1.cs.get("stored"), describe(r1)
    wait_age(t_req, 1)
    # The origin's representation is unchanged, its metadata is not.
    corigin.script("/doc", headers=[("Cache-Control", "max-age=60"), ("X-Version", "2")],
                   etag='"v1"', body=b"a body the origin must not send")
    r2 = cedge.get(HOST, "/doc")
    assert corigin.count("/doc") == 2, describe(r2)
    seen = corigin.last("/doc")
    assert seen.header("If-None-Match") == '"v1"', seen
    assert r2.status == 200 and r2.body == b"the stored body", describe(r2)
    assert r2.header("X-Version") == "2", describe(r2)
    assert r2.header("Cache-Control") == "max-age=60", describe(r2)
    assert r2.header_all("X-Version") == ["2"], describe(r2)
    # The update holds: fresh for 60 s now, served without the origin.
    r3 = cedge.get(HOST, "/doc")
    assert is_hit(r3) and r3.body == b"the stored body", describe(r3)
    assert r3.header("X-Version") == "2" and r3.cs["ttl"] >= 58, describe(r3)
    assert corigin.count("/doc") == 2


def test_revalidated_response_says_so_in_cache_status(cedge, corigin):
    """RFC 9211 and docs/cache.md: a 304 from the origin is reported as
    "fwd=stale; fwd-status=304", not as a hit (the request was forwarded)."""
    t_req = now()
    corigin.script("/doc-status", headers=[("Cache-Control", "max-age=1")], etag='"s1"')
    cedge.get(HOST, "/doc-status")
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/doc-status")
    assert corigin.count("/doc-status") == 2
    assert r.status == 200, describe(r)
    assert not is_hit(r), describe(r)
    assert r.cs.get("fwd") == "stale" and r.cs.get("fwd-status") == 304, describe(r)


def test_stale_changed_at_origin_is_replaced(cedge, corigin):
    t_req = now()
    corigin.script("/changing", headers=[("Cache-Control", "max-age=1")], etag='"c1"')
    r1 = cedge.get(HOST, "/changing")
    wait_age(t_req, 1)
    corigin.script("/changing", headers=[("Cache-Control", "max-age=60")], etag='"c2"')
    r2 = cedge.get(HOST, "/changing")
    assert corigin.last("/changing").header("If-None-Match") == '"c1"'
    assert r2.status == 200 and r2.body != r1.body and r2.body.endswith(b"#2"), describe(r2)
    assert r2.header("ETag") == '"c2"' and r2.cs.get("stored"), describe(r2)
    r3 = cedge.get(HOST, "/changing")
    assert is_hit(r3) and r3.body == r2.body, describe(r3)
    assert corigin.count("/changing") == 2


def test_stale_last_modified_revalidated_with_if_modified_since(cedge, corigin):
    t_req = now()
    lm = int(t_req) - 3600
    corigin.script("/lm", headers=[("Cache-Control", "max-age=1")], last_modified=lm,
                   body=b"lm body")
    cedge.get(HOST, "/lm")
    wait_age(t_req, 1)
    r = cedge.get(HOST, "/lm")
    assert corigin.count("/lm") == 2
    assert corigin.last("/lm").header("If-Modified-Since") == http_date(lm)
    assert r.status == 200 and r.body == b"lm body", describe(r)


def test_visitor_if_none_match_answered_from_cache(cedge, corigin):
    corigin.script("/inm", headers=[("Cache-Control", "max-age=60")], etag='"i1"', body=b"inm")
    r1 = cedge.get(HOST, "/inm")
    assert r1.cs.get("stored"), describe(r1)
    r = cedge.get(HOST, "/inm", headers=[("If-None-Match", '"i1"')])
    assert r.status == 304 and r.body == b"", describe(r)
    assert r.header("ETag") == '"i1"' and is_hit(r), describe(r)
    r = cedge.get(HOST, "/inm", headers=[("If-None-Match", '"other", W/"i1"')])
    assert r.status == 304, describe(r)
    r = cedge.get(HOST, "/inm", headers=[("If-None-Match", '"other"')])
    assert r.status == 200 and r.body == b"inm" and is_hit(r), describe(r)
    assert corigin.count("/inm") == 1


def test_visitor_if_modified_since_answered_from_cache(cedge, corigin):
    lm = int(now()) - 3600
    corigin.script("/ims", headers=[("Cache-Control", "max-age=60")], last_modified=lm,
                   body=b"ims")
    cedge.get(HOST, "/ims")
    r = cedge.get(HOST, "/ims", headers=[("If-Modified-Since", http_date(lm))])
    assert r.status == 304 and is_hit(r), describe(r)
    r = cedge.get(HOST, "/ims", headers=[("If-Modified-Since", http_date(lm + 60))])
    assert r.status == 304, describe(r)
    r = cedge.get(HOST, "/ims", headers=[("If-Modified-Since", http_date(lm - 60))])
    assert r.status == 200 and r.body == b"ims", describe(r)
    assert corigin.count("/ims") == 1


def test_visitor_conditional_on_a_miss_goes_whole_to_origin(cedge, corigin):
    """On a miss the edge fetches the whole response to store it: the
    visitor's validators are not forwarded (what is stored must be the
    whole response, not a 304); the visitor gets a 200 or a 304, both
    correct answers to its request."""
    corigin.script("/inm-miss", headers=[("Cache-Control", "max-age=60")], etag='"m1"')
    r = cedge.get(HOST, "/inm-miss", headers=[("If-None-Match", '"m1"')])
    assert corigin.last("/inm-miss").header("If-None-Match") is None
    assert r.status in (200, 304), describe(r)
    r2 = cedge.get(HOST, "/inm-miss")
    assert is_hit(r2) and r2.status == 200 and r2.body.endswith(b"#1"), describe(r2)
    assert corigin.count("/inm-miss") == 1


def test_304_without_new_freshness_stays_stale(cedge, corigin):
    """A 304 that says nothing about freshness keeps the stored max-age,
    counted from the revalidation: fresh again for that long."""
    t_req = now()
    corigin.script("/keep", Script(headers=[("Cache-Control", "max-age=2")], etag='"k1"',
                                   headers_304=[("ETag", '"k1"')]))
    r1 = cedge.get(HOST, "/keep")
    wait_age(t_req, 2)
    t_reval = now()
    r2 = cedge.get(HOST, "/keep")
    assert corigin.count("/keep") == 2 and r2.body == r1.body, describe(r2)
    assert r2.header("Cache-Control") == "max-age=2", describe(r2)
    r3 = cedge.get(HOST, "/keep")
    assert is_hit(r3), describe(r3)
    assert corigin.count("/keep") == 2
    wait_age(t_reval, 2)
    cedge.get(HOST, "/keep")
    assert corigin.count("/keep") == 3
