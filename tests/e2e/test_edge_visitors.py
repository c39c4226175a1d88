"""The visitor side of `pullgate edge`: the certificate chosen by SNI (the
record's own, else its zone's; a wildcard record), unrecognized_name for
names the edge does not serve, 421 for a Host outside the SNI's zone, the
plain listener (301 to https for always_https zones, proxied with
X-Forwarded-Proto http otherwise), the headers an origin receives, and
`pullgate check` on edge configurations."""
import re
import subprocess

import pytest

from lib.app import OriginApp, header_values
from lib.client import Conn
from lib.edge import (handshake_error, record, served_certificate, visit, visit_plain,
                      visitor_context, zone)
from lib.ports import free_port


@pytest.fixture(scope="module")
def exact_origin(log_dir):
    """A second app, behind the one exact record that a wildcard also covers."""
    app = OriginApp(log_dir, name="origin-app-exact")
    yield app
    app.stop()


@pytest.fixture(scope="module")
def edge(module_edges, edge_pki, origin, exact_origin):
    o = origin.address
    zones = [
        zone("a.test", edge_pki.zone_a, [
            record("www.a.test", o),
            record("special.a.test", o, certificate=edge_pki.special_a.cert,
                   key=edge_pki.special_a.key),
            record("direct.a.test", o, proxied=False),
        ], ssl="flexible", always_https=True),
        zone("b.test", edge_pki.zone_b, [record("www.b.test", o)], ssl="flexible"),
        zone("c.test", edge_pki.zone_c, [
            record("*.c.test", o),
            record("exact.c.test", exact_origin.address),
        ], ssl="flexible"),
    ]
    return module_edges.start(zones, plain=True)


# -- certificates by SNI ------------------------------------------------------------

@pytest.mark.parametrize("sni,cn,san", [
    ("www.a.test", "a.test", "*.a.test"),
    ("special.a.test", "special.a.test", "special.a.test"),
    ("www.b.test", "b.test", "*.b.test"),
    ("anything.c.test", "c.test", "*.c.test"),
])
def test_sni_selects_certificate(edge, edge_pki, sni, cn, san):
    got_cn, sans = served_certificate(edge.port, sni, edge_pki)
    assert got_cn == cn, (sni, got_cn, sans)
    assert san in sans, (sni, sans)


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_sni_any_case_and_versions(edge, edge_pki, version):
    ctx = visitor_context(edge_pki, version=version)
    with Conn.tls(edge.port, ctx, sni="WWW.B.Test") as c:
        assert c.sock.version() == "TLSv" + version
        r = c.request("GET", "/", host="www.b.test:%d" % edge.port)
    assert r.status == 200, r.status


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_resumed_session_follows_the_sni(edge, edge_pki, origin, version):
    """A visitor resumes its session (stateless tickets). Offered with
    another zone's SNI, a session from zone a.test must not carry the
    connection into a.test: the connection belongs to the SNI's zone
    (RFC 6066 section 3 has a TLS 1.2 server refuse such a resumption and
    make a full handshake)."""
    ctx = visitor_context(edge_pki, version=version, check_hostname=False)
    with Conn.tls(edge.port, ctx, sni="www.a.test") as c:
        assert c.request("GET", "/", host="www.a.test").status == 200
        session = c.session()
    with Conn.tls(edge.port, ctx, sni="www.a.test", session=session) as c:
        assert c.sock.session_reused, "the edge did not resume its own session"
        assert c.request("GET", "/", host="www.a.test").status == 200
    with Conn.tls(edge.port, ctx, sni="www.b.test", session=session) as c:
        reused = c.sock.session_reused
        r = c.request("GET", "/", host="www.b.test")
    assert r.status == 200, "SNI www.b.test, Host www.b.test: %d (session resumed: %s)" % (
        r.status, reused)
    before = origin.count()
    with Conn.tls(edge.port, ctx, sni="www.b.test", session=session) as c:
        r = c.request("GET", "/", host="www.a.test")
    assert r.status == 421, "SNI www.b.test, Host www.a.test: %d" % r.status
    assert origin.count() == before


def test_wildcard_record(edge, edge_pki, origin, exact_origin):
    for sni in ("one.c.test", "two.c.test"):
        before = origin.count()
        r = visit(edge, edge_pki, sni, "/headers")
        assert r.status == 200, (sni, r.status)
        assert origin.count() == before + 1
        assert origin.log(before)[-1]["path"] == "/headers"
        assert header_values(origin.log(before)[-1]["headers"], "Host") == [sni]
    # The exact record wins over the wildcard.
    before, exact_before = origin.count(), exact_origin.count()
    r = visit(edge, edge_pki, "exact.c.test", "/")
    assert r.status == 200
    assert exact_origin.count() == exact_before + 1
    assert origin.count() == before


@pytest.mark.parametrize("sni", [
    "unknown.example",        # no zone
    "nosuch.a.test",          # a zone, no record
    "deep.one.c.test",        # '*' covers one label only
    "c.test",                 # nor the zone's apex
    "direct.a.test",          # DNS-only
    None,                     # no SNI at all
], ids=["unknown", "zone-no-record", "two-labels-under-wildcard", "apex", "dns-only", "no-sni"])
def test_unserved_name_gets_unrecognized_name(edge, edge_pki, sni):
    mark = edge.mark()
    err = handshake_error(edge.port, sni, visitor_context(edge_pki, check_hostname=False))
    assert err is not None, "handshake completed for SNI %r" % sni
    assert "UNRECOGNIZED_NAME" in err.upper(), err
    line = edge.proc.wait_line(r"visitor tls refused", since=mark)
    assert "unrecognized_name" in line, line


# -- Host within the SNI's zone ----------------------------------------------------------

@pytest.mark.parametrize("host,status", [
    ("www.b.test", 421),        # another zone's record
    ("nosuch.a.test", 421),     # no such record
    ("direct.a.test", 421),     # DNS-only
    ("special.a.test", 200),    # another record of the same zone
    ("WWW.A.TEST", 200),        # names compare without case
])
def test_host_must_be_a_record_of_the_sni_zone(edge, edge_pki, origin, host, status):
    before = origin.count()
    r = visit(edge, edge_pki, "www.a.test", "/", host=host)
    assert r.status == status, (host, r.status, r.body[:200])
    assert origin.count() == before + (1 if status == 200 else 0)


def test_keep_alive_cannot_switch_zone(edge, edge_pki, origin):
    with Conn.tls(edge.port, visitor_context(edge_pki), sni="www.a.test") as c:
        assert c.request("GET", "/", host="www.a.test").status == 200
        before = origin.count()
        r = c.request("GET", "/", host="www.b.test")
        assert r.status == 421
    assert origin.count() == before


# -- the plain listener ----------------------------------------------------------------

@pytest.mark.parametrize("target,host", [
    ("/some/path?q=1", "www.a.test"),
    ("/some/path?q=1", "www.a.test:80"),
    ("http://www.a.test/some/path?q=1", "www.a.test"),   # absolute-form (RFC 9112 3.2.2)
], ids=["origin-form", "host-with-port", "absolute-form"])
def test_plain_always_https_redirects(edge, origin, target, host):
    before = origin.count()
    r = visit_plain(edge, target, host=host)
    assert r.status == 301, (r.status, r.body[:200])
    assert r.header("Location") == "https://www.a.test:%d/some/path?q=1" % edge.port
    assert origin.count() == before


def test_plain_without_always_https_is_proxied(edge, origin):
    before = origin.count()
    r = visit_plain(edge, "/headers", host="www.b.test",
                    headers=[("X-Forwarded-Proto", "https")])
    assert r.status == 200, (r.status, r.body[:200])
    assert origin.count() == before + 1
    h = origin.log(before)[-1]["headers"]
    assert header_values(h, "X-Forwarded-Proto") == ["http"]
    assert header_values(h, "Host") == ["www.b.test"]


def test_plain_unknown_host(edge, origin):
    before = origin.count()
    r = visit_plain(edge, "/", host="unknown.example")
    assert r.status == 421
    assert origin.count() == before


# -- headers at the origin -----------------------------------------------------------------

def test_headers_at_origin(edge, edge_pki, origin):
    before = origin.count()
    r = visit(edge, edge_pki, "www.b.test", "/headers", headers=[
        ("X-Forwarded-For", "203.0.113.7"),
        ("CF-Connecting-IP", "198.51.100.66"),
        ("cf-connecting-ip", "198.51.100.67"),
        ("X-Forwarded-Proto", "gopher"),
        ("X-Custom", "kept"),
    ])
    assert r.status == 200
    h = origin.log(before)[-1]["headers"]
    assert header_values(h, "Host") == ["www.b.test"]
    assert header_values(h, "X-Forwarded-For") == ["203.0.113.7, 127.0.0.1"]
    assert header_values(h, "CF-Connecting-IP") == ["127.0.0.1"]
    assert header_values(h, "X-Forwarded-Proto") == ["https"]
    assert header_values(h, "Via") == ["1.1 pullgate"]
    assert header_values(h, "X-Custom") == ["kept"]


def test_x_forwarded_for_split_over_lines(edge, edge_pki, origin):
    """Two X-Forwarded-For lines are one list (RFC 9110 5.3): the visitor's
    address is appended once, at its end."""
    before = origin.count()
    r = visit(edge, edge_pki, "www.b.test", "/headers", headers=[
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "198.51.100.2"),
    ])
    assert r.status == 200
    values = header_values(origin.log(before)[-1]["headers"], "X-Forwarded-For")
    assert ", ".join(values) == "203.0.113.7, 198.51.100.2, 127.0.0.1", values


def test_connecting_ip_header_renamed(module_edges, edge_pki, origin):
    e = module_edges.start([zone("b.test", edge_pki.zone_b, [record("www.b.test", origin.address)],
                                 ssl="flexible")],
                           name="edge-true-client-ip", connecting_ip_header="True-Client-IP")
    before = origin.count()
    r = visit(e, edge_pki, "www.b.test", "/headers", headers=[("True-Client-IP", "198.51.100.1")])
    assert r.status == 200
    h = origin.log(before)[-1]["headers"]
    assert header_values(h, "True-Client-IP") == ["127.0.0.1"]
    assert header_values(h, "CF-Connecting-IP") == []
    assert header_values(h, "X-Forwarded-For") == ["127.0.0.1"]


# -- pullgate check ----------------------------------------------------------------------------

BAD = """\
edge:
  listen: [127.0.0.1:99999]
  no_such_key: 1
  connecting_ip_header: Content-Length
  timeouts:
    origin_connect: soon
  zones:
    - name: a.test
      certificate: {zc}
      key: {zk}
      origin_pull: global
      records:
        - name: www.a.test
          origin: 127.0.0.1:8080
        - name: www.b.test
          origin: 127.0.0.1:8080
    - name: c.test
      ssl: sometimes
      records:
        - name: x.c.test
          origin: 127.0.0.1:8080
"""
# port out of range, unknown key, a framing header for the visitor's IP, bad
# duration, origin_pull global without edge.client_certificate, a record
# outside its zone, unknown ssl mode, a proxied record without a visitor
# certificate.
BAD_LINES = {2, 3, 4, 6, 11, 15, 18, 20}


def run(binary, *args):
    return subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=30)


def error_lines(text, name):
    out = {}
    for m in re.finditer(r"^(?:.*/)?%s:(\d+): (.+)$" % re.escape(name), text, re.M):
        out.setdefault(int(m.group(1)), m.group(2))
    return out


def test_check_valid_edge_config(pullgate_bin, edge):
    r = run(pullgate_bin, "check", "-c", edge.config_path)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout, r.stdout


def test_check_reports_every_error_with_its_line(pullgate_bin, edge_pki, tmp_path):
    p = tmp_path / "bad-edge.yaml"
    p.write_text(BAD.format(zc=edge_pki.zone_a.cert, zk=edge_pki.zone_a.key))
    for cmd in ("check", "edge"):
        r = run(pullgate_bin, cmd, "-c", str(p))
        assert r.returncode == 2, (cmd, r.returncode, r.stderr)
        found = error_lines(r.stderr, "bad-edge.yaml")
        assert set(found) == BAD_LINES, "%s: error lines %s, expected %s\n%s" % (
            cmd, sorted(found), sorted(BAD_LINES), r.stderr)
        assert "configuration ok" not in r.stdout


PULL_WITHOUT_TLS = """\
edge:
  listen: [127.0.0.1:{port}]
  zones:
    - name: a.test
      certificate: {zc}
      key: {zk}
      ssl: {ssl}
      records:
        - name: www.a.test
          origin: 127.0.0.1:8080
          origin_pull: hostname
          client_certificate:
            certificate: {hc}
            key: {hk}
"""


@pytest.mark.parametrize("ssl,ok", [("flexible", False), ("off", False), ("full", True),
                                    ("strict", True)])
def test_origin_pull_needs_tls_to_origin(pullgate_bin, edge_pki, tmp_path, ssl, ok):
    p = tmp_path / "pull.yaml"
    p.write_text(PULL_WITHOUT_TLS.format(port=free_port(), zc=edge_pki.zone_a.cert,
                                         zk=edge_pki.zone_a.key, ssl=ssl,
                                         hc=edge_pki.host_client.cert,
                                         hk=edge_pki.host_client.key))
    r = run(pullgate_bin, "check", "-c", str(p))
    if ok:
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 2, (r.returncode, r.stderr)
    found = error_lines(r.stderr, "pull.yaml")
    assert set(found) == {11}, r.stderr
    assert "origin_pull" in found[11] and "ssl full or strict" in found[11], found[11]



ZONE_PULL_WITHOUT_TLS = """\
edge:
  listen: [127.0.0.1:{port}]
  client_certificate:
    certificate: {gc}
    key: {gk}
  zones:
    - name: a.test
      certificate: {zc}
      key: {zk}
      ssl: flexible
      origin_pull: global
      records:
        - name: www.a.test
          origin: 127.0.0.1:8080
          origin_pull: "off"
"""


def test_zone_origin_pull_needs_tls_to_origin(pullgate_bin, edge_pki, tmp_path):
    """docs/edge.conf.md: "Authenticated origin pulls with ssl: off or ssl:
    flexible is an error". Here the zone asks for them with ssl: flexible;
    its only record happens to turn them off for itself."""
    p = tmp_path / "zone-pull.yaml"
    p.write_text(ZONE_PULL_WITHOUT_TLS.format(
        port=free_port(), gc=edge_pki.global_client.cert, gk=edge_pki.global_client.key,
        zc=edge_pki.zone_a.cert, zk=edge_pki.zone_a.key))
    r = run(pullgate_bin, "check", "-c", str(p))
    assert r.returncode == 2, "accepted: %s%s" % (r.stdout, r.stderr)
    found = error_lines(r.stderr, "zone-pull.yaml")
    assert any("origin_pull" in m and "ssl full or strict" in m for m in found.values()), r.stderr
