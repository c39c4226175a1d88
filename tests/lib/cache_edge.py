"""The edge cache tests' side of `pullgate edge`: an edge with the cache
configured and its admin listener on, zones in flexible mode in front of a
CacheOrigin (plain HTTP), visits that return the response with its
Cache-Status read, purges and /metrics.

Configuration goes through lib.edge (EdgeFactory.start merges the cache and
admin keys into the edge section; zone() takes a zone's cache mapping)."""
import ctypes
import http.client
import math
import threading
import time

from . import ports, waiting
from .client import Conn
from .edge import record, visitor_context, zone


def cache_zone(name, edge_pki, origin, hosts=("www",), cache=None, **kw):
    """A flexible zone name whose records host.name all pull from origin
    (a CacheOrigin); cache is the zone's cache mapping (or False)."""
    recs = [record("%s.%s" % (h, name), origin.address) for h in hosts]
    if cache is not None:
        kw["cache"] = cache
    return zone(name, edge_pki.zone_cert(name), recs, ssl="flexible", **kw)


class CacheEdge:
    """A started edge (lib.edge.Edge) with its admin port and the visitor
    PKI, for the calls below."""

    def __init__(self, edge, admin_port, edge_pki):
        self.edge = edge
        self.port = edge.port
        self.admin_port = admin_port
        self.pki = edge_pki

    # -- visitors ----------------------------------------------------------------
    def get(self, host, path="/", headers=(), method="GET", body=None, timeout=30.0):
        """One request over a fresh TLS connection; the Response, with
        .cs (the parsed Cache-Status) and .elapsed (seconds)."""
        t0 = time.monotonic()
        with Conn.tls(self.port, visitor_context(self.pki), sni=host) as c:
            r = c.request(method, path, host=host,
                          headers=list(headers) + [("Connection", "close")], body=body,
                          timeout=timeout)
        r.elapsed = time.monotonic() - t0
        r.cs = cache_status(r)
        return r

    def connect(self, host, timeout=30.0):
        """An open TLS connection to the edge for host (a lib.client.Conn)."""
        return Conn.tls(self.port, visitor_context(self.pki), sni=host, timeout=timeout)

    # -- admin ---------------------------------------------------------------------
    def admin(self, method, target):
        """(status, body text) of one admin request."""
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            c.request(method, target)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def purge(self, query):
        """POST /purge?query; the N of "purged N"."""
        status, body = self.admin("POST", "/purge?" + query)
        assert status == 200, (status, body)
        assert body.startswith("purged "), body
        return int(body.split()[1])

    def metrics(self):
        """/metrics as {sample name (with labels): value}."""
        status, body = self.admin("GET", "/metrics")
        assert status == 200, (status, body)
        out = {}
        for line in body.splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
        return out

    def log(self, since=0):
        return self.edge.log(since)

    def mark(self):
        return self.edge.mark()


def start_cache_edge(factory, edge_pki, zones, cache=None, name="cache-edge", **overrides):
    """Starts an edge (factory: module_edges or edges) with the edge cache
    settings cache and an admin listener; waits for the admin port."""
    admin_port = ports.free_port()
    if cache is not None:
        overrides["cache"] = cache
    e = factory.start(zones, name=name, admin="127.0.0.1:%d" % admin_port, **overrides)
    waiting.wait_for(lambda: ports.accepts_tcp(admin_port), 10,
                     "the edge's admin listener on port %d" % admin_port)
    return CacheEdge(e, admin_port, edge_pki)


# -- Cache-Status ----------------------------------------------------------------------

def cache_status(resp):
    """The Cache-Status field as a dict: "name", then each parameter
    ("hit": True, "fwd": "uri-miss", "fwd-status": 200, "stored": True,
    "ttl": 57, "detail": ...); None when there is none."""
    v = resp.header("Cache-Status")
    if v is None:
        return None
    parts = [p.strip() for p in v.split(";")]
    out = {"name": parts[0], "raw": v}
    for p in parts[1:]:
        k, eq, val = p.partition("=")
        if not eq:
            out[k] = True
        elif k in ("ttl", "fwd-status"):
            out[k] = int(val)
        else:
            out[k] = val
    return out


def is_hit(resp):
    return bool(resp.cs and resp.cs.get("hit"))


def describe(resp):
    """A response in one line, for assertion messages."""
    return "%d %r Age=%r body=%r" % (resp.status, resp.header("Cache-Status"),
                                     resp.header("Age"), resp.body[:80])


# -- time --------------------------------------------------------------------------------

def now():
    """The wall clock: the edge counts ages in whole seconds of it."""
    return time.time()


_libc = ctypes.CDLL(None)
_libc.time.restype = ctypes.c_long


def edge_clock():
    """The edge's clock, in whole seconds: time(2), which reads the
    kernel's coarse clock and passes a second a few milliseconds after
    time.time() does. Waiting on time.time() could send a request that the
    edge still dates in the second before."""
    return _libc.time(None)


# Longest expected time from a test's t_request to the edge receiving the
# request (a scripted origin call, then a pull under the sanitizers).
PULL_MARGIN = 0.3


def wait_age(t_request, seconds, timeout=None):
    """Waits until a response whose pull started at wall time t_request
    (taken before the request was sent, and with no Date or Age from the
    origin) is at least `seconds` old on the edge's clock: the edge's age
    is floor(now) - floor(request time). This is a test about time passing:
    it waits for the clock, polling until the condition holds.

    The edge takes its request time a little after t_request; when a
    second boundary falls in between, the response is a second younger
    than t_request says. So a t_request close to a boundary counts from
    the next second: the age reached is at least `seconds`, at most one
    more (every caller needs a response at least that old)."""
    target = math.floor(t_request + PULL_MARGIN) + seconds
    waiting.wait_for(lambda: edge_clock() >= target, (timeout or seconds + 3),
                     "the edge's clock to pass %d" % target, interval=0.05)


# -- many visitors at once -------------------------------------------------------------

def concurrent_gets(cedge, host, path, n, timeout=30.0):
    """n visitors: each connects (TLS) first; once all are connected, all
    send GET path at once. Returns the Responses (or exceptions), in order;
    every thread is joined within timeout."""
    conns = [None] * n
    results = [None] * n
    ready = threading.Barrier(n + 1, timeout=timeout)

    def one(i):
        try:
            conns[i] = cedge.connect(host, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - reported as the result
            results[i] = e
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            pass
        if conns[i] is None:
            return
        try:
            r = conns[i].request("GET", path, host=host, headers=[("Connection", "close")],
                                 timeout=timeout)
            r.cs = cache_status(r)
            results[i] = r
        except Exception as e:  # noqa: BLE001
            results[i] = e
        finally:
            conns[i].close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    ready.wait()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.01, deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    assert not stuck, "%d of %d visitors still waiting after %.0fs" % (stuck, n, timeout)
    return results
