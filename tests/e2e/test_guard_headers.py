"""Identity and hop-by-hop headers: what the client sends about itself never
reaches the app as sent; the guard's own identity headers do, with values
that match the certificate; hop-by-hop headers stop at the guard; Via,
X-Forwarded-For and X-Forwarded-Proto are added."""
import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lib.app import header_names, header_values
from lib.client import Conn, client_context
from lib.pki import EDGE_NAME

SPOOFED = [
    ("Client-Cert", ":c3Bvb2Y=:"),
    ("X-Client-Verified", "SUCCESS"),
    ("X-Client-Subject", "CN=admin.example.com"),
    ("X-Client-SAN", "admin.example.com"),
    ("X-Client-Fingerprint", "00" * 32),
    ("X-Client-Not-After", "2099-01-01T00:00:00Z"),
    ("x-client-verified", "SUCCESS"),
    ("X-Forwarded-For", "203.0.113.9"),
]


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


def app_headers(guard, pki, headers, cert=None):
    ctx = client_context(pki.origin_ca.cert, cert or pki.good)
    with Conn.tls(guard.port, ctx) as c:
        r = c.request("GET", "/headers", headers=headers)
    assert r.status == 200, r
    return json.loads(r.body)


def leaf_der(pki):
    with open(pki.good.cert, "rb") as f:
        c = x509.load_pem_x509_certificate(f.read())
    return c, c.public_bytes(serialization.Encoding.DER)


def test_identity_headers_are_the_guards(guard, pki):
    h = app_headers(guard, pki, SPOOFED)
    cert, der = leaf_der(pki)

    assert header_values(h, "X-Client-Verified") == ["SUCCESS"]
    subject = header_values(h, "X-Client-Subject")
    assert len(subject) == 1 and "CN=" + EDGE_NAME in subject[0] and "admin" not in subject[0]
    san = header_values(h, "X-Client-SAN")
    assert len(san) == 1 and EDGE_NAME in san[0] and "admin" not in san[0]

    fp = header_values(h, "X-Client-Fingerprint")
    expected = pki.good.info["sha256"].replace(":", "").lower()
    assert fp == [expected]

    cc = header_values(h, "Client-Cert")
    assert cc == [":" + base64.b64encode(der).decode() + ":"]

    na = header_values(h, "X-Client-Not-After")
    assert len(na) == 1
    want = cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%S")
    assert na[0].startswith(want), (na, want)


def test_forwarding_headers(guard, pki):
    h = app_headers(guard, pki, [("X-Forwarded-For", "203.0.113.9"),
                                 ("X-Forwarded-Proto", "http")])
    assert any("1.1 pullgate" in v for v in header_values(h, "Via")), h
    assert header_values(h, "X-Forwarded-Proto") == ["https"]
    xff = ", ".join(header_values(h, "X-Forwarded-For"))
    hops = [x.strip() for x in xff.split(",")]
    assert hops[-1] == "127.0.0.1", xff


def test_no_spoofing_without_client_copies(guard, pki):
    """The control case: with nothing spoofed, exactly one of each arrives."""
    h = app_headers(guard, pki, [])
    for name in ("Client-Cert", "X-Client-Verified", "X-Client-Subject",
                 "X-Client-Fingerprint", "X-Client-Not-After"):
        assert len(header_values(h, name)) == 1, (name, h)
    assert header_values(h, "X-Forwarded-For") == ["127.0.0.1"]


def test_hop_by_hop_headers_removed(guard, pki):
    sent = [
        ("Connection", "keep-alive, X-Foo"),
        ("X-Foo", "must-not-pass"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "gzip"),
        ("Upgrade", "websocket"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Kept", "yes"),
    ]
    h = app_headers(guard, pki, sent)
    names = header_names(h)
    for gone in ("x-foo", "keep-alive", "te", "upgrade", "proxy-connection"):
        assert gone not in names, (gone, h)
    for v in header_values(h, "Connection"):
        assert "x-foo" not in v.lower() and "upgrade" not in v.lower(), h
    assert header_values(h, "X-Kept") == ["yes"]


def test_not_after_is_iso_utc(guard, pki):
    h = app_headers(guard, pki, [])
    value = header_values(h, "X-Client-Not-After")[0]
    parsed = datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    assert parsed > datetime.datetime.utcnow()


def test_identity_follows_each_connections_certificate(guard, pki):
    """Connections with the same certificate share one parsed copy and one
    identity in the guard; under concurrent full handshakes with three
    certificates, each request must still carry its own connection's."""
    import threading

    certs = [pki.good, pki.a, pki.b]
    ders = {}
    for ident in certs:
        with open(ident.cert, "rb") as f:
            c = x509.load_pem_x509_certificate(f.read())
        ders[ident.cert] = ":" + base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() + ":"
    wrong = []

    def worker(n):
        for i in range(12):
            ident = certs[(n + i) % len(certs)]
            ctx = client_context(pki.origin_ca.cert, ident)
            with Conn.tls(guard.port, ctx) as c:
                for _ in range(2):
                    r = c.request("GET", "/headers")
                    h = json.loads(r.body)
                    got = header_values(h, "Client-Cert")
                    fp = header_values(h, "X-Client-Fingerprint")
                    if r.status != 200 or got != [ders[ident.cert]] or \
                            fp != [ident.info["sha256"].replace(":", "").lower()]:
                        wrong.append((ident.cert, r.status, got[:1], fp))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []
