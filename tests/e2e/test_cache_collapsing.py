"""Edge cache: request collapsing. Concurrent misses for one URL, on any
worker, make one origin pull; the others wait for it and are answered from
the cache. When the response is not storable, each waiter pulls for
itself, and later misses for that URL no longer wait at all until a
response for it is stored; a waiter gives up waiting after collapse_wait
and pulls."""
import threading

import pytest

from lib import waiting

from lib.cache_edge import cache_zone, concurrent_gets, describe, start_cache_edge
from lib.cache_origin import CacheOrigin

HOST = "www.collapse.test"


@pytest.fixture(scope="module")
def corigin():
    o = CacheOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cedge(module_edges, edge_pki, corigin):
    """Two workers: the misses arrive on both."""
    zones = [cache_zone("collapse.test", edge_pki, corigin)]
    return start_cache_edge(module_edges, edge_pki, zones, workers=2)


def responses_ok(results):
    bad = [r if isinstance(r, Exception) else describe(r) for r in results
           if isinstance(r, Exception) or r.status != 200]
    assert not bad, "%d visitors failed: %s" % (len(bad), bad[:5])
    return results


def test_hundred_misses_make_one_pull(cedge, corigin):
    corigin.script("/hot", headers=[("Cache-Control", "max-age=60")], body=b"hot " * 1000,
                   delay=1.0)
    before = cedge.metrics()
    results = responses_ok(concurrent_gets(cedge, HOST, "/hot", 100, timeout=30))
    assert corigin.count("/hot") == 1, "the origin saw %d requests" % corigin.count("/hot")
    assert {r.body for r in results} == {b"hot " * 1000}
    statuses = [r.header("Cache-Status") for r in results]
    assert sum("stored" in s for s in statuses) == 1, statuses
    after = cedge.metrics()
    collapsed = after["pullgate_cache_collapsed_total"] - before["pullgate_cache_collapsed_total"]
    assert collapsed >= 50, "only %d of 99 waited for the pull" % collapsed


def test_not_storable_waiters_pull_themselves(cedge, corigin):
    corigin.script("/private-hot", headers=[("Cache-Control", "private")], delay=0.5)
    results = responses_ok(concurrent_gets(cedge, HOST, "/private-hot", 10, timeout=30))
    n = corigin.count("/private-hot")
    assert n == 10, "the origin saw %d requests for 10 visitors" % n
    # Each visitor got an answer of its own, none another's copy.
    assert len({r.body for r in results}) == 10


def collapsed_count(cedge):
    return cedge.metrics()["pullgate_cache_collapsed_total"]


def test_url_known_uncacheable_is_not_collapsed(cedge, corigin):
    """Once the origin answered a URL with a response that cannot be stored,
    concurrent misses for it pull at once instead of queueing behind one
    pull only to pull anyway."""
    corigin.script("/private-known", headers=[("Cache-Control", "private")], delay=0.5)
    assert cedge.get(HOST, "/private-known").status == 200
    before = collapsed_count(cedge)
    results = responses_ok(concurrent_gets(cedge, HOST, "/private-known", 10, timeout=30))
    assert corigin.count("/private-known") == 11
    assert len({r.body for r in results}) == 10
    assert collapsed_count(cedge) == before, "misses waited for an uncacheable URL"


def test_request_caused_refusal_does_not_mark_the_url(cedge, corigin):
    """A response left unstored because of the request (here its no-store)
    says nothing about the URL: concurrent misses still collapse."""
    corigin.script("/req-nostore", headers=[("Cache-Control", "max-age=60")], delay=1.0)
    r = cedge.get(HOST, "/req-nostore", headers=[("Cache-Control", "no-store")])
    assert r.status == 200 and "stored" not in r.header("Cache-Status"), describe(r)
    before = collapsed_count(cedge)
    responses_ok(concurrent_gets(cedge, HOST, "/req-nostore", 20, timeout=30))
    assert corigin.count("/req-nostore") == 2, "the origin saw %d requests" % corigin.count("/req-nostore")
    assert collapsed_count(cedge) - before >= 10


def test_url_collapses_again_once_storable(cedge, corigin):
    """The mark ends when a response for the URL is stored."""
    corigin.script("/turns", headers=[("Cache-Control", "private")])
    assert cedge.get(HOST, "/turns").status == 200            # marked uncacheable
    corigin.script("/turns", headers=[("Cache-Control", "max-age=60")])
    r = cedge.get(HOST, "/turns")
    assert "stored" in r.header("Cache-Status"), describe(r)  # the mark ends
    assert cedge.purge("url=https://%s/turns" % HOST) == 1
    corigin.script("/turns", headers=[("Cache-Control", "max-age=60")], delay=1.0)
    n = corigin.count("/turns")
    before = collapsed_count(cedge)
    responses_ok(concurrent_gets(cedge, HOST, "/turns", 20, timeout=30))
    assert corigin.count("/turns") - n == 1, "the origin saw %d pulls" % (corigin.count("/turns") - n)
    assert collapsed_count(cedge) - before >= 10


def test_collapse_wait_bounds_the_wait(edges, edge_pki):
    o = CacheOrigin()
    try:
        e = start_cache_edge(edges, edge_pki, [cache_zone("slow.test", edge_pki, o)],
                             cache={"collapse_wait": "300ms"}, name="cache-edge-wait")
        o.script("/slow", headers=[("Cache-Control", "max-age=60")], delay=2.5)
        results = responses_ok(concurrent_gets(e, "www.slow.test", "/slow", 5, timeout=30))
        # The waiters gave up after 300 ms, long before the first pull ended.
        assert o.count("/slow") == 5, "the origin saw %d requests" % o.count("/slow")
        assert all(r.status == 200 for r in results)
    finally:
        o.stop()


def test_leader_gone_waiters_still_answered(cedge, corigin):
    """The visitor whose miss leads the pull disconnects before the origin
    answers: the visitors waiting on it are still answered (from the
    cache, or by a pull of their own)."""
    corigin.script("/leader-gone", headers=[("Cache-Control", "max-age=60")], delay=1.0)
    leader = cedge.connect(HOST)
    leader.send(b"GET /leader-gone HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
    waiting.wait_for(lambda: corigin.count("/leader-gone") == 1, 5, "the leader's pull")
    collapsed = cedge.metrics()["pullgate_cache_collapsed_total"]
    results = []
    t = threading.Thread(target=lambda: results.extend(
        concurrent_gets(cedge, HOST, "/leader-gone", 5, timeout=20)), daemon=True)
    t.start()
    waiting.wait_for(lambda: cedge.metrics()["pullgate_cache_collapsed_total"] >= collapsed + 5,
                     5, "the five visitors to wait on the leader's pull")
    leader.close()
    t.join(25)
    assert not t.is_alive(), "the waiters were never answered"
    responses_ok(results)
    assert len(results) == 5
    assert cedge.edge.alive()


def test_waiters_gone_leader_still_stores(cedge, corigin):
    """Waiting visitors disconnect; the pull they waited on completes and
    stores, and the edge goes on serving."""
    corigin.script("/waiters-gone", headers=[("Cache-Control", "max-age=60")], delay=1.0)
    leader = cedge.connect(HOST)
    leader.send(b"GET /waiters-gone HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                % HOST.encode())
    waiting.wait_for(lambda: corigin.count("/waiters-gone") == 1, 5, "the leader's pull")
    quitters = []
    for _ in range(5):
        c = cedge.connect(HOST)
        c.send(b"GET /waiters-gone HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
        quitters.append(c)
    for c in quitters:
        c.close()
    r = leader.read_response(timeout=10)
    leader.close()
    assert r.status == 200, r.status
    r2 = cedge.get(HOST, "/waiters-gone")
    assert r2.status == 200 and "hit" in r2.header("Cache-Status"), describe(r2)
    assert corigin.count("/waiters-gone") == 1
