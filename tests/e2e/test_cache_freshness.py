"""Edge cache: how long a stored response is fresh (RFC 9111 4.2) and what
the response's own Cache-Control says about storing it at all.

s-maxage, max-age, Expires - Date, 10% of the time since Last-Modified;
fresh hits leave the origin's request count alone and carry a growing Age;
once stale, a pull. no-store and private are never stored; no-cache is
stored but revalidated on every use; must-revalidate is revalidated, not
served stale, even to a visitor who accepts stale responses."""
import pytest

from lib.cache_edge import (cache_zone, describe, is_hit, now, start_cache_edge, wait_age)
from lib.cache_origin import CacheOrigin, http_date
from lib import waiting

HOST = "www.fresh.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki, [cache_zone("fresh.test", edge_pki, corigin)])


def test_max_age_hit_leaves_origin_alone_and_age_grows(cedge, corigin):
    corigin.script("/max-age", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(HOST, "/max-age")
    assert r1.status == 200, describe(r1)
    assert r1.cs["fwd"] == "uri-miss" and r1.cs.get("stored"), describe(r1)
    assert 58 <= r1.cs["ttl"] <= 60, describe(r1)
    assert corigin.count("/max-age") == 1

    r2 = cedge.get(HOST, "/max-age")
    assert r2.status == 200 and is_hit(r2), describe(r2)
    assert r2.body == r1.body
    assert r2.header("Age") is not None and int(r2.header("Age")) >= 0, describe(r2)

    # Age grows with the clock while the origin is left alone.
    def older():
        r = cedge.get(HOST, "/max-age")
        assert is_hit(r), describe(r)
        return r if int(r.header("Age")) >= int(r2.header("Age")) + 1 else None
    r3 = waiting.wait_for(older, 5, "Age to grow on hits")
    assert r3.cs["ttl"] == 60 - int(r3.header("Age")), describe(r3)
    assert r3.body == r1.body
    assert corigin.count("/max-age") == 1


def test_s_maxage_beats_max_age(cedge, corigin):
    corigin.script("/s-maxage", headers=[("Cache-Control", "max-age=0, s-maxage=60")])
    r1 = cedge.get(HOST, "/s-maxage")
    assert r1.cs.get("stored") and 58 <= r1.cs["ttl"] <= 60, describe(r1)
    r2 = cedge.get(HOST, "/s-maxage")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert corigin.count("/s-maxage") == 1


def test_expires_minus_date(cedge, corigin):
    t = int(now())
    corigin.script("/expires", headers=[("Date", http_date(t)), ("Expires", http_date(t + 30))])
    r1 = cedge.get(HOST, "/expires")
    assert r1.cs.get("stored") and 27 <= r1.cs["ttl"] <= 30, describe(r1)
    r2 = cedge.get(HOST, "/expires")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert corigin.count("/expires") == 1


def test_expires_in_the_past_is_stale_at_once(cedge, corigin):
    t = int(now())
    corigin.script("/expired", headers=[("Date", http_date(t)), ("Expires", http_date(t - 10))])
    cedge.get(HOST, "/expired")
    r2 = cedge.get(HOST, "/expired")
    assert not is_hit(r2), describe(r2)
    assert corigin.count("/expired") == 2


def test_max_age_beats_expires(cedge, corigin):
    t = int(now())
    corigin.script("/max-age-expires", headers=[("Date", http_date(t)),
                                                ("Expires", http_date(t - 10)),
                                                ("Cache-Control", "max-age=60")])
    r1 = cedge.get(HOST, "/max-age-expires")
    assert r1.cs.get("stored") and r1.cs["ttl"] >= 58, describe(r1)
    assert is_hit(cedge.get(HOST, "/max-age-expires"))
    assert corigin.count("/max-age-expires") == 1


def test_heuristic_freshness_from_last_modified(cedge, corigin):
    """No explicit freshness: 10% of the time since Last-Modified."""
    t = int(now())
    corigin.script("/heuristic", headers=[("Date", http_date(t))], last_modified=t - 300)
    r1 = cedge.get(HOST, "/heuristic")
    assert r1.cs.get("stored"), describe(r1)
    assert 27 <= r1.cs["ttl"] <= 30, describe(r1)
    r2 = cedge.get(HOST, "/heuristic")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert corigin.count("/heuristic") == 1


def test_heuristic_freshness_expires_and_revalidates(cedge, corigin):
    """Last-Modified 20 s ago: fresh for 2 s, then revalidated with
    If-Modified-Since."""
    t_req = now()
    corigin.script("/heuristic-short", last_modified=int(t_req) - 20)
    r1 = cedge.get(HOST, "/heuristic-short")
    assert r1.cs.get("stored") and r1.cs["ttl"] <= 2, describe(r1)
    wait_age(t_req, 2)
    r2 = cedge.get(HOST, "/heuristic-short")
    assert corigin.count("/heuristic-short") == 2, describe(r2)
    assert corigin.last("/heuristic-short").header("If-Modified-Since") == \
        http_date(int(t_req) - 20)
    assert r2.status == 200 and r2.body == r1.body, describe(r2)


def test_expiry_then_refetch(cedge, corigin):
    t_req = now()
    corigin.script("/short", headers=[("Cache-Control", "max-age=2")])
    r1 = cedge.get(HOST, "/short")
    assert r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(HOST, "/short")
    assert is_hit(r2), describe(r2)
    assert corigin.count("/short") == 1
    wait_age(t_req, 2)
    r3 = cedge.get(HOST, "/short")
    assert not is_hit(r3), describe(r3)
    assert corigin.count("/short") == 2
    assert r3.body != r1.body and r3.body.endswith(b"#2"), describe(r3)
    assert r3.cs.get("stored"), describe(r3)
    r4 = cedge.get(HOST, "/short")
    assert is_hit(r4) and r4.body == r3.body, describe(r4)
    assert corigin.count("/short") == 2


def test_no_store_never_stored(cedge, corigin):
    corigin.script("/no-store", headers=[("Cache-Control", "no-store, max-age=60")])
    for i in range(3):
        r = cedge.get(HOST, "/no-store")
        assert r.status == 200 and not is_hit(r), describe(r)
        assert not r.cs.get("stored") and r.cs.get("detail") == "no-store", describe(r)
    assert corigin.count("/no-store") == 3


def test_no_cache_stored_and_revalidated_every_time(cedge, corigin):
    corigin.script("/no-cache", headers=[("Cache-Control", "no-cache, max-age=60")],
                   etag='"nc1"')
    r1 = cedge.get(HOST, "/no-cache")
    assert r1.cs.get("stored"), describe(r1)
    for i in range(2, 5):
        r = cedge.get(HOST, "/no-cache")
        assert r.status == 200 and r.body == r1.body, describe(r)
        assert corigin.count("/no-cache") == i, describe(r)
        seen = corigin.last("/no-cache")
        assert seen.header("If-None-Match") == '"nc1"', seen


def test_private_not_stored(cedge, corigin):
    corigin.script("/private", headers=[("Cache-Control", "private, max-age=60")])
    for i in range(2):
        r = cedge.get(HOST, "/private")
        assert not is_hit(r) and r.cs.get("detail") == "private", describe(r)
    assert corigin.count("/private") == 2


def test_must_revalidate_is_not_served_stale(cedge, corigin):
    """Stale and must-revalidate: a visitor's max-stale does not let the
    edge serve it without asking the origin."""
    t_req = now()
    corigin.script("/must-revalidate", headers=[("Cache-Control", "max-age=1, must-revalidate")],
                   etag='"mr1"')
    r1 = cedge.get(HOST, "/must-revalidate")
    assert r1.cs.get("stored"), describe(r1)
    wait_age(t_req, 1)
    r2 = cedge.get(HOST, "/must-revalidate", headers=[("Cache-Control", "max-stale=600")])
    assert corigin.count("/must-revalidate") == 2, describe(r2)
    assert corigin.last("/must-revalidate").header("If-None-Match") == '"mr1"'
    assert r2.status == 200 and r2.body == r1.body, describe(r2)


def test_stale_without_must_revalidate_is_served_with_max_stale(cedge, corigin):
    """The control for the test above: the same response without
    must-revalidate is served stale to max-stale."""
    t_req = now()
    corigin.script("/may-be-stale", headers=[("Cache-Control", "max-age=1")], etag='"ms1"')
    r1 = cedge.get(HOST, "/may-be-stale")
    wait_age(t_req, 1)
    r2 = cedge.get(HOST, "/may-be-stale", headers=[("Cache-Control", "max-stale=600")])
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert r2.cs["ttl"] <= 0, describe(r2)
    assert corigin.count("/may-be-stale") == 1


def test_age_from_origin_counts(cedge, corigin):
    """RFC 9111 4.2.3: the origin's Age is part of the response's age."""
    corigin.script("/aged", headers=[("Cache-Control", "max-age=300"), ("Age", "100")])
    r1 = cedge.get(HOST, "/aged")
    assert r1.cs.get("stored") and 198 <= r1.cs["ttl"] <= 200, describe(r1)
    r2 = cedge.get(HOST, "/aged")
    assert is_hit(r2) and 100 <= int(r2.header("Age")) <= 102, describe(r2)
    assert r2.header_all("Age") == [r2.header("Age")], describe(r2)


def test_date_in_the_past_counts(cedge, corigin):
    """The apparent age (arrival - Date) counts as well."""
    t = int(now())
    corigin.script("/dated", headers=[("Cache-Control", "max-age=300"),
                                      ("Date", http_date(t - 100))])
    r1 = cedge.get(HOST, "/dated")
    assert r1.cs.get("stored") and 197 <= r1.cs["ttl"] <= 200, describe(r1)
    r2 = cedge.get(HOST, "/dated")
    assert is_hit(r2) and 100 <= int(r2.header("Age")) <= 103, describe(r2)


def test_heuristic_freshness_at_most_a_day(cedge, corigin):
    t = int(now())
    corigin.script("/ancient", headers=[("Date", http_date(t))], last_modified=t - 365 * 86400)
    r1 = cedge.get(HOST, "/ancient")
    assert r1.cs.get("stored") and 86397 <= r1.cs["ttl"] <= 86400, describe(r1)


def test_explicit_freshness_stores_a_404(cedge, corigin):
    corigin.script("/missing", status=404, headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(HOST, "/missing")
    assert r1.status == 404 and r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(HOST, "/missing")
    assert r2.status == 404 and is_hit(r2), describe(r2)
    assert corigin.count("/missing") == 1
