"""The guard's side towards the app: 502 when the app is down, 504 when it
does not answer within backend.response_timeout, a unix-socket backend, and
keep-alive towards the app (several requests over one backend connection)."""
import socket
import threading
import time

import pytest

from lib.app import OriginApp
from lib.client import ClosedError, Conn, client_context
from lib.ports import free_port


def connect(guard, pki):
    return Conn.tls(guard.port, client_context(pki.origin_ca.cert, pki.good))


def test_backend_down_502(guards, pki):
    g = guards.start("127.0.0.1:%d" % free_port())
    with connect(g, pki) as c:
        r = c.request("GET", "/")
    assert r.status == 502, r
    assert r.body.strip(), "502 without a body"
    assert b"hello" not in r.body


def test_slow_backend_504(guards, origin, pki):
    g = guards.start(origin.address, backend={"response_timeout": "1s"})
    before = origin.count()
    with connect(g, pki) as c:
        t0 = time.monotonic()
        try:
            r = c.request("GET", "/slow/4", timeout=6)
        except (TimeoutError, ClosedError) as e:
            pytest.fail("no response %.1fs after the request (response_timeout 1s): %r"
                        % (time.monotonic() - t0, e))
        took = time.monotonic() - t0
    assert r.status == 504, r
    assert took < 3.5, "504 came after %.1fs, response_timeout is 1s" % took
    assert origin.count() == before + 1
    # The guard still serves after giving up on one response.
    with connect(g, pki) as c:
        assert c.request("GET", "/").status == 200


def test_unix_socket_backend(guards, pki, tmp_path, log_dir):
    app = OriginApp(log_dir, unix_path=str(tmp_path / "app.sock"), name="origin-app-unix")
    try:
        g = guards.start(app.address)
        with connect(g, pki) as c:
            r = c.request("GET", "/hello-unix")
        assert (r.status, r.body) == (200, b"hello from origin\n")
        assert [e["path"] for e in app.log()] == ["/hello-unix"]
    finally:
        app.stop()


def test_keep_alive_reuses_backend_connection(guards, origin, pki):
    g = guards.start(origin.address, backend={"idle_timeout": "30s"})
    start = origin.count()
    with connect(g, pki) as c:
        for i in range(4):
            r = c.request("GET", "/ka/%d" % i)
            assert r.status == 200, r
    with connect(g, pki) as c:
        assert c.request("GET", "/ka/next-client").status == 200
    entries = origin.log(start)
    assert [e["path"] for e in entries] == ["/ka/0", "/ka/1", "/ka/2", "/ka/3",
                                           "/ka/next-client"]
    conns = {(e["conn"], e["peer"]) for e in entries[:4]}
    assert len(conns) == 1, "one client connection used %d backend connections: %s" % (
        len(conns), [e["peer"] for e in entries])
    # The pooled connection also serves the next client.
    assert (entries[4]["conn"], entries[4]["peer"]) in conns, [e["peer"] for e in entries]


class OverrunningApp:
    """A raw HTTP/1.1 app whose first response runs past its Content-Length:
    the head and a little of a 20,000-byte body, then, once that has had
    time to be read, the rest of the body with a whole second response
    stuck to it. Every later request, on any connection, is answered
    "fresh"."""

    BODY = 20000
    TAIL = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.address = "127.0.0.1:%d" % self.lsock.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        data = b""
        with c:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data.split(b"\r\n\r\n", 1)[1]
                with self.lock:
                    self.requests += 1
                    first = self.requests == 1
                if first:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.BODY + b"a" * 10)
                    # A pause, so that the rest arrives in a read of its own
                    # (the guard then reads the body straight into its
                    # response buffer).
                    time.sleep(0.3)
                    c.sendall(b"a" * (self.BODY - 10) + self.TAIL)
                else:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")

    def close(self):
        self.lsock.close()


def test_bytes_past_the_body_are_not_a_response(guards, pki):
    """Bytes an app sends after a response's declared end answer no request:
    the next request must not get them as its response (a desync), so the
    connection they came on is not used again."""
    app = OverrunningApp()
    try:
        g = guards.start(app.address)
        with connect(g, pki) as c:
            r1 = c.request("GET", "/first")
            assert r1.status == 200 and r1.body == b"a" * OverrunningApp.BODY, r1
            r2 = c.request("GET", "/second")
        assert r2.status == 200 and r2.body == b"fresh", r2
        assert app.connections == 2, "the overrun connection was used again"
    finally:
        app.close()
