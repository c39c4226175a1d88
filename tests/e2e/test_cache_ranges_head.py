"""Edge cache: HEAD and Range answered from a stored GET. HEAD gets the
stored head without a body and without an origin request; a single range
gets 206 with its bytes and Content-Range, an unsatisfiable one 416, and
several ranges the whole 200 (a valid answer, RFC 9110 14.2)."""
import pytest

from lib.cache_edge import cache_zone, describe, is_hit, start_cache_edge
from lib.cache_origin import CacheOrigin, http_date

HOST = "www.ranges.test"
BODY = bytes(range(256)) * 40      # 10240 bytes, each position recognisable


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    o.script("/file", headers=[("Cache-Control", "max-age=300"), ("Content-Type", "x/bytes")],
             body=BODY, etag='"f1"')
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    e = start_cache_edge(module_edges, edge_pki, [cache_zone("ranges.test", edge_pki, corigin)])
    r = e.get(HOST, "/file")
    assert r.status == 200 and r.body == BODY and r.cs.get("stored"), describe(r)
    return e


def test_head_from_stored_get(cedge, corigin):
    r = cedge.get(HOST, "/file", method="HEAD")
    assert r.status == 200 and r.body == b"", describe(r)
    assert is_hit(r), describe(r)
    assert r.header("Content-Length") == str(len(BODY)), describe(r)
    assert r.header("ETag") == '"f1"' and r.header("Content-Type") == "x/bytes"
    assert corigin.count("/file") == 1


def test_head_not_stored_goes_to_origin_and_is_not_stored(cedge, corigin):
    corigin.script("/head-only", headers=[("Cache-Control", "max-age=300")], body=b"abc")
    r = cedge.get(HOST, "/head-only", method="HEAD")
    assert r.status == 200 and not r.cs.get("stored"), describe(r)
    assert corigin.count("/head-only") == 1 and corigin.last("/head-only").method == "HEAD"
    r = cedge.get(HOST, "/head-only")
    assert not is_hit(r) and r.body == b"abc", describe(r)
    assert corigin.count("/head-only") == 2


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=1000-1999", 1000, 1999),
    ("bytes=10000-", 10000, 10239),
    ("bytes=-240", 10000, 10239),
    ("bytes=10200-99999", 10200, 10239),
])
def test_single_range(cedge, corigin, spec, first, last):
    r = cedge.get(HOST, "/file", headers=[("Range", spec)])
    assert r.status == 206, describe(r)
    assert r.header("Content-Range") == "bytes %d-%d/%d" % (first, last, len(BODY)), describe(r)
    assert r.body == BODY[first:last + 1]
    assert r.header("Content-Length") == str(last - first + 1)
    assert corigin.count("/file") == 1


@pytest.mark.parametrize("spec", ["bytes=10240-", "bytes=20000-30000", "bytes=-0"])
def test_unsatisfiable_range(cedge, corigin, spec):
    r = cedge.get(HOST, "/file", headers=[("Range", spec)])
    assert r.status == 416, describe(r)
    assert r.header("Content-Range") == "bytes */%d" % len(BODY), describe(r)
    assert corigin.count("/file") == 1


def test_several_ranges_get_the_whole(cedge, corigin):
    r = cedge.get(HOST, "/file", headers=[("Range", "bytes=0-9, 100-109")])
    assert r.status == 200 and r.body == BODY, describe(r)
    assert corigin.count("/file") == 1


def test_range_on_a_miss_is_not_forwarded(cedge, corigin):
    """The edge pulls the whole response to store it; the range is then cut
    from the stored copy."""
    corigin.script("/file2", headers=[("Cache-Control", "max-age=300")], body=BODY)
    r = cedge.get(HOST, "/file2", headers=[("Range", "bytes=0-9")])
    assert corigin.last("/file2").header("Range") is None
    assert r.status in (200, 206), describe(r)
    r = cedge.get(HOST, "/file2", headers=[("Range", "bytes=5-9")])
    assert r.status == 206 and r.body == BODY[5:10], describe(r)
    assert corigin.count("/file2") == 1


def test_conditional_head(cedge, corigin):
    r = cedge.get(HOST, "/file", method="HEAD", headers=[("If-None-Match", '"f1"')])
    assert r.status == 304, describe(r)
    assert corigin.count("/file") == 1


def test_range_with_matching_if_range(cedge, corigin):
    r = cedge.get(HOST, "/file", headers=[("Range", "bytes=0-9"), ("If-Range", '"f1"')])
    assert r.status == 206 and r.body == BODY[:10], describe(r)
    assert corigin.count("/file") == 1


def test_range_with_stale_if_range_gets_the_whole(cedge, corigin):
    """RFC 9110 13.1.5: when If-Range does not match, the Range is ignored
    and the whole representation is sent."""
    r = cedge.get(HOST, "/file", headers=[("Range", "bytes=0-9"), ("If-Range", '"other"')])
    assert r.status == 200 and r.body == BODY, describe(r)
    assert corigin.count("/file") == 1


def test_age_on_every_answer_from_the_cache(cedge, corigin):
    for method, headers in (("HEAD", []), ("GET", [("Range", "bytes=0-1")]),
                            ("GET", [("If-None-Match", '"f1"')]),
                            ("GET", [("Range", "bytes=99999-")])):
        r = cedge.get(HOST, "/file", method=method, headers=headers)
        assert r.header("Age") is not None and is_hit(r), (method, headers, describe(r))
    assert corigin.count("/file") == 1


def test_weak_if_range_gets_the_whole(cedge, corigin):
    """If-Range compares strongly: a weak tag never allows a range."""
    r = cedge.get(HOST, "/file", headers=[("Range", "bytes=0-9"), ("If-Range", 'W/"f1"')])
    assert r.status == 200 and r.body == BODY, describe(r)


def test_if_range_with_a_date(cedge, corigin):
    lm = 1700000000
    corigin.script("/dated-file", headers=[("Cache-Control", "max-age=300")], body=BODY,
                   last_modified=lm)
    cedge.get(HOST, "/dated-file")
    r = cedge.get(HOST, "/dated-file", headers=[("Range", "bytes=0-9"),
                                                 ("If-Range", http_date(lm))])
    assert r.status == 206 and r.body == BODY[:10], describe(r)
    r = cedge.get(HOST, "/dated-file", headers=[("Range", "bytes=0-9"),
                                                 ("If-Range", http_date(lm - 1))])
    assert r.status == 200 and r.body == BODY, describe(r)
    assert corigin.count("/dated-file") == 1
