"""A client with a small receive window still gets every byte, in order:
large responses leave the guard as several TLS records per send, and what
the socket does not take waits in the guard until it can (keep-alive, the
next response after it; HTTP/1.0, the close after it)."""
import hashlib
import socket

import pytest

from lib.client import Conn, client_context
from lib.origin_app import pattern_sha256

SIZE = 8 << 20


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address, timeouts={"body": "60s", "idle": "60s"})


def slow_conn(guard, pki):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(60)
    raw.connect(("127.0.0.1", guard.port))
    ctx = client_context(pki.origin_ca.cert, pki.good)
    return Conn(ctx.wrap_socket(raw, server_hostname="localhost"), timeout=60)


def test_keep_alive_responses_arrive_whole_and_in_order(guard, pki):
    with slow_conn(guard, pki) as c:
        for size in (SIZE, 100 * 1024, SIZE // 2):
            h = hashlib.sha256()
            c.send(b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % size)
            r = c.read_response(timeout=60, sink=h.update)
            assert r.status == 200
            assert (r.body_len, h.hexdigest()) == (size, pattern_sha256(size))


def test_http10_response_then_close(guard, pki):
    with slow_conn(guard, pki) as c:
        c.send(b"GET /bytes/%d HTTP/1.0\r\nHost: localhost\r\n\r\n" % SIZE)
        data, how = c.read_until_eof(timeout=60)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert how == "eof", how
    assert len(body) == SIZE
    assert hashlib.sha256(body).hexdigest() == pattern_sha256(SIZE)
