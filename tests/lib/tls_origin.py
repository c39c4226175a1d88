#!/usr/bin/python3
"""tls_origin: the counting origin app (origin_app.py) served over TLS, for
the edge's SSL-mode and failure tests: an origin with a valid, expired,
wrong-host or self-signed certificate, optionally requiring a client
certificate, optionally limited to one TLS version.

The same app state is served on two ports: the TLS port the edge pulls from,
and a plain control port the tests query (/count, /log and /tls, which
answers {"handshakes": N, "refused": M, "resumed": K, "closed": C, "errors":
[...]}: refused counts handshakes that failed with a TLS error, closed those
the peer ended without one, like a readiness probe's bare TCP connect).
Each logged request also carries "tls": {"version", "sni", "client_subject",
"resumed"} of the connection it came over ("tls": null on the control port;
"sni": null when the client sent none).

Run: tls_origin.py --listen 127.0.0.1:PORT --control 127.0.0.1:PORT
                   --cert FILE --key FILE [--client-ca FILE] [--tls-max 1.2|1.3]
"""
import argparse
import os
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import origin_app  # noqa: E402

_conn_info = threading.local()


class TlsAppState(origin_app.AppState):
    def __init__(self):
        super().__init__()
        self.handshakes = 0
        self.refused = 0
        self.resumed = 0
        self.closed = 0
        self.errors = []

    def record(self, entry):
        entry["tls"] = getattr(_conn_info, "tls", None)
        super().record(entry)

    def handshake(self, ok, resumed=False, error="", closed=False):
        with self.lock:
            if ok:
                self.handshakes += 1
                self.resumed += 1 if resumed else 0
            elif closed:
                self.closed += 1
            else:
                self.refused += 1
                self.errors.append(error[:300])

    def tls_counts(self):
        with self.lock:
            return {"handshakes": self.handshakes, "refused": self.refused,
                    "resumed": self.resumed, "closed": self.closed,
                    "errors": list(self.errors)}


class Handler(origin_app.Handler):
    def _handle(self):
        if self.path == "/tls" and self.command == "GET" and _conn_info.tls is None:
            self._json(self.server.state.tls_counts())
            return
        super()._handle()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _handle


def _subject(der_info):
    if not der_info:
        return None
    parts = []
    for rdn in der_info.get("subject", ()):
        for k, v in rdn:
            parts.append("%s=%s" % ({"commonName": "CN", "organizationName": "O"}.get(k, k), v))
    return ",".join(parts)


class ControlServer(origin_app.TcpServer):
    def finish_request(self, request, client_address):
        _conn_info.tls = None
        super().finish_request(request, client_address)


class TlsServer(origin_app.TcpServer):
    """Accepts in the main thread, handshakes in the connection's thread."""

    def __init__(self, addr, ctx):
        self.ssl_ctx = ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ssl_ctx.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            request.do_handshake()
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError) as e:
            self.state.handshake(False, error=str(e), closed=True)
            return
        except (ssl.SSLError, OSError) as e:
            self.state.handshake(False, error=str(e))
            return
        request.settimeout(None)
        self.state.handshake(True, resumed=request.session_reused)
        peer = None
        try:
            peer = request.getpeercert()
        except (ValueError, ssl.SSLError):
            peer = None
        _conn_info.tls = {"version": request.version(), "sni": getattr(request, "sni", None),
                          "client_subject": _subject(peer), "resumed": request.session_reused}
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # a peer that resets mid-request is a test's business, not ours


def _note_sni(sock, name, ctx):
    sock.sni = name


def make_context(cert, key, client_ca=None, tls_max=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = _note_sni
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT of the TLS port")
    ap.add_argument("--control", required=True, help="HOST:PORT of the plain control port")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", help="require a client certificate from this CA")
    ap.add_argument("--tls-max", choices=["1.2", "1.3"])
    args = ap.parse_args(argv)
    state = TlsAppState()
    tls = TlsServer(_addr(args.listen), make_context(args.cert, args.key, args.client_ca,
                                                     args.tls_max))
    control = ControlServer(_addr(args.control), Handler)
    tls.state = control.state = state
    t = threading.Thread(target=tls.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    print("listening", args.listen, "control", args.control, flush=True)
    try:
        control.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
