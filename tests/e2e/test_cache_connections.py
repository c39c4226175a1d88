"""Edge cache: hits, misses and cache-made answers (304, 206, HEAD, 504)
on one keep-alive visitor connection, pipelined, and for HTTP/1.0
visitors: each response is whole and belongs to its request."""
import pytest

from lib.cache_edge import cache_status, cache_zone, start_cache_edge
from lib.cache_origin import CacheOrigin
from lib.client import request_bytes

HOST = "www.conn.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    return start_cache_edge(module_edges, edge_pki, [cache_zone("conn.test", edge_pki, corigin)])


def one(c, method, path, headers=()):
    r = c.request(method, path, host=HOST, headers=list(headers))
    r.cs = cache_status(r)
    return r


def test_keep_alive_mixes_hits_misses_and_cache_answers(cedge, corigin):
    corigin.script("/ka-a", headers=[("Cache-Control", "max-age=60")], etag='"a"', body=b"A" * 100)
    corigin.script("/ka-b", headers=[("Cache-Control", "max-age=60")], body=b"B" * 50)
    corigin.script("/ka-p", headers=[("Cache-Control", "private")], body=b"P")
    with cedge.connect(HOST) as c:
        steps = [
            ("GET", "/ka-a", [], 200, b"A" * 100, False),
            ("GET", "/ka-a", [], 200, b"A" * 100, True),
            ("GET", "/ka-b", [], 200, b"B" * 50, False),
            ("HEAD", "/ka-a", [], 200, b"", True),
            ("GET", "/ka-a", [("If-None-Match", '"a"')], 304, b"", True),
            ("GET", "/ka-p", [], 200, b"P", False),
            ("GET", "/ka-a", [("Range", "bytes=0-4")], 206, b"AAAAA", True),
            ("GET", "/ka-b", [], 200, b"B" * 50, True),
            ("GET", "/ka-a", [("Range", "bytes=500-")], 416, b"", True),
            ("GET", "/ka-p", [], 200, b"P", False),
            ("GET", "/ka-b", [], 200, b"B" * 50, True),
        ]
        for method, path, headers, status, body, hit in steps:
            r = one(c, method, path, headers)
            what = (method, path, headers, r.status, r.header("Cache-Status"))
            assert r.status == status and r.body == body, what
            assert bool(r.cs and r.cs.get("hit")) == hit, what
    assert corigin.count("/ka-a") == 1
    assert corigin.count("/ka-b") == 1
    assert corigin.count("/ka-p") == 2


def test_pipelined_hit_and_miss(cedge, corigin):
    corigin.script("/pl-hit", headers=[("Cache-Control", "max-age=60")], body=b"hit body")
    corigin.script("/pl-miss", headers=[("Cache-Control", "max-age=60")], body=b"miss body",
                   delay=0.3)
    with cedge.connect(HOST) as c:
        assert one(c, "GET", "/pl-hit").body == b"hit body"
        c.send(request_bytes("GET", "/pl-miss", HOST) + request_bytes("GET", "/pl-hit", HOST) +
               request_bytes("GET", "/pl-miss", HOST, [("Connection", "close")]))
        bodies = [c.read_response(timeout=10).body for _ in range(3)]
    assert bodies == [b"miss body", b"hit body", b"miss body"]
    assert corigin.count("/pl-miss") == 1
    assert corigin.count("/pl-hit") == 1


def test_http10_visitor_gets_a_hit(cedge, corigin):
    corigin.script("/old-client", headers=[("Cache-Control", "max-age=60")], body=b"ten")
    with cedge.connect(HOST) as c:
        one(c, "GET", "/old-client")
    with cedge.connect(HOST) as c:
        c.send(request_bytes("GET", "/old-client", HOST, version="HTTP/1.0"))
        r = c.read_response(timeout=10)
        assert r.status == 200 and r.body == b"ten", r
        assert "hit" in r.header("Cache-Status")
        rest, how = c.read_until_eof(5)
        assert rest == b"" and (how == "eof" or how.startswith("error")), (rest, how)
    assert corigin.count("/old-client") == 1


def test_only_if_cached_504_then_the_connection(cedge, corigin):
    """The cache's own 504 closes the connection cleanly after itself."""
    with cedge.connect(HOST) as c:
        r = one(c, "GET", "/never-stored", [("Cache-Control", "only-if-cached")])
        assert r.status == 504
        rest, how = c.read_until_eof(5)
        assert rest == b"", rest
    assert corigin.count("/never-stored") == 0
