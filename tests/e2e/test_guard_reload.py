"""Reloading trust: a CRL update applied with SIGHUP refuses the revoked
certificate at once, also when the client offers a TLS session from before;
a broken CA file on SIGHUP keeps the old set serving and names the file; with
watch_files a changed CRL is applied without any signal."""
import pytest

from lib.client import attempt, client_context
from lib.pki import EDGE_NAME
from lib.waiting import wait_for


@pytest.fixture
def own_ca(pki_tool):
    """A CA of this test's own, a client certificate from it and an empty
    CRL, so the test can revoke without disturbing others."""
    ca = pki_tool.ca("reload-ca", "pullgate reload test CA")
    good = pki_tool.issue("client", "reload-good", EDGE_NAME, ca=ca, dns=[EDGE_NAME])
    crl = pki_tool.path("reload-ca.crl")
    pki_tool.crl(ca, crl)
    return ca, good, crl


def refused_now(g, ctx):
    return not attempt(g.port, ctx).got_http


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_crl_update_on_sighup_refuses_resumed_session(guards, origin, pki, pki_tool, own_ca,
                                                      version):
    ca, good, crl = own_ca
    g = guards.start(origin.address, trust={"ca": [ca.cert], "crl": [crl]})
    ctx = client_context(pki.origin_ca.cert, good, version)
    first = attempt(g.port, ctx)
    assert first.status == 200, (first.handshake_error, first.received[:200])
    assert first.session is not None, "no TLS session to resume"
    # The session really resumes while the certificate is good, so the check
    # after the revocation is about resumption, not a full handshake.
    again = attempt(g.port, ctx, session=first.session)
    assert again.status == 200 and again.session_reused, (
        "resumption before the revocation: status %s, reused %s"
        % (again.status, again.session_reused))
    session = again.session

    pki_tool.revoke(ca, crl, good)
    mark = g.mark()
    g.hup()
    wait_for(lambda: refused_now(g, ctx), 10, "the revoked certificate to be refused after SIGHUP")
    g.wait_refusal("revoked", mark)

    before = origin.count()
    mark = g.mark()
    resumed = attempt(g.port, ctx, session=session)
    assert not resumed.got_http, ("a session from before the revocation still got HTTP "
                                  "(session_reused=%s): %r" % (resumed.session_reused,
                                                               resumed.received[:200]))
    assert resumed.received == b""
    g.wait_refusal("revoked", mark)
    assert origin.count() == before


def test_broken_ca_keeps_old_set(guards, origin, pki, pki_tool, own_ca):
    ca, good, crl = own_ca
    g = guards.start(origin.address, trust={"ca": [ca.cert], "crl": [crl]})
    ctx = client_context(pki.origin_ca.cert, good)
    assert attempt(g.port, ctx).status == 200

    with open(ca.cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    mark = g.mark()
    g.hup()
    line = g.proc.wait_line(r"reload-ca\.pem", since=mark, timeout=10,
                            what="an error naming reload-ca.pem after SIGHUP")
    assert "error" in line.lower() or "fail" in line.lower(), line
    a = attempt(g.port, ctx)
    assert a.status == 200, (a.handshake_error, a.received[:200], g.log(mark))
    assert g.alive()
    # A stranger is still refused by the old set too.
    assert not attempt(g.port, client_context(pki.origin_ca.cert, pki.other)).got_http


def test_watched_crl_applied_without_signal(guards, origin, pki, pki_tool, own_ca):
    ca, good, crl = own_ca
    g = guards.start(origin.address, trust={"ca": [ca.cert], "crl": [crl]},
                     watch_files=True)
    ctx = client_context(pki.origin_ca.cert, good)
    assert attempt(g.port, ctx).status == 200

    mark = g.mark()
    pki_tool.revoke(ca, crl, good)
    wait_for(lambda: refused_now(g, ctx), 10,
             "the changed CRL to be applied without SIGHUP (watch_files: true)")
    g.wait_refusal("revoked", mark)
