"""The guard seen from curl: a good client certificate gets the app's 200;
none, an expired one or another CA's gets no HTTP status at all, over TLS 1.2
and TLS 1.3."""
import pytest

from lib.tools import curl

VERSIONS = ["1.2", "1.3"]


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


def url(guard, path="/"):
    return "https://localhost:%d%s" % (guard.port, path)


@pytest.mark.parametrize("version", VERSIONS)
def test_good_certificate(guard, origin, pki, version):
    before = origin.count()
    code, status, body, err = curl(url(guard), pki, cert=pki.good, tls=version)
    assert code == 0, err
    assert status == "200"
    assert body == "hello from origin\n"
    assert origin.count() == before + 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("who,reason", [(None, "no certificate"), ("expired", "expired"),
                                        ("other", "unknown CA")],
                         ids=["none", "expired", "other-ca"])
def test_refused(guard, origin, pki, version, who, reason):
    before = origin.count()
    mark = guard.mark()
    code, status, body, err = curl(url(guard), pki, cert=pki.client(who) if who else None,
                                   tls=version)
    assert code != 0, "curl succeeded: %s %r" % (status, body)
    assert status == "000", "curl saw an HTTP status: %s" % status
    assert "HTTP/" not in body and "hello" not in body
    guard.wait_refusal(reason, mark)
    assert origin.count() == before
