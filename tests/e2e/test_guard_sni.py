"""Per-SNI rules: each hosts entry has its own pins, and a request's Host
must belong to the entry its SNI selected (421 otherwise)."""
import pytest

from lib.client import Conn, attempt, client_context


@pytest.fixture(scope="module")
def guard(module_guards, origin, pki):
    return module_guards.start(origin.address, hosts=[
        {"hostnames": ["a.example"], "pins": {"sha256": [pki.a.info["sha256"]]}},
        {"hostnames": ["b.example"], "pins": {"spki_sha256": [pki.b.info["spki_sha256"]]}},
    ])


def ctx(pki, who):
    return client_context(pki.origin_ca.cert, pki.client(who))


@pytest.mark.parametrize("who,sni", [("a", "a.example"), ("b", "b.example")])
def test_pinned_cert_for_its_sni(guard, origin, pki, who, sni):
    before = origin.count()
    a = attempt(guard.port, ctx(pki, who), sni=sni, host=sni)
    assert a.status == 200, (a.handshake_error, a.received[:200])
    assert origin.count() == before + 1


@pytest.mark.parametrize("who,sni", [("a", "b.example"), ("b", "a.example"),
                                     ("good", "a.example")])
def test_other_sni_not_pinned(guard, origin, pki, who, sni):
    before = origin.count()
    mark = guard.mark()
    a = attempt(guard.port, ctx(pki, who), sni=sni, host=sni)
    assert a.received == b"", a.received[:200]
    guard.wait_refusal("not pinned", mark)
    assert origin.count() == before


def test_host_must_match_sni(guard, origin, pki):
    before = origin.count()
    with Conn.tls(guard.port, ctx(pki, "a"), sni="a.example") as c:
        r = c.request("GET", "/", host="b.example")
        assert r.status == 421, r
        assert b"hello from origin" not in r.body
    with Conn.tls(guard.port, ctx(pki, "a"), sni="a.example") as c:
        r = c.request("GET", "/", host="a.example:443")
        assert r.status == 200, r
    assert origin.count() == before + 1


def test_sni_outside_hosts_may_not_use_their_host(guard, origin, pki):
    """No SNI entry matched (SNI localhost): a Host of an entry gets 421."""
    before = origin.count()
    with Conn.tls(guard.port, ctx(pki, "good"), sni="localhost") as c:
        r = c.request("GET", "/", host="a.example")
    assert r.status == 421, r
    assert origin.count() == before
