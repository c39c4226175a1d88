"""Which client certificate an origin pull presents: the record's
(origin_pull: hostname), else the zone's (origin_pull: zone), else the
edge-wide one (origin_pull: global); none with origin_pull: off.

Checked at guards that each pin exactly one of the three certificates (by
sha256 or spki_sha256 as `pullgate pki inspect` prints them): a pull gets
through exactly where its certificate is the pinned one, and the app sees
that certificate's fingerprint. Two zones pulling from one guard each arrive
with their own zone's certificate, also interleaved over keep-alive
connections, and also when every pull resumes a TLS session: pools (and the
sessions they keep) are never shared between certificates."""
import json

import pytest

from lib.app import header_values
from lib.client import Conn
from lib.edge import TlsOrigin, plain_fp, record, visit, visitor_context, zone

SOURCES = ["global", "zone", "hostname"]


def client_of(edge_pki, source):
    return {"global": edge_pki.global_client, "zone": edge_pki.zone_a_client,
            "hostname": edge_pki.host_client}[source]


def pins_for(edge_pki, source):
    info = client_of(edge_pki, source).info
    # One pin style per guard, all three styles covered.
    if source == "global":
        return {"sha256": [info["sha256"]]}
    if source == "zone":
        return {"spki_sha256": [info["spki_sha256"]]}
    return {"spki_sha256": [info["spki_sha256_hex"]]}


@pytest.fixture(scope="module")
def pinned_guards(module_guards, origin, edge_pki):
    """One guard per source, pinning only that source's certificate."""
    return {s: module_guards.start(origin.address, name="guard-pin-" + s,
                                   pins=pins_for(edge_pki, s))
            for s in SOURCES}


def name_for(source, pin):
    """The record pulling with source's certificate from pin's guard."""
    return {"global": "pin-%s.g.test", "zone": "pin-%s.a.test",
            "hostname": "h-pin-%s.a.test"}[source] % pin


@pytest.fixture(scope="module")
def matrix_edge(module_edges, edge_pki, pinned_guards):
    def addr(pin):
        return "127.0.0.1:%d" % pinned_guards[pin].port
    host_pair = edge_pki.client_pair(edge_pki.host_client)
    zones = [
        zone("g.test", edge_pki.zone_cert("g.test"),
             [record(name_for("global", p), addr(p)) for p in SOURCES],
             origin_pull="global"),
        zone("a.test", edge_pki.zone_a,
             [record(name_for("zone", p), addr(p)) for p in SOURCES] +
             [record(name_for("hostname", p), addr(p), origin_pull="hostname",
                     client_certificate=host_pair) for p in SOURCES],
             origin_pull="zone", client_certificate=edge_pki.client_pair(edge_pki.zone_a_client)),
    ]
    return module_edges.start(zones, name="edge-matrix",
                              client_certificate=edge_pki.client_pair(edge_pki.global_client))


@pytest.mark.parametrize("pin", SOURCES)
@pytest.mark.parametrize("source", SOURCES)
def test_certificate_precedence_at_pinned_guard(matrix_edge, edge_pki, pinned_guards, origin,
                                                 source, pin):
    guard = pinned_guards[pin]
    before = origin.count()
    gmark, emark = guard.mark(), matrix_edge.mark()
    r = visit(matrix_edge, edge_pki, name_for(source, pin), "/headers")
    if source == pin:
        assert r.status == 200, (r.status, r.body[:300])
        h = json.loads(r.body)
        assert header_values(h, "X-Client-Fingerprint") == \
            [plain_fp(client_of(edge_pki, source).info)]
        assert origin.count() == before + 1
    else:
        assert r.status == 502, (r.status, r.body[:300])
        guard.wait_refusal("not pinned", gmark)
        matrix_edge.wait_upstream("origin refused our client certificate", emark)
        assert origin.count() == before


# -- two zones, one guard -------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_guard(module_guards, origin):
    return module_guards.start(origin.address, name="guard-shared")


def two_zones(edge_pki, origin_addr, **zone_kw):
    """Zones a.test and b.test, each with its own certificate, pulling from
    the same origin; off.a.test turns pulls off for itself."""
    return [
        zone("a.test", edge_pki.zone_a, [
            record("www.a.test", origin_addr),
            record("off.a.test", origin_addr, origin_pull="off"),
        ], origin_pull="zone", client_certificate=edge_pki.client_pair(edge_pki.zone_a_client),
            **zone_kw),
        zone("b.test", edge_pki.zone_b, [record("www.b.test", origin_addr)],
             origin_pull="zone", client_certificate=edge_pki.client_pair(edge_pki.zone_b_client),
             **zone_kw),
    ]


@pytest.fixture(scope="module")
def shared_edge(module_edges, edge_pki, shared_guard):
    return module_edges.start(two_zones(edge_pki, "127.0.0.1:%d" % shared_guard.port),
                              name="edge-shared")


def test_zones_interleaved_over_keep_alive(shared_edge, edge_pki, origin):
    expected = {"www.a.test": plain_fp(edge_pki.zone_a_client.info),
                "www.b.test": plain_fp(edge_pki.zone_b_client.info)}
    ctx = visitor_context(edge_pki)
    conns = {sni: Conn.tls(shared_edge.port, ctx, sni=sni) for sni in expected}
    try:
        before = origin.count()
        seen = []
        for i in range(6):
            for sni, conn in conns.items():
                r = conn.request("GET", "/headers?i=%d" % i, host=sni)
                assert r.status == 200, (sni, i, r.status, r.body[:300])
                fp = header_values(json.loads(r.body), "X-Client-Fingerprint")
                seen.append((sni, fp))
                assert fp == [expected[sni]], "request %d for %s arrived as %s" % (i, sni, fp)
        assert origin.count() == before + 12
    finally:
        for c in conns.values():
            c.close()


def test_record_with_pull_off_presents_no_certificate(shared_edge, shared_guard, edge_pki, origin):
    before = origin.count()
    gmark, emark = shared_guard.mark(), shared_edge.mark()
    r = visit(shared_edge, edge_pki, "off.a.test", "/")
    assert r.status == 502, (r.status, r.body[:300])
    m = shared_edge.wait_upstream("origin refused our client certificate", emark)
    assert "pull off" in m.group("pool"), m.string
    shared_guard.wait_refusal("no certificate", gmark)
    assert origin.count() == before
    # ...and the zone's certificate is still presented for its other record.
    r = visit(shared_edge, edge_pki, "www.a.test", "/")
    assert r.status == 200


# -- pools and resumed sessions, seen from the origin's side ----------------------------

@pytest.fixture(scope="module")
def counting_origin(log_dir, edge_pki, pki):
    """A TLS origin that requires a certificate from the edge CA and records
    the subject and resumption of the connection each request came over."""
    o = TlsOrigin(log_dir, edge_pki.origin_valid, client_ca=pki.edge_ca.cert,
                  name="tls-origin-counting")
    yield o
    o.stop()


@pytest.mark.parametrize("pool_size", [32, 0], ids=["keep-alive", "new-connection-each-pull"])
def test_pools_and_sessions_not_shared(module_edges, edge_pki, counting_origin, pool_size):
    """With keep-alive each pool opens one connection; with no idle
    connections kept every pull handshakes again and resumes its pool's
    session. Either way each request arrives with its own zone's
    certificate, never the other zone's."""
    e = module_edges.start(two_zones(edge_pki, counting_origin.tls_address),
                           name="edge-pool-%d" % pool_size, pool={"size": pool_size})
    o = counting_origin
    before, tls_before = o.count(), o.tls_counts()
    ctx = visitor_context(edge_pki)
    subjects = {"www.a.test": "CN=zone-a.example", "www.b.test": "CN=zone-b.example"}
    conns = {sni: Conn.tls(e.port, ctx, sni=sni) for sni in subjects}
    rounds = 4
    try:
        for i in range(rounds):
            for sni, conn in conns.items():
                r = conn.request("GET", "/?i=%d" % i, host=sni)
                assert r.status == 200, (sni, i, r.status, r.body[:300])
    finally:
        for c in conns.values():
            c.close()
    entries = o.log(before)
    assert len(entries) == 2 * rounds
    for entry in entries:
        host = dict((k.lower(), v) for k, v in entry["headers"])["host"]
        assert entry["tls"]["client_subject"] == subjects[host], entry
    tls = o.tls_counts()
    handshakes = tls["handshakes"] - tls_before["handshakes"]
    resumed = tls["resumed"] - tls_before["resumed"]
    if pool_size:
        assert handshakes == 2, tls
        assert resumed == 0, tls
    else:
        assert handshakes == 2 * rounds, tls
        # The first pull of each pool is a full handshake; every later one
        # resumes that pool's session.
        assert resumed == 2 * (rounds - 1), tls
        firsts = {}
        for entry in entries:
            host = dict((k.lower(), v) for k, v in entry["headers"])["host"]
            firsts.setdefault(host, entry["tls"]["resumed"])
        assert firsts == {"www.a.test": False, "www.b.test": False}, firsts


def test_pools_per_origin_sni(module_edges, edge_pki, counting_origin):
    """Two records of one zone pulling from the same origin address with
    different origin_sni use two pools: each request arrives over a
    connection made with its own record's SNI, interleaved over keep-alive;
    a record naming the origin by IP sends no SNI at all."""
    o = counting_origin
    addr = o.tls_address
    zones = [zone("a.test", edge_pki.zone_a, [
        record("one.a.test", addr, origin_sni="one.origin.test"),
        record("two.a.test", addr, origin_sni="two.origin.test"),
        record("ip.a.test", addr),
    ], origin_pull="zone", client_certificate=edge_pki.client_pair(edge_pki.zone_a_client))]
    e = module_edges.start(zones, name="edge-sni-pools")
    expected = {"one.a.test": "one.origin.test", "two.a.test": "two.origin.test",
                "ip.a.test": None}
    before, tls_before = o.count(), o.tls_counts()
    with Conn.tls(e.port, visitor_context(edge_pki), sni="one.a.test") as c:
        for i in range(3):
            for host in expected:
                assert c.request("GET", "/?i=%d" % i, host=host).status == 200
    entries = o.log(before)
    assert len(entries) == 9
    for entry in entries:
        host = dict((k.lower(), v) for k, v in entry["headers"])["host"]
        assert entry["tls"]["sni"] == expected[host], entry
    assert o.tls_counts()["handshakes"] - tls_before["handshakes"] == 3
