"""Graceful stop: on SIGTERM the guard stops accepting, lets an in-flight
request finish and exits 0 within timeouts.grace."""
import threading
import time

from lib.client import Conn, client_context, wait_port_refuses
from lib.waiting import wait_for


def test_sigterm_drains_in_flight_request(guards, origin, pki):
    g = guards.start(origin.address, timeouts={"grace": "8s"})
    ctx = client_context(pki.origin_ca.cert, pki.good)
    before = origin.count()
    result = {}

    def slow_request():
        try:
            with Conn.tls(g.port, ctx) as c:
                result["response"] = c.request("GET", "/slow/2", timeout=20)
        except Exception as e:  # reported by the main thread
            result["error"] = e

    t = threading.Thread(target=slow_request)
    t.start()
    wait_for(lambda: origin.count() > before or "error" in result, 10,
             "the slow request to reach the app")
    assert "error" not in result, result.get("error")

    t0 = time.monotonic()
    g.term()
    assert wait_port_refuses(g.port, 1.5), "the guard still accepts connections after SIGTERM"
    t.join(timeout=20)
    assert not t.is_alive()
    assert "error" not in result, "in-flight request failed: %r" % result.get("error")
    r = result["response"]
    assert (r.status, r.body) == (200, b"slow done\n")
    rc = g.proc.wait_exit(10)
    took = time.monotonic() - t0
    assert rc == 0, "exit status %s" % rc
    assert took < 8, "exit took %.1fs, grace is 8s" % took


def test_sigterm_when_idle_exits_quickly(guards, origin, pki):
    g = guards.start(origin.address)
    with Conn.tls(g.port, client_context(pki.origin_ca.cert, pki.good)) as c:
        assert c.request("GET", "/").status == 200
    t0 = time.monotonic()
    g.term()
    assert g.proc.wait_exit(5) == 0
    assert time.monotonic() - t0 < 3


def test_sigterm_answers_a_new_connections_first_request(guards, origin, pki):
    """A client that has just connected when SIGTERM comes is sending its
    first request: that request is answered (with Connection: close), not
    cut off. A connection idle after a request is closed at once."""
    g = guards.start(origin.address, log_level="debug", timeouts={"grace": "8s"})
    ctx = client_context(pki.origin_ca.cert, pki.good)
    kept = Conn.tls(g.port, ctx)
    assert kept.request("GET", "/").status == 200
    fresh = Conn.tls(g.port, ctx)
    # Both handshakes done on the guard's side, the second one's request not
    # yet sent.
    wait_for(lambda: sum("tls established" in line for line in g.proc.lines()) >= 2, 10,
             "the guard to complete both handshakes")
    mark = g.mark()
    g.term()
    g.proc.wait_line(r"draining connections", since=mark, timeout=5)
    got, how = kept.read_until_eof(timeout=5)
    assert (got, how) == (b"", "eof"), "the idle kept-alive connection: %r %s" % (got[:100], how)
    r = fresh.request("GET", "/")
    assert r.status == 200, (r.status, r.body[:200])
    assert (r.header("Connection") or "").lower() == "close", r.headers
    fresh.close()
    kept.close()
    assert g.proc.wait_exit(8) == 0
