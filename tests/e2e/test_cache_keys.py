"""Edge cache: what makes two requests the same entry. The host is part of
the key (two records with one path never share an entry, whatever the case
or port of the Host); Vary names request headers whose values pick a
variant (a vary-miss stores another one); Vary: * is never stored; a zone
with ignore_query keys without the query string."""
import pytest

from lib.cache_edge import cache_status, cache_zone, describe, is_hit, start_cache_edge
from lib.client import Conn
from lib.cache_origin import CacheOrigin, Script

WWW = "www.keys.test"
API = "api.keys.test"
NOQ = "www.noquery.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    zones = [cache_zone("keys.test", edge_pki, corigin, hosts=("www", "api")),
             cache_zone("noquery.test", edge_pki, corigin, cache={"ignore_query": True})]
    return start_cache_edge(module_edges, edge_pki, zones, plain=True)


def host_count(corigin, path, host):
    return len([r for r in corigin.requests(path) if r.header("host") == host])


def test_two_hostnames_never_share_an_entry(cedge, corigin):
    corigin.script("/shared-path", headers=[("Cache-Control", "max-age=60")])
    w1 = cedge.get(WWW, "/shared-path")
    a1 = cedge.get(API, "/shared-path")
    assert not is_hit(a1), describe(a1)
    assert w1.body.startswith(WWW.encode()) and a1.body.startswith(API.encode())
    assert corigin.count("/shared-path") == 2
    w2 = cedge.get(WWW, "/shared-path")
    a2 = cedge.get(API, "/shared-path")
    assert is_hit(w2) and w2.body == w1.body, describe(w2)
    assert is_hit(a2) and a2.body == a1.body, describe(a2)
    assert corigin.count("/shared-path") == 2


def test_host_case_and_port_share_the_entry(cedge, corigin):
    corigin.script("/case", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(WWW, "/case")
    with cedge.connect(WWW) as c:
        r2 = c.request("GET", "/case", host="WWW.Keys.Test:%d" % cedge.port,
                       headers=[("Connection", "close")])
    assert r2.status == 200 and "hit" in r2.header("Cache-Status"), describe(r2)
    assert r2.body == r1.body
    assert corigin.count("/case") == 1


def test_query_is_part_of_the_key(cedge, corigin):
    corigin.script("/q", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(WWW, "/q?a=1")
    r2 = cedge.get(WWW, "/q?a=2")
    assert not is_hit(r2) and r2.body != r1.body, describe(r2)
    r3 = cedge.get(WWW, "/q?a=1")
    assert is_hit(r3) and r3.body == r1.body, describe(r3)
    assert corigin.count("/q") == 2


def test_ignore_query(cedge, corigin):
    corigin.script("/q", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(NOQ, "/q?a=1")
    assert r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(NOQ, "/q?a=2")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    r3 = cedge.get(NOQ, "/q")
    assert is_hit(r3) and r3.body == r1.body, describe(r3)
    assert host_count(corigin, "/q", NOQ) == 1
    # The origin still receives the query the first visitor sent.
    assert [r.target for r in corigin.requests("/q") if r.header("host") == NOQ] == ["/q?a=1"]


def test_vary_stores_variants_separately(cedge, corigin):
    def by_language(req):
        lang = req.header("accept-language") or "none"
        return Script(headers=[("Cache-Control", "max-age=60"), ("Vary", "Accept-Language"),
                               ("Content-Language", lang)],
                      body=("hello in %s #%d" % (lang, req.n)).encode())
    corigin.script("/greeting", by_language)
    en = [("Accept-Language", "en")]
    fr = [("Accept-Language", "fr")]
    r1 = cedge.get(WWW, "/greeting", headers=en)
    assert r1.cs.get("fwd") == "uri-miss" and r1.cs.get("stored"), describe(r1)
    r2 = cedge.get(WWW, "/greeting", headers=fr)
    assert r2.cs.get("fwd") == "vary-miss" and r2.cs.get("stored"), describe(r2)
    assert r2.body == b"hello in fr #2"
    assert corigin.count("/greeting") == 2
    for headers, body in ((en, b"hello in en #1"), (fr, b"hello in fr #2"),
                          (en, b"hello in en #1")):
        r = cedge.get(WWW, "/greeting", headers=headers)
        assert is_hit(r) and r.body == body, (headers, describe(r))
    # A third language, and no header at all: variants of their own.
    r = cedge.get(WWW, "/greeting", headers=[("Accept-Language", "de")])
    assert r.cs.get("fwd") == "vary-miss" and r.body == b"hello in de #3", describe(r)
    r = cedge.get(WWW, "/greeting")
    assert r.cs.get("fwd") == "vary-miss" and r.body == b"hello in none #4", describe(r)
    r = cedge.get(WWW, "/greeting")
    assert is_hit(r) and r.body == b"hello in none #4", describe(r)
    assert corigin.count("/greeting") == 4


def test_vary_star_not_stored(cedge, corigin):
    corigin.script("/vary-star", headers=[("Cache-Control", "max-age=60"), ("Vary", "*")])
    for i in range(1, 3):
        r = cedge.get(WWW, "/vary-star")
        assert not is_hit(r) and not r.cs.get("stored"), describe(r)
        assert r.cs.get("detail") == "vary-star", describe(r)
    assert corigin.count("/vary-star") == 2


def get_plain(cedge, host, path):
    with Conn.tcp(cedge.edge.plain_port) as c:
        r = c.request("GET", path, host=host, headers=[("Connection", "close")])
    r.cs = cache_status(r)
    return r


def test_scheme_is_part_of_the_key(cedge, corigin):
    """A plain-HTTP visitor and an HTTPS one ask for different URLs."""
    corigin.script("/scheme", headers=[("Cache-Control", "max-age=60")])
    r1 = cedge.get(WWW, "/scheme")
    p1 = get_plain(cedge, WWW, "/scheme")
    assert p1.status == 200 and not is_hit(p1), describe(p1)
    assert corigin.count("/scheme") == 2
    p2 = get_plain(cedge, WWW, "/scheme")
    assert is_hit(p2) and p2.body == p1.body, describe(p2)
    r2 = cedge.get(WWW, "/scheme")
    assert is_hit(r2) and r2.body == r1.body, describe(r2)
    assert cedge.purge("url=http://%s/scheme" % WWW) == 1
    assert is_hit(cedge.get(WWW, "/scheme"))
    assert not is_hit(get_plain(cedge, WWW, "/scheme"))
    assert corigin.count("/scheme") == 3
