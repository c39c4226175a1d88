"""What a TLS 1.3 answer costs the network. A client whose first request
comes in the same segment as its Finished gets the guard's session ticket
in the response's segment, not in one of its own; a response that ends the
connection (Connection: close) carries the close_notify and the FIN in
that segment too. Counted on the client's socket: TCP_INFO's
tcpi_data_segs_in, the segments that carried data. The ticket must still
arrive, usable for resumption."""
import socket
import ssl
import struct

import pytest

TCPI_DATA_SEGS_IN = 152  # offset in struct tcp_info (Linux 4.6 and later)


def data_segments_in(sock):
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    assert len(info) >= TCPI_DATA_SEGS_IN + 4, "kernel too old for tcpi_data_segs_in"
    return struct.unpack_from("I", info, TCPI_DATA_SEGS_IN)[0]


class Client:
    """A TLS 1.3 client over memory BIOs, so that its Finished and its first
    request leave in one send."""

    def __init__(self, port, ctx, session=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost", session=session)
        self.eof = False

    def receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            self.inc.write_eof()
        else:
            self.inc.write(chunk)

    def handshake_then(self, request):
        """Completes the handshake, then sends the client's last flight and
        request together."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = self.out.read()
                if pending:
                    self.sock.sendall(pending)
                self.receive()
                assert not self.eof, "closed during the handshake"
        self.after_handshake = data_segments_in(self.sock)
        self.tls.write(request)
        self.sock.sendall(self.out.read())

    def send(self, request):
        self.tls.write(request)
        self.sock.sendall(self.out.read())

    def response(self):
        """One response with a Content-Length: (head, body)."""
        data = b""
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:")][0]
                if len(rest) >= length:
                    return head, rest[:length]
            try:
                chunk = self.tls.read(65536)
                assert chunk, "close_notify before the whole response"
                data += chunk
            except ssl.SSLWantReadError:
                self.receive()
                assert not self.eof, "closed before the whole response"

    def until_close(self):
        """Reads to close_notify (an empty read: the ssl module's answer to
        one) and the end of the stream; returns what came before them."""
        data = b""
        while True:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                assert not self.eof, "end of stream without close_notify"
                self.receive()
                continue
            if not chunk:
                break
            data += chunk
        while not self.eof:
            self.receive()
        return data

    def close(self):
        self.sock.close()


def client_context(pki):
    ctx = ssl.create_default_context(cafile=pki.origin_ca.cert)
    ctx.load_cert_chain(pki.good.cert, pki.good.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def request(close=False):
    # An empty body: the origin app writes the whole response with one
    # send, so that the guard relays it with one.
    return ("GET /bytes/0 HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
            % ("Connection: close\r\n" if close else "")).encode()


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address, name="guard-segments")


def test_ticket_leaves_with_the_first_response(guard, pki):
    ctx = client_context(pki)
    c = Client(guard.port, ctx)
    try:
        c.handshake_then(request())
        head, body = c.response()
        assert head.startswith(b"HTTP/1.1 200") and len(body) == 0
        # The server's flight, then the ticket with the response.
        assert (c.after_handshake, data_segments_in(c.sock)) == (1, 2)
        assert c.tls.session is not None and c.tls.session.has_ticket
        c.send(request(close=True))
        head, body = c.response()
        assert head.startswith(b"HTTP/1.1 200") and len(body) == 0
        assert c.until_close() == b""
        # The last response with its close_notify (and the FIN).
        assert data_segments_in(c.sock) == 3
        session = c.tls.session
    finally:
        c.close()
    # The ticket resumes.
    r = Client(guard.port, ctx, session=session)
    try:
        r.handshake_then(request(close=True))
        head, body = r.response()
        assert head.startswith(b"HTTP/1.1 200") and len(body) == 0
        assert r.tls.session_reused
        r.until_close()
    finally:
        r.close()


def test_closing_response_carries_close_notify_and_ticket(guard, pki):
    c = Client(guard.port, client_context(pki))
    try:
        c.handshake_then(request(close=True))
        head, body = c.response()
        assert head.startswith(b"HTTP/1.1 200") and len(body) == 0
        assert c.until_close() == b""
        assert c.eof
        # The flight, then ticket, response, close_notify and FIN as one.
        assert data_segments_in(c.sock) == 2
        assert c.tls.session.has_ticket
    finally:
        c.close()
