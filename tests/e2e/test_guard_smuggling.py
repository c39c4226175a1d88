"""Request smuggling and malformed requests over a verified connection: each
ambiguous or malformed request gets its error status, the guard closes the
connection, and neither it nor the request hidden behind it reaches the app.
Valid pipelining, HTTP/1.0 keep-alive and chunked uploads still work, and
bytes a client sends after a closing request do not cut its response."""
import hashlib
import json
import socket

import pytest

from lib.client import Conn, client_context
from lib.origin_app import pattern_chunks

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"


def post(headers, body=b"0\r\n\r\n"):
    return (b"POST /sink HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n" + body
            + SMUGGLED)


MALFORMED = [
    ("cl-and-te", post(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"), {400}),
    ("te-xchunked", post(b"Transfer-Encoding: xchunked\r\n"), {400, 501}),
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked\r\n"), {400}),
    ("te-chunked-identity", post(b"Transfer-Encoding: chunked, identity\r\n"), {400, 501}),
    ("duplicate-cl", post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"), {400}),
    ("cl-plus-sign", post(b"Content-Length: +5\r\n", b"hello"), {400}),
    ("bare-lf", b"GET / HTTP/1.1\nHost: localhost\n\n" + SMUGGLED, {400}),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n" + SMUGGLED,
     {400}),
    ("nul-in-header", b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00b\r\n\r\n" + SMUGGLED,
     {400}),
    ("request-line-too-long",
     b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED, {414}),
    ("too-many-headers",
     b"GET / HTTP/1.1\r\nHost: localhost\r\n"
     + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n" + SMUGGLED, {431}),
    ("head-too-big",
     b"GET / HTTP/1.1\r\nHost: localhost\r\n"
     + b"".join(b"X-Big%d: %s\r\n" % (i, b"v" * 1000) for i in range(40)) + b"\r\n"
     + SMUGGLED, {431}),
    ("unknown-method", b"BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED, {501}),
    ("http-2.0", b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n" + SMUGGLED, {505}),
]


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


def connect(guard, pki):
    return Conn.tls(guard.port, client_context(pki.origin_ca.cert, pki.good))


@pytest.mark.parametrize("name,payload,statuses", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_refused_and_closed(guard, origin, pki, name, payload, statuses):
    before = origin.count()
    with connect(guard, pki) as c:
        c.send(payload)
        data, how = c.read_until_eof(timeout=10)
    assert how != "timeout", "guard kept the connection open after %r: %r" % (name, data[:200])
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    status = int(data.split(b" ", 2)[1])
    assert status in statuses, (status, data[:300])
    assert data.count(b"HTTP/1.") == 1, "more than one response: %r" % data[:600]
    assert b"hello from origin" not in data
    assert origin.count() == before, "the app received something for %s" % name


def test_pipelined_pair_in_order(guard, origin, pki):
    before = origin.count()
    with connect(guard, pki) as c:
        c.send(b"GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n"
               b"GET /bytes/7 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        r1 = c.read_response()
        r2 = c.read_response()
    assert (r1.status, r1.body) == (200, b"hello from origin\n")
    assert (r2.status, len(r2.body)) == (200, 7)
    assert origin.count() == before + 2
    paths = [e["path"] for e in origin.log(before)]
    assert paths == ["/first", "/bytes/7"]


def test_http10_keep_alive(guard, origin, pki):
    before = origin.count()
    req = b"GET /one HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
    with connect(guard, pki) as c:
        c.send(req)
        r1 = c.read_response()
        assert r1.status == 200 and r1.body == b"hello from origin\n"
        assert r1.header("Transfer-Encoding") is None, r1.headers
        c.send(req.replace(b"/one", b"/two"))
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == b"hello from origin\n"
    assert origin.count() == before + 2


def test_http10_without_keep_alive_closes(guard, origin, pki):
    with connect(guard, pki) as c:
        c.send(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data, how = c.read_until_eof(timeout=10)
    assert data.startswith(b"HTTP/1.") and data.endswith(b"hello from origin\n"), data[:300]
    assert how != "timeout"


def test_chunked_upload_intact(guard, origin, pki):
    pieces = [b"a", b"b" * 1000, bytes(range(256)) * 300, b"z" * 70000]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    whole = b"".join(pieces)
    with connect(guard, pki) as c:
        c.send(b"POST /sink HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
               + body)
        r = c.read_response()
    assert r.status == 200, r
    got = json.loads(r.body)
    assert got == {"received": len(whole), "sha256": hashlib.sha256(whole).hexdigest()}


def test_bytes_after_a_closing_request_do_not_cut_its_response(guard, origin, pki):
    """A client that sends more bytes after a request with Connection:
    close, while its response is still coming: the guard answers the
    first request only, and reads what came after it before it closes
    (closing with bytes unread would reset the connection and drop what
    the client has not received yet). The client reads slowly (a small
    receive buffer), so that much of the response still waits in the
    guard's socket when its last byte is written."""
    n = 4_000_000
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    raw.settimeout(30)
    raw.connect(("127.0.0.1", guard.port))
    ctx = client_context(pki.origin_ca.cert, pki.good)
    before = origin.count()
    with Conn(ctx.wrap_socket(raw, server_hostname="localhost"), 30) as c:
        c.send(b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % n)
        first = b""
        while len(first) < 65536:
            chunk = c.sock.recv(65536)
            assert chunk, "closed after %d bytes" % len(first)
            first += chunk
        c.send(b"GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n")
        rest, how = c.read_until_eof(timeout=60)
    head, _, body = (first + rest).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:300]
    assert how == "eof", how
    assert len(body) == n
    assert body == b"".join(pattern_chunks(n))
    paths = [e["path"] for e in origin.log(before)]
    assert paths == ["/bytes/%d" % n]
