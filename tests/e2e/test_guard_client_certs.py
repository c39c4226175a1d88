"""The guard's core promise: a client with the right certificate reaches the
app; every other client gets a failed handshake, not one byte of HTTP, and the
app never hears of it. The guard logs one `tls refused` line with the reason
class for each refusal."""
import subprocess

import pytest

from lib.client import attempt, client_context
from lib.pki import EDGE_NAME
from lib.tools import need

VERSIONS = ["1.2", "1.3"]

# (certificate in the session PKI, or None for no certificate; reason class)
REFUSED = [
    (None, "no certificate"),
    ("expired", "expired"),
    ("notyet", "not yet valid"),
    ("other", "unknown CA"),
    ("selfsigned", "unknown CA"),
    ("revoked", "revoked"),
    ("serverauth", "wrong key usage"),
    ("stranger", "not pinned"),
]


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address, pins={"subject": [EDGE_NAME]})


@pytest.mark.parametrize("version", VERSIONS)
def test_good_certificate_reaches_app(guard, origin, pki, version):
    before = origin.count()
    a = attempt(guard.port, client_context(pki.origin_ca.cert, pki.good, version))
    assert a.handshake_ok, a.handshake_error
    assert a.version == "TLSv" + version
    assert a.status == 200, a.received[:300]
    assert a.received.endswith(b"hello from origin\n")
    assert origin.count() == before + 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("who,reason", REFUSED, ids=[r[0] or "none" for r in REFUSED])
def test_refused_without_http(guard, origin, pki, version, who, reason):
    cert = pki.client(who) if who else None
    before = origin.count()
    mark = guard.mark()
    a = attempt(guard.port, client_context(pki.origin_ca.cert, cert, version))
    # In TLS 1.2 the handshake itself fails. In 1.3 the client finishes first
    # and learns of the refusal when it reads; either way no bytes arrive.
    if version == "1.2":
        assert not a.handshake_ok, "TLS 1.2 handshake completed for %s" % who
    assert a.received == b"", "got bytes: %r" % a.received[:200]
    line = guard.wait_refusal(reason, mark)
    others = [c for c in ("no certificate", "unknown CA", "expired", "not yet valid",
                          "revoked", "wrong key usage", "not pinned")
              if c != reason and c in line and c not in reason]
    assert not others, "refusal line names other classes too: %s" % line
    assert origin.count() == before
    assert len(guard.refusals(mark)) == 1, "one refusal, several lines: %s" % guard.refusals(mark)


def _old_protocol_attempt(guard, pki, version):
    """Tries a real TLS 1.0/1.1 handshake: Python's ssl first, openssl
    s_client when the local library will not even send the ClientHello."""
    a = attempt(guard.port, client_context(pki.origin_ca.cert, pki.good, version))
    local = ("NO_PROTOCOLS_AVAILABLE", "UNSUPPORTED_PROTOCOL", "no protocols available")
    if a.handshake_ok or not any(m in a.handshake_error for m in local):
        return a.handshake_ok, a.received, "python: " + a.handshake_error
    flag = {"1.0": "-tls1", "1.1": "-tls1_1"}[version]
    r = subprocess.run([need("openssl"), "s_client", "-connect", "127.0.0.1:%d" % guard.port,
                        "-servername", "localhost", flag, "-cipher", "DEFAULT@SECLEVEL=0",
                        "-cert", pki.good.cert, "-key", pki.good.key,
                        "-CAfile", pki.origin_ca.cert, "-ign_eof"],
                       input=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                       capture_output=True, timeout=20)
    out = r.stdout + r.stderr
    if b"no protocols available" in out:
        pytest.skip("the local OpenSSL will not send a TLS %s ClientHello at all "
                    "(python: %s)" % (version, a.handshake_error))
    return r.returncode == 0 and b"HTTP/1.1" in r.stdout, r.stdout, "s_client: %s" % out[-500:]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_old_protocols_refused(guard, origin, pki, version):
    before = origin.count()
    mark = guard.mark()
    ok, received, how = _old_protocol_attempt(guard, pki, version)
    assert not ok, "TLS %s handshake accepted (%s)" % (version, how)
    assert b"HTTP/" not in received
    guard.wait_refusal("protocol", mark)
    assert origin.count() == before
