"""Edge cache: responses a shared cache must not hand to another visitor
(RFC 9111 3, 3.5): those with Set-Cookie (unless the zone stores them),
answers to requests with Authorization (unless public, s-maxage or
must-revalidate allow it), POST answers, 206 and 5xx without freshness.
Each request that must not be answered from the cache shows as one more
request at the origin."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, start_cache_edge
from lib.cache_origin import CacheOrigin

HOST = "www.ns.test"
COOKIE_HOST = "www.cookies.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    zones = [cache_zone("ns.test", edge_pki, corigin),
             cache_zone("cookies.test", edge_pki, corigin, cache={"store_set_cookie": True})]
    return start_cache_edge(module_edges, edge_pki, zones)


def test_set_cookie_not_served_to_another_visitor(cedge, corigin):
    corigin.script("/cookie", headers=[("Cache-Control", "max-age=60"),
                                       ("Set-Cookie", "session=alice; Path=/")])
    for i in range(1, 4):
        r = cedge.get(HOST, "/cookie")
        assert r.status == 200 and not is_hit(r), describe(r)
        assert r.header("Set-Cookie") == "session=alice; Path=/", describe(r)
        assert r.cs.get("detail") == "set-cookie" and not r.cs.get("stored"), describe(r)
        assert corigin.count("/cookie") == i


def test_set_cookie_stored_when_the_zone_allows(cedge, corigin):
    corigin.script("/cookie-shared", headers=[("Cache-Control", "max-age=60"),
                                              ("Set-Cookie", "shared=1; Path=/")])
    r1 = cedge.get(COOKIE_HOST, "/cookie-shared")
    assert r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(COOKIE_HOST, "/cookie-shared")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert r2.header("Set-Cookie") == "shared=1; Path=/", describe(r2)
    assert corigin.count("/cookie-shared") == 1


def test_authorization_not_served_to_another_visitor(cedge, corigin):
    corigin.script("/account", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(HOST, "/account", headers=[("Authorization", "Bearer alice")])
    assert r1.status == 200 and not r1.cs.get("stored"), describe(r1)
    assert r1.cs.get("detail") == "authorization", describe(r1)
    r2 = cedge.get(HOST, "/account")
    assert not is_hit(r2), describe(r2)
    assert corigin.count("/account") == 2
    assert corigin.last("/account").header("Authorization") is None
    # The unauthenticated answer is stored; a visitor with Authorization
    # is then answered from it (the origin said it is not per user).
    r3 = cedge.get(HOST, "/account", headers=[("Authorization", "Bearer bob")])
    assert is_hit(r3) and r3.body == r2.body, describe(r3)


@pytest.mark.parametrize("cc", ["public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"])
def test_authorization_stored_when_the_response_allows(cedge, corigin, cc):
    path = "/auth-ok-" + cc.split(",")[0].split("=")[0]
    corigin.script(path, headers=[("Cache-Control", cc)])
    r1 = cedge.get(HOST, path, headers=[("Authorization", "Bearer alice")])
    assert r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(HOST, path)
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert corigin.count(path) == 1


def test_post_not_cached(cedge, corigin):
    corigin.script("/form", headers=[("Cache-Control", "max-age=60")])
    for i in range(1, 3):
        r = cedge.get(HOST, "/form", method="POST", body=b"x=%d" % i)
        assert r.status == 200 and not is_hit(r), describe(r)
        assert corigin.count("/form") == i
        assert corigin.last("/form").body == b"x=%d" % i
    # Nor does a POST answer stand in for a GET.
    r = cedge.get(HOST, "/form")
    assert not is_hit(r), describe(r)
    assert corigin.count("/form") == 3
    assert corigin.last("/form").method == "GET"


def test_206_not_stored(cedge, corigin):
    corigin.script("/partial", status=206, body=b"0123456789",
                   headers=[("Cache-Control", "max-age=60"), ("Content-Range", "bytes 0-9/100")])
    for i in range(1, 3):
        r = cedge.get(HOST, "/partial")
        assert r.status == 206 and not is_hit(r), describe(r)
        assert r.cs.get("detail") == "status", describe(r)
    assert corigin.count("/partial") == 2


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_not_stored(cedge, corigin, status):
    path = "/error-%d" % status
    corigin.script(path, status=status, etag='"e1"')
    for i in range(1, 3):
        r = cedge.get(HOST, path)
        assert r.status == status and not is_hit(r), describe(r)
        assert r.cs.get("detail") == "status", describe(r)
    assert corigin.count(path) == 2


def test_no_validator_no_freshness_not_stored(cedge, corigin):
    corigin.script("/plain")
    for i in range(1, 3):
        r = cedge.get(HOST, "/plain")
        assert not is_hit(r) and r.cs.get("detail") == "no-freshness", describe(r)
    assert corigin.count("/plain") == 2


def test_zone_with_cache_off(module_edges, edge_pki, corigin):
    """cache: false: every request is a pull, and no Cache-Status."""
    e = start_cache_edge(module_edges, edge_pki,
                         [cache_zone("off.test", edge_pki, corigin, cache=False)], name="cache-off")
    corigin.script("/off", headers=[("Cache-Control", "public, max-age=60")])
    for i in range(1, 3):
        r = e.get("www.off.test", "/off")
        assert r.status == 200 and r.header("Cache-Status") is None, describe(r)
    assert corigin.count("/off") == 2
