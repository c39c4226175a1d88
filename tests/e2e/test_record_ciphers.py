"""Every record cipher the guard and the edge offer protects a large body
end to end: TLS 1.3's AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 suites
and the TLS 1.2 ECDHE-ECDSA ciphers of the same algorithms, each asked for
alone by openssl s_client, which must report it as negotiated and receive
every byte of a 300,000-byte body unchanged (SHA-256 against the origin
app's pattern). pullgate seals and opens records with OpenSSL's built-in
AEAD code (src/tls/record_ciphers.c); this is the check that each
algorithm, in each direction and both versions, is wired right. The edge's
pulls to the guard run over the default suite in the same requests."""
import hashlib
import subprocess

import pytest

from lib import tools
from lib.edge import record, zone
from lib.origin_app import pattern_sha256

SIZE = 300000
CIPHERS = [
    ("1.3", "TLS_AES_128_GCM_SHA256"),
    ("1.3", "TLS_AES_256_GCM_SHA384"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256"),
    ("1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"),
]


def fetch(port, ca, sni, tls, cipher, cert=None):
    """(negotiated suite, body) of GET /bytes/SIZE over s_client."""
    argv = [tools.need("openssl"), "s_client", "-connect", "127.0.0.1:%d" % port,
            "-servername", sni, "-CAfile", ca, "-verify_return_error", "-quiet", "-brief",
            "-tls" + tls.replace(".", "_"),
            "-ciphersuites" if tls == "1.3" else "-cipher", cipher]
    if cert is not None:
        argv += ["-cert", cert.cert, "-key", cert.key]
    req = ("GET /bytes/%d HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (SIZE, sni)).encode()
    r = subprocess.run(argv, input=req, capture_output=True, timeout=30)
    err = r.stderr.decode("latin-1")
    suite = [l.split(":", 1)[1].strip() for l in err.splitlines() if l.startswith("Ciphersuite:")]
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), (head[:200], err[-800:])
    return (suite[0] if suite else None), body


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address, name="guard-ciphers")


@pytest.fixture(scope="module")
def edge(module_edges, edge_pki, guard):
    name = "ciphers.test"
    z = zone(name, edge_pki.zone_cert(name),
             [record("www." + name, "127.0.0.1:%d" % guard.port)], ssl="full",
             origin_pull="global")
    return module_edges.start([z], client_certificate=edge_pki.client_pair(edge_pki.global_client))


@pytest.mark.parametrize("tls,cipher", CIPHERS)
def test_guard_record_cipher(guard, pki, tls, cipher):
    suite, body = fetch(guard.port, pki.origin_ca.cert, "localhost", tls, cipher, cert=pki.good)
    assert suite == cipher
    assert len(body) == SIZE and hashlib.sha256(body).hexdigest() == pattern_sha256(SIZE)


@pytest.mark.parametrize("tls,cipher", CIPHERS)
def test_edge_record_cipher(edge, edge_pki, tls, cipher):
    suite, body = fetch(edge.port, edge_pki.visitor_ca.cert, "www.ciphers.test", tls, cipher)
    assert suite == cipher
    assert len(body) == SIZE and hashlib.sha256(body).hexdigest() == pattern_sha256(SIZE)
