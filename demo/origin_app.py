#!/usr/bin/env python3
"""The demo origin app: answers every request with a short page that shows the
identity headers pullgate guard set, so the demo can show who came through."""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "demo-origin"

    def do_GET(self):
        lines = [f"hello from the origin app: {self.command} {self.path}"]
        for name in ("Host", "X-Client-Verified", "X-Client-Subject", "X-Client-Fingerprint",
                     "X-Forwarded-For", "X-Forwarded-Proto", "Via", "CF-Connecting-IP"):
            value = self.headers.get(name)
            if value:
                lines.append(f"  {name}: {value}")
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=60")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("origin app: " + (fmt % args) + "\n")


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
