"""The concept's two diagrams, end to end.

With authenticated origin pulls: visitor -> pullgate edge (origin_pull
global) -> pullgate guard (trusting the edge CA) -> app. The visitor gets the
page and the app sees the guard's identity headers for the edge's global
certificate; an "external device" that connects straight to the guard
without a client certificate gets a failed handshake and no HTTP, and the app
never hears of it.

Without them: the edge (origin_pull off) pulls from a plain TLS origin that
asks for no certificate; the same external device connecting straight to that
origin gets the page. The two cases run as one parametrized test, so it fails
whichever way the stranger's outcome goes wrong.

A DNS-only record is not served by the edge, and its visitors, who go
straight to the origin, are refused by the guard like any stranger."""
import json

import pytest

from lib.app import header_values
from lib.client import attempt, client_context
from lib.edge import (GLOBAL_CLIENT, ORIGIN_NAME, TlsOrigin, handshake_error, plain_fp, record,
                      visit, visitor_context, zone)


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


@pytest.fixture(scope="module")
def open_origin(log_dir, edge_pki):
    """A TLS origin that asks for no client certificate."""
    o = TlsOrigin(log_dir, edge_pki.origin_valid, name="open-origin")
    yield o
    o.stop()


@pytest.fixture(scope="module")
def diagrams(module_edges, edge_pki, guard, open_origin):
    """One edge with both diagrams: zone a.test pulls from the guard with the
    global certificate, zone b.test pulls from the open origin without one.
    direct.a.test is a DNS-only record pointing at the guard."""
    zones = [
        zone("a.test", edge_pki.zone_a, [
            record("www.a.test", "127.0.0.1:%d" % guard.port),
            record("direct.a.test", "127.0.0.1:%d" % guard.port, proxied=False),
        ], ssl="full", origin_pull="global"),
        zone("b.test", edge_pki.zone_b, [
            record("www.b.test", open_origin.tls_address),
        ], ssl="full", origin_pull="off"),
    ]
    return module_edges.start(zones,
                              client_certificate=edge_pki.client_pair(edge_pki.global_client))


def stranger(port, pki, sni):
    """The external device: TLS to the origin's address, no certificate."""
    return attempt(port, client_context(pki.origin_ca.cert, None, "1.3"), sni=sni,
                   path="/headers", host=sni)


def test_with_aop_visitor_reaches_app_with_identity(diagrams, edge_pki, origin):
    before = origin.count()
    r = visit(diagrams, edge_pki, "www.a.test", "/headers")
    assert r.status == 200, (r.status, r.body[:300])
    h = json.loads(r.body)
    assert header_values(h, "X-Client-Verified") == ["SUCCESS"]
    subject = header_values(h, "X-Client-Subject")
    assert len(subject) == 1 and "CN=" + GLOBAL_CLIENT in subject[0], subject
    assert header_values(h, "X-Client-Fingerprint") == [plain_fp(edge_pki.global_client.info)]
    assert header_values(h, "Host") == ["www.a.test"]
    assert header_values(h, "CF-Connecting-IP") == ["127.0.0.1"]
    assert origin.count() == before + 1


def test_without_aop_visitor_reaches_origin(diagrams, edge_pki, open_origin):
    before = open_origin.count()
    r = visit(diagrams, edge_pki, "www.b.test", "/")
    assert r.status == 200, (r.status, r.body[:300])
    assert r.body == b"hello from origin\n"
    assert open_origin.count() == before + 1
    entry = open_origin.log(before)[-1]
    assert entry["tls"] and entry["tls"]["client_subject"] is None, entry


@pytest.mark.parametrize("aop", [True, False], ids=["with-aop", "without-aop"])
def test_stranger_gets_through_only_without_aop(diagrams, guard, origin, open_origin, pki, aop):
    """The external device's fate is the whole point: refused with
    authenticated pulls, served without them."""
    if aop:
        app, port, sni = origin, guard.port, "localhost"
    else:
        app, port, sni = open_origin, open_origin.tls_port, ORIGIN_NAME
    before = app.count()
    mark = guard.mark()
    a = stranger(port, pki, sni)
    if aop:
        assert not a.got_http, "the stranger got HTTP from the guard: %r" % a.received[:200]
        assert a.received == b""
        guard.wait_refusal("no certificate", mark)
        assert app.count() == before
    else:
        assert a.handshake_ok, a.handshake_error
        assert a.status == 200, a.received[:300]
        assert app.count() == before + 1


def test_dns_only_record_not_served_by_edge(diagrams, edge_pki, origin):
    before = origin.count()
    err = handshake_error(diagrams.port, "direct.a.test", visitor_context(edge_pki))
    assert err is not None and "UNRECOGNIZED_NAME" in err.upper(), err
    # Nor over a proxied name's connection: the Host is not a proxied record.
    r = visit(diagrams, edge_pki, "www.a.test", "/", host="direct.a.test")
    assert r.status == 421, r.status
    assert origin.count() == before


def test_dns_only_visitor_straight_to_guard_refused(diagrams, guard, origin, pki):
    """A DNS-only record's visitor resolves the origin's own address and
    connects there, without a client certificate."""
    before = origin.count()
    mark = guard.mark()
    a = attempt(guard.port, client_context(pki.origin_ca.cert, None, "1.3"), sni="localhost",
                host="direct.a.test")
    assert a.received == b"", a.received[:200]
    guard.wait_refusal("no certificate", mark)
    assert origin.count() == before
