"""The guard seen from `openssl s_client`: a good client certificate gets
"HTTP/1.1 200" back for the request written on stdin; none, an expired one or
another CA's gets no HTTP at all, over TLS 1.2 and TLS 1.3."""
import pytest

from lib.tools import s_client

VERSIONS = ["1.2", "1.3"]


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


@pytest.mark.parametrize("version", VERSIONS)
def test_good_certificate(guard, origin, pki, version):
    before = origin.count()
    code, out, err = s_client(guard.port, pki, cert=pki.good, tls=version)
    assert "HTTP/1.1 200" in out, out[-2000:] + err[-2000:]
    assert "hello from origin" in out
    assert ("TLSv" + version) in out + err
    assert origin.count() == before + 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("who,reason", [(None, "no certificate"), ("expired", "expired"),
                                        ("other", "unknown CA")],
                         ids=["none", "expired", "other-ca"])
def test_refused(guard, origin, pki, version, who, reason):
    before = origin.count()
    mark = guard.mark()
    code, out, err = s_client(guard.port, pki, cert=pki.client(who) if who else None,
                              tls=version)
    assert "HTTP/1.1" not in out, out[-2000:]
    assert "hello from origin" not in out
    guard.wait_refusal(reason, mark)
    assert origin.count() == before
