"""A TLS client and a raw HTTP/1.1 client precise enough to say "not one HTTP
byte came back": TLS contexts with a pinned protocol version, connections that
read until EOF with a deadline, and a response reader for Content-Length,
chunked and close-delimited bodies that can stream a body to a sink."""
import socket
import ssl
import time
import warnings
from dataclasses import dataclass, field

from .waiting import Deadline

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def client_context(ca, cert=None, version=None, check_hostname=True):
    """A client context trusting ca (the guard's server CA), presenting cert
    (a pki.Cert) when given, limited to exactly one TLS version when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = check_hostname
    if cert is not None:
        ctx.load_cert_chain(cert.cert, cert.key)
    if version:
        if version in ("1.0", "1.1"):
            # OpenSSL 3 refuses these below security level 0.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = VERSIONS[version]
            ctx.maximum_version = VERSIONS[version]
    return ctx


def request_bytes(method="GET", path="/", host="localhost", headers=(), body=None,
                  version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version)]
    if host is not None:
        lines.append("Host: " + host)
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list
    body: bytes = b""
    body_len: int = 0
    raw_head: bytes = b""

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class ClosedError(ConnectionError):
    pass


class Conn:
    """A connected socket (plain or TLS) with a receive buffer."""

    def __init__(self, sock, timeout=15):
        self.sock = sock
        self.buf = b""
        self.sock.settimeout(timeout)

    # -- connecting --------------------------------------------------------
    @classmethod
    def tcp(cls, port, host="127.0.0.1", timeout=15):
        return cls(socket.create_connection((host, port), timeout=timeout), timeout)

    @classmethod
    def tls(cls, port, ctx, sni="localhost", session=None, host="127.0.0.1", timeout=15):
        """Connects and completes the handshake; raises ssl.SSLError or
        OSError when the guard refuses it."""
        raw = socket.create_connection((host, port), timeout=timeout)
        try:
            s = ctx.wrap_socket(raw, server_hostname=sni, session=session)
        except BaseException:
            raw.close()
            raise
        return cls(s, timeout)

    # -- I/O ---------------------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline=None):
        if deadline is not None:
            self.sock.settimeout(deadline.remaining())
        data = self.sock.recv(256 * 1024)
        if not data:
            raise ClosedError("connection closed by peer")
        self.buf += data

    def read_until_eof(self, timeout=10.0):
        """Everything until the peer closes (EOF, reset or TLS alert) or the
        deadline passes: (bytes, how) with how in "eof", "error: ...",
        "timeout"."""
        deadline = Deadline(timeout)
        got = self.buf
        self.buf = b""
        while True:
            if deadline.expired():
                return got, "timeout"
            try:
                self.sock.settimeout(deadline.remaining())
                data = self.sock.recv(65536)
            except socket.timeout:
                return got, "timeout"
            except (ssl.SSLError, OSError) as e:
                return got, "error: %s" % e
            if not data:
                return got, "eof"
            got += data

    def read_head(self, deadline):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError("response head over 1 MiB")
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def _read_exact(self, n, sink, deadline):
        while n > 0:
            if not self.buf:
                self._fill(deadline)
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            sink(take)
            n -= len(take)

    def _read_line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, method="GET", timeout=30.0, sink=None):
        """One response (skipping 1xx). The body is collected in .body, or
        handed piece by piece to sink(bytes) when given (then .body is empty);
        .body_len is its length either way."""
        deadline = Deadline(timeout)
        while True:
            head = self.read_head(deadline)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise AssertionError("not an HTTP status line: %r" % lines[0])
            resp = Response(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", [],
                            raw_head=head)
            for line in lines[1:]:
                k, _, v = line.partition(":")
                resp.headers.append((k, v.strip()))
            if not 100 <= resp.status < 200:
                break
        chunks = []
        total = [0]

        def collect(data):
            total[0] += len(data)
            if sink is not None:
                sink(data)
            else:
                chunks.append(data)

        te = (resp.header("Transfer-Encoding") or "").lower()
        cl = resp.header("Content-Length")
        if method == "HEAD" or resp.status in (204, 304):
            pass
        elif "chunked" in te:
            while True:
                size = int(self._read_line(deadline).split(b";")[0], 16)
                if size == 0:
                    while self._read_line(deadline) != b"":
                        pass
                    break
                self._read_exact(size, collect, deadline)
                self._read_line(deadline)
        elif cl is not None:
            self._read_exact(int(cl), collect, deadline)
        else:
            data, _ = self.read_until_eof(deadline.remaining())
            collect(data)
        resp.body = b"".join(chunks)
        resp.body_len = total[0]
        return resp

    def request(self, method="GET", path="/", host="localhost", headers=(), body=None,
                timeout=30.0):
        self.send(request_bytes(method, path, host, headers, body))
        return self.read_response(method, timeout)

    def send_streamed(self, method, path, chunks, length=None, host="localhost", headers=()):
        """Sends a request whose body comes from the iterable chunks: with
        Content-Length when length is given, chunked otherwise."""
        hdrs = list(headers)
        if length is None:
            hdrs.append(("Transfer-Encoding", "chunked"))
        else:
            hdrs.append(("Content-Length", str(length)))
        self.send(request_bytes(method, path, host, hdrs))
        for chunk in chunks:
            if length is None:
                if len(chunk):
                    self.sock.sendall(b"%x\r\n" % len(chunk))
                    self.sock.sendall(chunk)
                    self.sock.sendall(b"\r\n")
            else:
                self.sock.sendall(chunk)
        if length is None:
            self.sock.sendall(b"0\r\n\r\n")

    def session(self):
        return getattr(self.sock, "session", None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Attempt:
    """What a client saw when it tried one request over TLS."""
    handshake_ok: bool
    handshake_error: str = ""
    received: bytes = b""
    end: str = ""
    version: str = ""
    session_reused: bool = False
    session: object = None
    notes: list = field(default_factory=list)

    @property
    def got_http(self):
        return self.received.startswith(b"HTTP/") or b"HTTP/1." in self.received

    @property
    def status(self):
        if not self.received.startswith(b"HTTP/"):
            return None
        return int(self.received.split(b" ", 2)[1])


def attempt(port, ctx, sni="localhost", path="/", host="localhost", session=None,
            timeout=10.0, extra_headers=()):
    """Handshakes, and when the client side completed (in TLS 1.3 the client
    finishes before the server has judged its certificate), sends a full GET
    with Connection: close and reads until EOF or error."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s = ctx.wrap_socket(raw, server_hostname=sni, session=session,
                            do_handshake_on_connect=False)
    except BaseException:
        raw.close()
        raise
    try:
        try:
            s.do_handshake()
        except (ssl.SSLError, OSError) as e:
            return Attempt(False, handshake_error=str(e))
        a = Attempt(True, version=s.version() or "", session_reused=s.session_reused)
        req = request_bytes("GET", path, host, list(extra_headers) + [("Connection", "close")])
        try:
            s.sendall(req)
        except (ssl.SSLError, OSError) as e:
            a.notes.append("send failed: %s" % e)
        c = Conn(s, timeout)
        a.received, a.end = c.read_until_eof(timeout)
        a.session = s.session
        return a
    finally:
        s.close()


def wait_port_refuses(port, timeout, host="127.0.0.1"):
    """Polls until a TCP connect to port is refused; True when it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.02)
    return False
