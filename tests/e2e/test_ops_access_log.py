"""The access log: one line per request, in JSON or in a combined-style text.

A guard writing JSON to a file gets a mix of requests: a 200 with a
User-Agent and a Referer, a 404 from the app, a POST, a TLS 1.2 client, a
malformed request (400), a Host that belongs to another SNI (421), a
request the client gives up on (499, with a reason), and handshakes it
refuses, which are not requests and write no line. Each request has exactly
one line, valid JSON, with its fields checked (the client certificate's
SHA-256, the origin's time only where a pull happened, the TLS version). An
edge in front of a guard logs the zone and the cache status, and the guard
behind it the edge's certificate. The combined format parses with a regex.
SIGUSR1 after `mv access.log access.log.1` starts a new access.log."""
import datetime
import json
import os
import re
import signal

from lib.client import Conn, attempt, client_context
from lib.edge import plain_fp, record, visit, zone
from lib.waiting import wait_for

UA = "ops-test/1.0 (access log)"
REFERER = "https://referer.example/page?x=1"
FP_RX = re.compile(r"^[0-9a-f]{64}$")
TIME_RX = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    assert data == "" or data.endswith("\n"), "a partial line at the end: %r" % data[-200:]
    return data.splitlines()


def wait_lines(path, n, timeout=10.0):
    """Polls until path holds at least n lines; the lines."""
    return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(read_lines(path)), timeout,
                    "%d lines in %s (has %d)" % (n, path, len(read_lines(path))))


def json_lines(path, n, timeout=10.0):
    out = []
    for line in wait_lines(path, n, timeout):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise AssertionError("not a JSON line (%s): %r" % (e, line))
    return out


def one(conn, method="GET", path="/", host="localhost", headers=(), body=None):
    return conn.request(method, path, host=host, body=body,
                        headers=list(headers) + [("Connection", "close")])


def common_fields(e, role):
    assert e["role"] == role, e
    assert TIME_RX.match(e["time"]), e
    when = datetime.datetime.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 300, e
    assert e["client"] == "127.0.0.1", e
    assert isinstance(e["status"], int) and isinstance(e["bytes"], int), e
    assert isinstance(e["duration_ms"], (int, float)) and e["duration_ms"] >= 0, e


def test_guard_json_one_line_per_request(guards, origin, pki, tmp_path):
    log = str(tmp_path / "access.log")
    g = guards.start(origin.address, name="guard-access-json",
                     access_log={"path": log, "format": "json"},
                     hosts=[{"hostnames": ["a.example"]}])
    fp = plain_fp(pki.good.info)
    ctx13 = client_context(pki.origin_ca.cert, pki.good, "1.3")
    ctx12 = client_context(pki.origin_ca.cert, pki.good, "1.2")
    expected = []   # (what, checks) in the order the requests are made

    with Conn.tls(g.port, ctx13) as c:
        r = one(c, "GET", "/headers", headers=[("User-Agent", UA), ("Referer", REFERER)])
        assert r.status == 200
        expected.append(("200", {"status": 200, "method": "GET", "path": "/headers",
                                 "host": "localhost", "bytes": len(r.body), "tls": "TLSv1.3",
                                 "user_agent": UA, "referer": REFERER}, True))
    with Conn.tls(g.port, ctx13) as c:
        r = one(c, "GET", "/status/404?q=1")
        assert r.status == 404
        expected.append(("404 from the app", {"status": 404, "path": "/status/404?q=1",
                                              "bytes": len(b"status 404\n")}, True))
    # Refused handshakes: no certificate, a stranger's CA. No line.
    for cert in (None, pki.other):
        a = attempt(g.port, client_context(pki.origin_ca.cert, cert, "1.3"))
        assert not a.got_http, a.received[:200]
    with Conn.tls(g.port, ctx13) as c:
        r = one(c, "POST", "/sink", body=b"x" * 1000)
        assert r.status == 200
        expected.append(("POST", {"status": 200, "method": "POST", "path": "/sink"}, True))
    with Conn.tls(g.port, ctx12) as c:
        r = one(c, "GET", "/tls12")
        assert r.status == 200
        expected.append(("TLS 1.2", {"status": 200, "path": "/tls12", "tls": "TLSv1.2"}, True))
    with Conn.tls(g.port, ctx13) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
        r = c.read_response()
        assert r.status == 400
        expected.append(("400 malformed", {"status": 400}, False))
    with Conn.tls(g.port, ctx13, sni="localhost") as c:
        r = one(c, "GET", "/misdirected", host="a.example")
        assert r.status == 421
        expected.append(("421", {"status": 421, "path": "/misdirected", "host": "a.example"},
                         False))

    lines = json_lines(log, len(expected))
    # The last request's line is in: nothing else may be.
    assert len(lines) == len(expected), "\n".join(json.dumps(x) for x in lines)
    for (what, want, pulled), e in zip(expected, lines):
        common_fields(e, "guard")
        for k, v in want.items():
            assert e.get(k) == v, "%s: %s is %r, expected %r: %s" % (what, k, e.get(k), v, e)
        assert e["client_cert"] == fp, (what, e)
        if pulled:
            assert isinstance(e.get("origin_ms"), (int, float)) and e["origin_ms"] >= 0, (what, e)
            assert e["origin_ms"] <= e["duration_ms"] + 1, (what, e)
            assert "reason" not in e, (what, e)
        else:
            assert "origin_ms" not in e, (what, e)
            assert e.get("reason"), "%s: a refusal without a reason: %s" % (what, e)
    # Headers that were not sent are left out.
    assert "user_agent" not in lines[1] and "referer" not in lines[1], lines[1]
    assert "tls refused" in g.log()


def test_guard_logs_request_cut_short(guards, origin, pki, tmp_path):
    log = str(tmp_path / "access.log")
    g = guards.start(origin.address, name="guard-access-499",
                     access_log={"path": log, "format": "json"})
    before = origin.count()
    c = Conn.tls(g.port, client_context(pki.origin_ca.cert, pki.good))
    c.send(b"GET /slow/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    wait_for(lambda: origin.count() > before, 10, "the slow request to reach the app")
    c.close()
    e = json_lines(log, 1, timeout=15)[0]
    common_fields(e, "guard")
    assert e["path"] == "/slow/1" and e["status"] == 499, json.dumps(e)
    assert e.get("reason"), e
    assert g.alive()


def test_guard_logs_response_cut_short(guards, origin, pki, tmp_path):
    log = str(tmp_path / "access.log")
    g = guards.start(origin.address, name="guard-access-cut",
                     access_log={"path": log, "format": "json"})
    size = 64 << 20
    c = Conn.tls(g.port, client_context(pki.origin_ca.cert, pki.good))
    c.send(b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % size)
    head = c.read_head(None)
    assert head.startswith(b"HTTP/1.1 200"), head
    c.close()   # with most of the body still to come
    e = json_lines(log, 1, timeout=15)[0]
    common_fields(e, "guard")
    assert e["path"] == "/bytes/%d" % size and e["status"] == 200, json.dumps(e)
    assert e["bytes"] < size and e.get("reason"), json.dumps(e)


COMBINED_RX = re.compile(
    r'^(?P<client>\S+) - - \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
    r'"(?P<method>\S+) (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) (?P<bytes>\d+) '
    r'"(?P<referer>[^"]*)" "(?P<ua>[^"]*)" host=(?P<host>\S+) duration_ms=(?P<dur>[0-9.]+)'
    r'(?: origin_ms=(?P<origin>[0-9.]+))?(?: tls="(?P<tls>[^"]*)")?(?: zone="(?P<zone>[^"]*)")?'
    r'(?: cache="(?P<cache>[^"]*)")?(?: client_cert="(?P<cert>[^"]*)")?'
    r'(?: reason="(?P<reason>[^"]*)")?$')


def test_guard_combined_format(guards, origin, pki, tmp_path):
    log = str(tmp_path / "access.log")
    g = guards.start(origin.address, name="guard-access-combined",
                     access_log={"path": log, "format": "combined"})
    ctx = client_context(pki.origin_ca.cert, pki.good)
    with Conn.tls(g.port, ctx) as c:
        assert one(c, "GET", "/combined", headers=[("User-Agent", UA),
                                                   ("Referer", REFERER)]).status == 200
    with Conn.tls(g.port, ctx) as c:
        assert one(c, "GET", "/status/404").status == 404
    with Conn.tls(g.port, ctx) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
        assert c.read_response().status == 400
    lines = wait_lines(log, 3)
    assert len(lines) == 3, lines
    ms = []
    for line in lines:
        m = COMBINED_RX.match(line)
        assert m, "not a combined line: %r" % line
        ms.append(m)
    fp = plain_fp(pki.good.info)
    a, b, bad = ms
    assert (a["client"], a["method"], a["path"], a["status"]) == ("127.0.0.1", "GET", "/combined",
                                                                 "200"), a.groupdict()
    assert (a["referer"], a["ua"], a["host"]) == (REFERER, UA, "localhost"), a.groupdict()
    assert a["origin"] and a["tls"] == "TLSv1.3" and a["cert"] == fp and not a["reason"], \
        a.groupdict()
    when = datetime.datetime.strptime(a["time"], "%d/%b/%Y:%H:%M:%S +0000").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 300
    assert (b["status"], b["bytes"], b["referer"], b["ua"]) == ("404", str(len(b"status 404\n")),
                                                                "-", "-"), b.groupdict()
    assert bad["status"] == "400" and bad["reason"] and not bad["origin"], bad.groupdict()


def test_sigusr1_reopens_after_move(guards, origin, pki, tmp_path):
    log = str(tmp_path / "access.log")
    g = guards.start(origin.address, name="guard-access-reopen",
                     access_log={"path": log, "format": "json"})
    ctx = client_context(pki.origin_ca.cert, pki.good)

    def get(path):
        with Conn.tls(g.port, ctx) as c:
            assert one(c, "GET", path).status == 200

    get("/before-move")
    wait_lines(log, 1)
    os.rename(log, log + ".1")
    get("/after-move")            # still written to the moved file
    wait_lines(log + ".1", 2)
    mark = g.mark()
    g.proc.send_signal(signal.SIGUSR1)
    g.proc.wait_line(r"SIGUSR1: reopened the access log", since=mark, timeout=10)
    get("/after-reopen")
    new = json_lines(log, 1)
    assert [e["path"] for e in new] == ["/after-reopen"], new
    old = [json.loads(l) for l in read_lines(log + ".1")]
    assert [e["path"] for e in old] == ["/before-move", "/after-move"], old
    assert oct(os.stat(log).st_mode & 0o777) == oct(0o640)


def test_edge_lines_have_zone_and_cache(edges, guards, origin, pki, edge_pki, tmp_path):
    glog = str(tmp_path / "guard-access.log")
    elog = str(tmp_path / "edge-access.log")
    g = guards.start(origin.address, name="guard-behind-edge-log",
                     access_log={"path": glog, "format": "json"})
    zones = [zone("log.test", edge_pki.zone_cert("log.test"),
                  [record("www.log.test", "127.0.0.1:%d" % g.port)], origin_pull="global")]
    e = edges.start(zones, name="edge-access-log", access_log={"path": elog, "format": "json"},
                    client_certificate=edge_pki.client_pair(edge_pki.global_client))
    r = visit(e, edge_pki, "www.log.test", "/edge-path", headers=[("User-Agent", UA)])
    assert r.status == 200
    lines = json_lines(elog, 1)
    assert len(lines) == 1, lines
    x = lines[0]
    common_fields(x, "edge")
    assert (x["status"], x["method"], x["path"], x["host"]) == (200, "GET", "/edge-path",
                                                                "www.log.test"), x
    assert x["zone"] == "log.test" and x.get("cache"), x
    assert isinstance(x.get("origin_ms"), (int, float)), x
    assert x["tls"] == "TLSv1.3" and x["user_agent"] == UA and "client_cert" not in x, x
    glines = json_lines(glog, 1)
    assert len(glines) == 1, glines
    common_fields(glines[0], "guard")
    assert glines[0]["client_cert"] == plain_fp(edge_pki.global_client.info), glines[0]
    assert glines[0]["path"] == "/edge-path" and "zone" not in glines[0], glines[0]

    # A visitor's handshake the edge refuses (no certificate for the name)
    # writes no line either.
    a = attempt(e.port, client_context(edge_pki.visitor_ca.cert, check_hostname=False),
                sni="unknown.example")
    assert not a.got_http
    r = visit(e, edge_pki, "www.log.test", "/second")
    assert r.status == 200
    lines = json_lines(elog, 2)
    assert [x["path"] for x in lines] == ["/edge-path", "/second"], lines
