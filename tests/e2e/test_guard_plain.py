"""Plain HTTP: sent to the TLS port it gets no HTTP answer; the optional
plain_listen side door closes (action close) or redirects to https (action
redirect), and never proxies to the app."""
import pytest

from lib.client import Conn, attempt, client_context
from lib.ports import free_port

PLAIN_GET = b"GET /some/path?x=1 HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    close_port, redirect_port = free_port(), free_port()
    g = module_guards.start(origin.address, plain_listen=[
        {"address": "127.0.0.1:%d" % close_port, "action": "close"},
        {"address": "127.0.0.1:%d" % redirect_port, "action": "redirect",
         "redirect_port": 8443},
    ])
    g.close_port, g.redirect_port = close_port, redirect_port
    return g


def test_plain_http_on_tls_port(guard, origin, pki):
    before = origin.count()
    mark = guard.mark()
    with Conn.tcp(guard.port) as c:
        c.send(PLAIN_GET)
        data, how = c.read_until_eof(timeout=10)
    assert how != "timeout", "the TLS port kept a plain-HTTP connection open"
    assert b"HTTP/" not in data, data[:200]
    guard.wait_refusal("protocol", mark)
    assert origin.count() == before
    # The TLS port still serves TLS.
    assert attempt(guard.port, client_context(pki.origin_ca.cert, pki.good)).status == 200


def test_side_door_close(guard, origin):
    before = origin.count()
    with Conn.tcp(guard.close_port) as c:
        c.send(PLAIN_GET)
        data, how = c.read_until_eof(timeout=10)
    assert how != "timeout", "the side door did not close"
    assert data == b"", data[:200]
    assert origin.count() == before


@pytest.mark.parametrize("path", ["/some/path?x=1", "/"])
def test_side_door_redirect(guard, origin, path):
    before = origin.count()
    with Conn.tcp(guard.redirect_port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: app.example\r\n\r\n" % path.encode())
        r = c.read_response()
    assert r.status in (301, 308), r
    assert r.header("Location") == "https://app.example:8443" + path, r.headers
    assert b"hello from origin" not in r.body
    assert origin.count() == before


def test_side_door_redirect_strips_host_port(guard, origin):
    with Conn.tcp(guard.redirect_port) as c:
        c.send(b"GET /x HTTP/1.1\r\nHost: app.example:8080\r\n\r\n")
        r = c.read_response()
    assert r.status in (301, 308), r
    assert r.header("Location") == "https://app.example:8443/x", r.headers
