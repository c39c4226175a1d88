"""Honest failures: each way an origin pull can fail gets its own status (the
standard 502/504, or Cloudflare's 52x where a zone asks for them) and its own
log line "upstream <pool>: <reason>".

  origin down (closed port)            502 / 521  connection refused
  TCP connect never completes          504 / 522  connect timeout
  TLS handshake never answered         504 / 522  connect timeout
  origin slower than origin_response   504 / 524  response timeout
  origin refuses our certificate       502 / 525  origin refused our client certificate
  (TLS 1.3 guard and TLS 1.2 / 1.3 origins; untrusted certificate or none)
  strict, invalid origin certificate   502 / 526  origin certificate failed verification

The "TCP connect never completes" origin is a listening socket with backlog 0
whose one accept-queue slot is taken (checked in /proc/net/tcp before the
pull): Linux then drops further SYNs, deterministically."""
import socket

import pytest

from lib import ports, waiting
from lib.edge import TlsOrigin, record, visit, zone

CODES = {
    "connection refused": (502,
                      521), "connect timeout": (504, 522), "response timeout": (504, 524),
                      "origin refused our client certificate": (502, 525),
                      "origin certificate failed verification": (502, 526),
                      }


def _accept_queue_len(port):
    """(queued,
                      max) of the LISTEN socket on 127.0.0.1:port,
                      from /proc/net/tcp."""
    local = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A":
                tx, rx = fields[4].split(":")
                return int(rx, 16), int(tx, 16)
    return None


class FullBacklog:
    """A listener whose accept queue is full: SYNs to it are dropped."""

    def __init__(self):
        self.port = ports.free_port()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(0)
        self.filler = socket.socket()
        self.filler.setblocking(False)
        self.filler.connect_ex(("127.0.0.1", self.port))

        def full():
            q = _accept_queue_len(self.port)
            return q is not None and q[0] > q[1]
        waiting.wait_for(full, 5, "the accept queue of port %d to be full" % self.port)

    def close(self):
        self.filler.close()
        self.listener.close()


class SilentListener:
    """Accepts TCP connections (the kernel does) and never says a word."""

    def __init__(self):
        self.port = ports.free_port()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)

    def close(self):
        self.listener.close()


@pytest.fixture(scope="module")
def targets(log_dir, edge_pki, pki, module_guards, origin):
    t = {
        "down": "127.0.0.1:%d" % ports.free_port(),  # never bound
        "backlog": FullBacklog(),
        "silent": SilentListener(),
        "slow": TlsOrigin(log_dir, edge_pki.origin_valid, name="tls-origin-slow"),
        "guard-other-ca": module_guards.start(origin.address, name="guard-other-ca",
                                              trust={"ca": [pki.other_ca.cert], "crl": None}),
        "guard": module_guards.start(origin.address, name="guard-edge-ca"),
        "py12-other-ca": TlsOrigin(log_dir, edge_pki.origin_valid, client_ca=pki.other_ca.cert,
                                   tls_max="1.2", name="tls12-other-ca"),
        "py12": TlsOrigin(log_dir, edge_pki.origin_valid, client_ca=pki.edge_ca.cert,
                          tls_max="1.2", name="tls12-edge-ca"),
        "py13-other-ca": TlsOrigin(log_dir, edge_pki.origin_valid, client_ca=pki.other_ca.cert,
                                   name="tls13-other-ca"),
        "py13": TlsOrigin(log_dir, edge_pki.origin_valid, client_ca=pki.edge_ca.cert,
                          name="tls13-edge-ca"),
        "expired": TlsOrigin(log_dir, edge_pki.origin_expired, name="tls-origin-expired-f"),
    }
    yield t
    for v in t.values():
        if hasattr(v, "close"):
            v.close()
        elif isinstance(v, TlsOrigin):
            v.stop()


def addr_of(t):
    if isinstance(t, str):
        return t
    if isinstance(t, TlsOrigin):
        return t.tls_address
    return "127.0.0.1:%d" % t.port


@pytest.fixture(scope="module")
def edge(module_edges, edge_pki, pki, targets):
    """Zones std.test / cf.test (ssl full) and strict.test / strict-cf.test
    with the same records; cf zones use Cloudflare's codes."""
    zones = []
    for codes in ("std", "cf"):
        extra = {"error_codes": "cloudflare"} if codes == "cf" else {}
        recs = [record("%s.%s.test" % (k, codes), addr_of(targets[k]))
                for k in ("down", "backlog", "silent", "slow", "guard-other-ca", "py12-other-ca",
                          "py13-other-ca")]
        for k in ("guard", "py12", "py13"):
            recs.append(record("nocert-%s.%s.test" % (k, codes), addr_of(targets[k]),
                               origin_pull="off"))
        name = "%s.test" % codes
        zones.append(zone(name, edge_pki.zone_cert(name), recs, ssl="full", origin_pull="global",
                          **extra))
        sname = "strict-%s.test" % codes
        zones.append(zone(sname, edge_pki.zone_cert(sname),
                          [record("expired.%s" % sname, addr_of(targets["expired"]),
                                  origin_sni="origin.test")],
                          ssl="strict", origin_ca=pki.origin_ca.cert, **extra))
    return module_edges.start(
        zones, client_certificate=edge_pki.client_pair(edge_pki.global_client),
        timeouts={"origin_connect": "700ms", "origin_response": "1s"})


def check_failure(edge, edge_pki, sni, reason, codes, path="/"):
    mark = edge.mark()
    r = visit(edge, edge_pki, sni, path)
    expected = CODES[reason][0 if codes == "std" else 1]
    assert r.status == expected, (sni, r.status, r.body[:300], edge.upstream_lines(mark))
    assert b"hello from origin" not in r.body
    return edge.wait_upstream(reason, mark)


CODE_SETS = ["std", "cf"]


@pytest.mark.parametrize("codes", CODE_SETS)
def test_origin_down(edge, edge_pki, codes):
    check_failure(edge, edge_pki, "down.%s.test" % codes, "connection refused", codes)


@pytest.mark.parametrize("codes", CODE_SETS)
@pytest.mark.parametrize("target", ["backlog", "silent"], ids=["syn-dropped", "no-server-hello"])
def test_connect_timeout(edge, edge_pki, targets, target, codes):
    if target == "backlog":
        q = _accept_queue_len(targets["backlog"].port)
        assert q is not None and q[0] > q[1], "accept queue no longer full: %s" % (q,)
    check_failure(edge, edge_pki, "%s.%s.test" % (target, codes), "connect timeout", codes)


@pytest.mark.parametrize("codes", CODE_SETS)
def test_response_timeout(edge, edge_pki, targets, codes):
    o = targets["slow"]
    before = o.count()
    check_failure(edge, edge_pki, "slow.%s.test" % codes, "response timeout", codes,
                  path="/slow/4")
    assert o.count() == before + 1  # it got there, just too slowly


REFUSERS = [
    ("guard-other-ca", "unknown CA"),
    ("py12-other-ca", None),
    ("py13-other-ca", None),
    ("nocert-guard", "no certificate"),
    ("nocert-py12", None),
    ("nocert-py13", None),
]


@pytest.mark.parametrize("codes", CODE_SETS)
@pytest.mark.parametrize("who,guard_reason", REFUSERS, ids=[r[0] for r in REFUSERS])
def test_origin_refuses_certificate(edge, edge_pki, targets, origin, who, guard_reason, codes):
    """Untrusted certificate (the origin trusts another CA) or none (pull
    off), at the guard (TLS 1.3) and at TLS 1.2 / 1.3 origins that require
    a client certificate."""
    target = targets[who.replace("nocert-", "")]
    app = origin if "guard" in who else target
    before = app.count()
    gmark = target.mark() if guard_reason else None
    tls_before = None if guard_reason else target.tls_counts()
    m = check_failure(edge, edge_pki, "%s.%s.test" % (who, codes),
                      "origin refused our client certificate", codes)
    assert "origin sent alert" in m.string, m.string
    if guard_reason:
        target.wait_refusal(guard_reason, gmark)
    else:
        tls = target.wait_refused(tls_before)
        assert tls["refused"] == tls_before["refused"] + 1, tls
        assert tls["handshakes"] == tls_before["handshakes"], tls
    assert app.count() == before


@pytest.mark.parametrize("codes", CODE_SETS)
def test_strict_invalid_origin_certificate(edge, edge_pki, targets, codes):
    o = targets["expired"]
    before = o.count()
    m = check_failure(edge, edge_pki, "expired.strict-%s.test" % codes,
                      "origin certificate failed verification", codes)
    assert "certificate has expired" in m.string
    assert o.count() == before
