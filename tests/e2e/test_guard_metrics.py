"""The admin listener: /metrics parses as Prometheus text and its counters
move as traffic is driven (responses by class, refusals by reason, upstream
connections), /health answers 200, and an unknown path 404."""
import re
import socket
import ssl
import urllib.error
import urllib.request

from lib.client import ClosedError, Conn, client_context
from lib.ports import free_port
from lib.waiting import wait_for

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """Parses the exposition strictly: every line is a comment or a sample."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    samples = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge"), line
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        name, labels = m.group(1), tuple(sorted(LABEL.findall(m.group(3) or "")))
        assert name in types, "sample before its TYPE line: %r" % line
        samples[(name, labels)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_with_traffic(guards, origin, pki):
    admin = free_port()
    g = guards.start(origin.address, admin="127.0.0.1:%d" % admin)
    before = scrape(admin)
    assert value(before, "pullgate_responses_total", role="guard", **{"class": "2xx"}) == 0

    for _ in range(3):
        with Conn.tls(g.port, client_context(pki.origin_ca.cert, pki.good)) as c:
            assert c.request("GET", "/").status == 200
    for cert in (pki.expired, None):
        try:
            with Conn.tls(g.port, client_context(pki.origin_ca.cert, cert)) as c:
                c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                data, _why = c.read_until_eof(timeout=5)
                assert data == b"", data
        except (ssl.SSLError, ConnectionError, ClosedError):
            pass

    after = scrape(admin)
    assert value(after, "pullgate_responses_total", role="guard", **{"class": "2xx"}) == 3
    assert value(after, "pullgate_tls_handshakes_total", role="guard", result="ok") == 3
    assert value(after, "pullgate_tls_refused_total", role="guard", reason="expired") == 1
    assert value(after, "pullgate_tls_refused_total", role="guard", reason="no certificate") == 1
    opened = value(after, "pullgate_upstream_connections_opened_total", role="guard",
                   pool=origin.address)
    reused = value(after, "pullgate_upstream_connections_reused_total", role="guard",
                   pool=origin.address)
    assert opened >= 1 and opened + reused == 3, (opened, reused)


def refused_total(samples):
    return sum(v for (name, labels), v in samples.items()
               if name == "pullgate_tls_refused_total" and ("role", "guard") in labels)


def test_probe_that_sends_nothing_is_not_a_refusal(guards, origin):
    """A load balancer's TCP check connects and closes without a byte: not
    a refused handshake. A client that sends bytes that are not TLS is."""
    admin = free_port()
    g = guards.start(origin.address, admin="127.0.0.1:%d" % admin)
    # The start-up check's connection may still be on its way: counts are
    # lower bounds, over the baseline taken once none is open.
    accepted, refused = 0, 0

    def settled(more=0, refusals=0):
        """The counts once no connection is open, at least `more` were
        accepted since `before` and at least `refusals` refused."""
        m = scrape(admin)
        done = (value(m, "pullgate_connections_active", role="guard") == 0 and
                value(m, "pullgate_connections_total", role="guard") >= accepted + more and
                refused_total(m) >= refused + refusals)
        return done and m
    before = wait_for(settled, 10, "no connection open")
    accepted = value(before, "pullgate_connections_total", role="guard")
    refused = refused_total(before)
    protocol = value(before, "pullgate_tls_refused_total", role="guard", reason="protocol")
    for _ in range(3):
        socket.create_connection(("127.0.0.1", g.port), timeout=5).close()
    with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        while s.recv(4096):
            pass
    after = wait_for(lambda: settled(4, 1), 10, "the four connections to be closed")
    assert refused_total(after) - refused == 1
    assert value(after, "pullgate_tls_refused_total", role="guard", reason="protocol") == protocol + 1


def test_health_and_unknown_paths(guards, origin, pki):
    admin = free_port()
    guards.start(origin.address, admin="127.0.0.1:%d" % admin)
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % admin, timeout=5) as r:
        assert (r.status, r.read()) == (200, b"ok\n")
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/nope" % admin, timeout=5)
        raise AssertionError("an unknown admin path answered 2xx")
    except urllib.error.HTTPError as e:
        assert e.code == 404
