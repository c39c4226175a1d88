#!/usr/bin/python3
"""origin_app: the origin application the end-to-end tests put behind the guard.

A threaded HTTP/1.1 server with keep-alive, on 127.0.0.1:PORT or a unix
socket, that COUNTS the requests it receives, so a test can prove that a
refused client or a smuggled request never reached it.

  GET /count           {"requests": N}                  (control: not counted)
  GET /log[?since=K]   JSON list of the requests logged (control: not counted)
  GET /headers         JSON list of [name, value] pairs as received
  GET /bytes/N         N bytes of pattern_chunks(N), streamed in 64 KiB pieces
  POST|PUT /sink       reads the body (Content-Length or chunked) and answers
                       {"received": N, "sha256": HEX}
  GET /slow/SECONDS    waits, then answers "slow done\n"
  GET /status/CODE     answers with that status and "status CODE\n"
  anything else        200 "hello from origin\n"

Each logged request has: method, path, version, headers, peer (the client's
port, so connection reuse shows), conn (a serial per accepted connection).

Run: origin_app.py --listen 127.0.0.1:PORT | --unix PATH
"""
import argparse
import hashlib
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = 64 * 1024
# The repeating content of /bytes/N; tests rebuild it with pattern_chunks().
_BLOCK = bytes(range(256)) * (PIECE // 256)
CONTROL_PATHS = ("/count", "/log")


def pattern_chunks(n, piece=PIECE):
    """Yields the n bytes /bytes/n answers with, piece bytes at a time."""
    view = memoryview(_BLOCK)
    left = n
    while left > 0:
        k = min(left, piece, len(_BLOCK))
        yield view[:k]
        left -= k


def pattern_sha256(n):
    h = hashlib.sha256()
    for chunk in pattern_chunks(n):
        h.update(chunk)
    return h.hexdigest()


class AppState:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.log = []
        self.conns = 0

    def next_conn(self):
        with self.lock:
            self.conns += 1
            return self.conns

    def record(self, entry):
        with self.lock:
            self.requests += 1
            entry["index"] = len(self.log)
            self.log.append(entry)

    def snapshot(self, since):
        with self.lock:
            return {"requests": self.requests}, list(self.log[since:])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "origin-app"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        self.conn_id = self.server.state.next_conn()

    def log_message(self, fmt, *args):
        pass

    def _peer(self):
        addr = self.client_address
        if isinstance(addr, tuple) and len(addr) >= 2:
            return addr[1]
        return "unix"

    def _send(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj):
        self._send(200, json.dumps(obj).encode(), "application/json")

    def _read_body(self, sink):
        """Reads the request body into sink(bytes); returns its length."""
        te = self.headers.get("Transfer-Encoding", "")
        total = 0
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("EOF in chunk size")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                left = size
                while left:
                    data = self.rfile.read(min(left, 256 * 1024))
                    if not data:
                        raise ConnectionError("EOF in chunk")
                    sink(data)
                    left -= len(data)
                    total += len(data)
                self.rfile.readline(16)
        length = int(self.headers.get("Content-Length", "0") or "0")
        left = length
        while left:
            data = self.rfile.read(min(left, 256 * 1024))
            if not data:
                raise ConnectionError("EOF in body")
            sink(data)
            left -= len(data)
            total += len(data)
        return total

    def _control(self, path, query):
        counts, entries = self.server.state.snapshot(0)
        if path == "/count":
            self._json(counts)
            return
        since = 0
        for part in query.split("&"):
            if part.startswith("since="):
                since = int(part[6:])
        self._json(entries[since:])

    def _handle(self):
        path, _, query = self.path.partition("?")
        if path in CONTROL_PATHS and self.command == "GET":
            self._control(path, query)
            return
        entry = {
            "method": self.command,
            "path": self.path,
            "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "peer": self._peer(),
            "conn": self.conn_id,
            "time": time.time(),
        }
        self.server.state.record(entry)
        if path == "/sink" and self.command in ("POST", "PUT"):
            h = hashlib.sha256()
            n = self._read_body(h.update)
            self._json({"received": n, "sha256": h.hexdigest()})
            return
        # Any other request's body is read and dropped, so keep-alive holds.
        self._read_body(lambda data: None)
        if path == "/headers":
            self._json(entry["headers"])
        elif path.startswith("/bytes/"):
            n = int(path[len("/bytes/"):])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            if self.command != "HEAD":
                for chunk in pattern_chunks(n):
                    self.wfile.write(chunk)
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self._send(code, b"status %d\n" % code)
        elif path.startswith("/slow/"):
            time.sleep(float(path[len("/slow/"):]))
            self._send(200, b"slow done\n")
        else:
            self._send(200, b"hello from origin\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _handle


class TcpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def make_server(listen=None, unix=None):
    if unix:
        if os.path.exists(unix):
            os.unlink(unix)
        server = UnixServer(unix, Handler)
    else:
        host, _, port = listen.rpartition(":")
        server = TcpServer((host, int(port)), Handler)
    server.state = AppState()
    return server


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--listen", help="HOST:PORT")
    g.add_argument("--unix", help="unix socket path")
    args = ap.parse_args(argv)
    server = make_server(args.listen, args.unix)
    print("listening", args.listen or args.unix, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
