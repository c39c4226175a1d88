"""Every key type `pullgate pki` makes works end to end, with certificate
keys that OpenSSL decodes through its built-in methods (src/tls/key_decode.c):
RSA, ECDSA and Ed25519 client certificates, under an RSA and an ECDSA CA, to
a guard whose own certificate is RSA, in TLS 1.2 and 1.3, and a certificate
of the same key type from another CA refused; and an edge with an RSA
visitor certificate pulling (strict) with each key type."""
import os

import pytest

from lib.client import attempt, client_context
from lib.edge import record, zone
from lib.pki import Pki

KEY_TYPES = ["ecdsa", "rsa2048", "ed25519"]
VERSIONS = ["1.2", "1.3"]


@pytest.fixture(scope="module")
def kpki(pullgate_bin, session_dir):
    p = Pki(pullgate_bin, os.path.join(session_dir, "key-types"))
    cas = {"rsa": p.ca("ca-rsa", "Key Types RSA CA", key_type="rsa2048"),
           "ecdsa": p.ca("ca-ecdsa", "Key Types ECDSA CA", key_type="ecdsa"),
           "stranger": p.ca("ca-stranger", "Key Types Stranger CA", key_type="rsa2048")}
    server = p.issue("server", "server-rsa", "localhost", ca=cas["rsa"], dns=["localhost"],
                     key_type="rsa2048")
    clients = {(ca, kt): p.issue("client", "client-%s-%s" % (ca, kt), "edge-%s.example" % kt,
                                 ca=cas[ca], key_type=kt)
               for ca in ("rsa", "ecdsa", "stranger") for kt in KEY_TYPES}
    return {"ca": cas, "server": server, "clients": clients}


@pytest.fixture(scope="module")
def guard(module_guards, origin, kpki):
    g = module_guards.start(origin.address, certificate=kpki["server"].cert,
                            key=kpki["server"].key,
                            trust={"ca": [kpki["ca"]["rsa"].cert, kpki["ca"]["ecdsa"].cert],
                                   "crl": None})
    g.wait_ready()
    return g


def ctx_for(kpki, client, version):
    return client_context(kpki["ca"]["rsa"].cert, client, version=version)


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("ca", ["rsa", "ecdsa"])
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_each_key_type_is_accepted(guard, kpki, key_type, ca, version):
    client = kpki["clients"][(ca, key_type)]
    for _ in range(2):  # the second verifies from the chains the guard keeps
        a = attempt(guard.port, ctx_for(kpki, client, version), path="/")
        assert a.status == 200, (key_type, ca, version, a)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_other_ca_is_refused(guard, kpki, key_type):
    client = kpki["clients"][("stranger", key_type)]
    since = guard.mark()
    a = attempt(guard.port, ctx_for(kpki, client, "1.3"), path="/")
    assert not a.got_http, a
    guard.wait_refusal("unknown CA", since)


@pytest.fixture(scope="module")
def rsa_edges(module_edges, kpki, guard):
    """One edge per origin-pull key type, each with an RSA visitor
    certificate, pulling in strict mode from the guard above."""
    out = {}
    for kt in KEY_TYPES:
        z = zone("localhost", kpki["server"],
                 [record("localhost", "127.0.0.1:%d" % guard.port, origin_sni="localhost")],
                 ssl="strict", origin_pull="global", origin_ca=kpki["ca"]["rsa"].cert)
        pull = kpki["clients"][("ecdsa", kt)]
        e = module_edges.start([z], name="edge-" + kt,
                               client_certificate={"certificate": pull.cert, "key": pull.key})
        out[kt] = e
    return out


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_edge_pulls_with_each_key_type(rsa_edges, kpki, key_type):
    e = rsa_edges[key_type]
    for version in VERSIONS:
        ctx = client_context(kpki["ca"]["rsa"].cert, version=version)
        for _ in range(2):
            a = attempt(e.port, ctx, path="/")
            assert a.status == 200, (key_type, version, a)
