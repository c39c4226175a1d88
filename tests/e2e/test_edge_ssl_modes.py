"""SSL modes: how the edge pulls, against origins with a valid, an expired,
a wrong-host and a self-signed certificate (tls_origin.py), and a plain one.

off, flexible   plain HTTP to the origin: a plain origin serves it, a TLS
                origin sees an HTTP request where a ClientHello belongs
full            TLS without verification: all four TLS origins serve it; a
                plain origin fails the handshake
strict          TLS verified against origin_ca and origin_sni (or the IP):
                only the valid certificate passes; the three others get 502
                (526 with error_codes: cloudflare), "origin certificate failed
                verification" in the log, and the origin receives nothing"""
import pytest

from lib.edge import ORIGIN_NAME, TlsOrigin, record, visit, zone

KINDS = ["valid", "expired", "wronghost", "selfsigned"]

# What OpenSSL says about each bad certificate in strict mode.
VERIFY_DETAIL = {
    "expired": "certificate has expired",
    "wronghost": "hostname mismatch",
    "selfsigned": "self-signed certificate",
}


@pytest.fixture(scope="module")
def tls_origins(log_dir, edge_pki):
    out = {k: TlsOrigin(log_dir, getattr(edge_pki, "origin_" + k), name="tls-origin-" + k)
           for k in KINDS}
    yield out
    for o in out.values():
        o.stop()


@pytest.fixture(scope="module")
def edge(module_edges, edge_pki, pki, origin, tls_origins):
    """Zone per mode; in each, one record per origin: KIND.MODE.test points at
    that TLS origin, plain.MODE.test at the plain app."""
    zones = []
    for mode in ("off", "flexible", "full", "strict", "strict-cf"):
        name = mode + ".test"
        recs = [record("plain.%s" % name, origin.address)]
        extra = {}
        for kind, o in tls_origins.items():
            kw = {"origin_sni": ORIGIN_NAME} if mode.startswith("strict") else {}
            recs.append(record("%s.%s" % (kind, name), o.tls_address, **kw))
        if mode.startswith("strict"):
            # Verified by IP address: no origin_sni, the certificate's IP SAN.
            recs.append(record("ip.%s" % name, tls_origins["valid"].tls_address))
            recs.append(record("ipwrong.%s" % name, tls_origins["wronghost"].tls_address))
            extra["origin_ca"] = pki.origin_ca.cert
        if mode == "strict-cf":
            extra["error_codes"] = "cloudflare"
        zones.append(zone(name, edge_pki.zone_cert(name), recs,
                          ssl=mode.replace("-cf", ""), **extra))
    return module_edges.start(zones)


@pytest.mark.parametrize("mode", ["off", "flexible"])
def test_plain_modes_pull_plain_http(edge, edge_pki, origin, mode):
    before = origin.count()
    r = visit(edge, edge_pki, "plain.%s.test" % mode, "/headers")
    assert r.status == 200, (r.status, r.body[:300])
    assert origin.count() == before + 1
    entry = origin.log(before)[-1]
    headers = {k.lower(): v for k, v in entry["headers"]}
    assert headers["host"] == "plain.%s.test" % mode
    assert headers["x-forwarded-proto"] == "https"  # the visitor's scheme, not the pull's


@pytest.mark.parametrize("mode", ["off", "flexible"])
def test_plain_modes_do_not_speak_tls_to_origin(edge, edge_pki, tls_origins, mode):
    """Pointed at a TLS port, a plain-mode pull arrives as an HTTP request in
    place of a ClientHello: the origin refuses it, the visitor gets 502."""
    o = tls_origins["valid"]
    before, tls_before = o.count(), o.tls_counts()
    mark = edge.mark()
    r = visit(edge, edge_pki, "valid.%s.test" % mode, "/")
    assert r.status == 502, (r.status, r.body[:300])
    edge.wait_upstream("bad response", mark)
    after = o.wait_refused(tls_before)
    assert after["handshakes"] == tls_before["handshakes"]
    assert any("HTTP_REQUEST" in e for e in after["errors"][len(tls_before["errors"]):]), after
    assert o.count() == before


@pytest.mark.parametrize("kind", KINDS)
def test_full_accepts_any_origin_certificate(edge, edge_pki, tls_origins, kind):
    o = tls_origins[kind]
    before = o.count()
    r = visit(edge, edge_pki, "%s.full.test" % kind, "/")
    assert r.status == 200, (r.status, r.body[:300])
    assert r.body == b"hello from origin\n"
    assert o.count() == before + 1
    assert o.log(before)[-1]["tls"]["version"] == "TLSv1.3"


def test_full_does_not_pull_plain_http(edge, edge_pki, origin):
    before = origin.count()
    mark = edge.mark()
    r = visit(edge, edge_pki, "plain.full.test", "/")
    assert r.status == 502, (r.status, r.body[:300])
    edge.wait_upstream("tls handshake failed", mark)
    assert origin.count() == before


def test_strict_accepts_valid_certificate(edge, edge_pki, tls_origins):
    o = tls_origins["valid"]
    for sni in ("valid.strict.test", "ip.strict.test"):
        before = o.count()
        r = visit(edge, edge_pki, sni, "/")
        assert r.status == 200, (sni, r.status, r.body[:300])
        assert o.count() == before + 1


@pytest.mark.parametrize("codes,status", [("standard", 502), ("cloudflare", 526)])
@pytest.mark.parametrize("kind", ["expired", "wronghost", "selfsigned"])
def test_strict_refuses_invalid_certificate(edge, edge_pki, tls_origins, kind, codes, status):
    zone_name = "strict.test" if codes == "standard" else "strict-cf.test"
    o = tls_origins[kind]
    before = o.count()
    mark = edge.mark()
    r = visit(edge, edge_pki, "%s.%s" % (kind, zone_name), "/")
    assert r.status == status, (r.status, r.body[:300])
    assert b"hello from origin" not in r.body
    m = edge.wait_upstream("origin certificate failed verification", mark)
    line = m.string
    assert VERIFY_DETAIL[kind] in line, line
    assert "strict" in m.group("pool"), line
    assert o.count() == before


def test_strict_verifies_ip_when_no_sni(edge, edge_pki, tls_origins):
    """Without origin_sni the origin's IP address is what strict verifies:
    the valid certificate has it as a SAN (ip.strict.test passes above); the
    wrong-host certificate, pulled the same way, does not."""
    o = tls_origins["wronghost"]
    before = o.count()
    mark = edge.mark()
    r = visit(edge, edge_pki, "ipwrong.strict.test", "/")
    assert r.status == 502, (r.status, r.body[:300])
    m = edge.wait_upstream("origin certificate failed verification", mark)
    assert "IP address mismatch" in m.string, m.string
    assert o.count() == before


@pytest.mark.parametrize("edge_ca,zone_ca,ok", [
    ("origin", None, True),      # the zone inherits the edge's bundle
    ("other", "origin", True),   # the zone's bundle wins over the edge's
    ("origin", "other", False),
    (None, None, False),         # the system bundle does not know the test CA
], ids=["edge-bundle", "zone-over-edge", "zone-other-ca", "system-bundle"])
def test_strict_bundle_precedence(module_edges, edge_pki, pki, tls_origins, edge_ca, zone_ca, ok):
    cas = {"origin": pki.origin_ca.cert, "other": pki.other_ca.cert}
    extra = {"origin_ca": cas[zone_ca]} if zone_ca else {}
    top = {"origin_ca": cas[edge_ca]} if edge_ca else {}
    e = module_edges.start([zone("bundle.test", edge_pki.zone_cert("bundle.test"),
                                 [record("www.bundle.test", tls_origins["valid"].tls_address,
                                         origin_sni=ORIGIN_NAME)],
                                 ssl="strict", **extra)], name="edge-bundle", **top)
    o = tls_origins["valid"]
    before = o.count()
    mark = e.mark()
    r = visit(e, edge_pki, "www.bundle.test", "/")
    if ok:
        assert r.status == 200, (r.status, r.body[:300], e.upstream_lines(mark))
        assert o.count() == before + 1
    else:
        assert r.status == 502, (r.status, r.body[:300])
        m = e.wait_upstream("origin certificate failed verification", mark)
        assert "unable to get local issuer certificate" in m.string, m.string
        assert o.count() == before
