"""Edge cache: invalidation by unsafe methods (RFC 9111 4.4). A successful
POST, PUT, DELETE or PATCH removes the stored responses of its URL and of
the URLs its Location / Content-Location name on the same host; another
host's entries stay, and so does everything after a failed request."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, start_cache_edge
from lib.cache_origin import CacheOrigin, Script

HOST = "www.inv.test"
OTHER = "api.inv.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki,
                            [cache_zone("inv.test", edge_pki, corigin, hosts=("www", "api"))])


def cached(cedge, corigin, host, path):
    """Scripts path as fresh for a minute and makes sure host's copy is
    stored (a hit on the second request)."""
    corigin.script(path, headers=[("Cache-Control", "max-age=60")])
    cedge.get(host, path)
    r = cedge.get(host, path)
    assert is_hit(r), describe(r)


def is_stored(cedge, host, path):
    """Whether host's path is stored, asked without reaching the origin."""
    r = cedge.get(host, path, headers=[("Cache-Control", "only-if-cached")])
    assert r.status in (200, 504), describe(r)
    return r.status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unsafe_method_invalidates_its_url(cedge, corigin, method):
    path = "/item-" + method.lower()
    cached(cedge, corigin, HOST, path)
    cached(cedge, corigin, OTHER, path)
    n = corigin.count(path)
    r = cedge.get(HOST, path, method=method, body=b"change")
    assert r.status == 200, describe(r)
    assert r.cs.get("fwd") == "method", describe(r)
    assert corigin.count(path) == n + 1 and corigin.last(path).method == method
    r = cedge.get(HOST, path)
    assert not is_hit(r) and r.cs.get("fwd") == "uri-miss", describe(r)
    assert corigin.count(path) == n + 2
    # The other host's entry for the same path stays.
    assert is_stored(cedge, OTHER, path)


def test_location_and_content_location_invalidated(cedge, corigin):
    for p in ("/created", "/described", "/untouched"):
        cached(cedge, corigin, HOST, p)
    corigin.script("/collection", status=201,
                   headers=[("Location", "/created"),
                            ("Content-Location", "https://%s/described" % HOST)])
    r = cedge.get(HOST, "/collection", method="POST", body=b"new")
    assert r.status == 201, describe(r)
    assert not is_stored(cedge, HOST, "/created")
    assert not is_stored(cedge, HOST, "/described")
    assert is_stored(cedge, HOST, "/untouched")


def test_location_on_another_host_not_invalidated(cedge, corigin):
    cached(cedge, corigin, OTHER, "/elsewhere")
    cached(cedge, corigin, HOST, "/elsewhere")
    corigin.script("/move", status=303,
                   headers=[("Location", "https://%s/elsewhere" % OTHER),
                            ("Content-Location", "https://%s/elsewhere" % OTHER)])
    r = cedge.get(HOST, "/move", method="POST", body=b"x")
    assert r.status == 303, describe(r)
    assert is_stored(cedge, OTHER, "/elsewhere")
    assert is_stored(cedge, HOST, "/elsewhere")


@pytest.mark.parametrize("status", [404, 500])
def test_failed_unsafe_method_keeps_the_entry(cedge, corigin, status):
    path = "/kept-%d" % status
    cached(cedge, corigin, HOST, path)

    def answer(req):
        if req.method == "GET":
            return Script(headers=[("Cache-Control", "max-age=60")])
        return Script(status=status)
    corigin.script(path, answer)
    r = cedge.get(HOST, path, method="DELETE")
    assert r.status == status, describe(r)
    assert is_stored(cedge, HOST, path)


def test_safe_methods_do_not_invalidate(cedge, corigin):
    cached(cedge, corigin, HOST, "/safe")
    r = cedge.get(HOST, "/safe", method="OPTIONS")
    assert r.status == 200, describe(r)
    assert is_stored(cedge, HOST, "/safe")


def test_invalidation_removes_every_variant(cedge, corigin):
    """The stored responses of the URL, Vary variants included: after the
    POST no variant stored before it is served again."""
    def by_language(req):
        if req.method != "GET":
            return Script(status=204)
        lang = req.header("accept-language")
        return Script(headers=[("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")],
                      body=("%s #%d" % (lang, req.n)).encode())
    corigin.script("/varied", by_language)
    en, fr = [("Accept-Language", "en")], [("Accept-Language", "fr")]
    assert cedge.get(HOST, "/varied", headers=en).body == b"en #1"
    assert cedge.get(HOST, "/varied", headers=fr).body == b"fr #2"
    assert is_hit(cedge.get(HOST, "/varied", headers=en))
    assert is_hit(cedge.get(HOST, "/varied", headers=fr))
    r = cedge.get(HOST, "/varied", method="POST", body=b"change")
    assert r.status == 204, describe(r)
    r = cedge.get(HOST, "/varied", headers=fr)
    assert not is_hit(r) and r.body == b"fr #4", describe(r)
    r = cedge.get(HOST, "/varied", headers=en)
    assert not is_hit(r) and r.body == b"en #5", describe(r)
