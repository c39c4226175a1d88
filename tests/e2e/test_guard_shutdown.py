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
