"""Starting the origin app (origin_app.py) as its own process and asking it
what it received. The app runs in a separate process so big transfers do not
compete with the test's client for one interpreter lock."""
import http.client
import json
import os
import socket
import sys

from . import ports, procs, waiting

APP_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "origin_app.py")


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class OriginApp:
    """A running origin app on 127.0.0.1:port, or on a unix socket."""

    def __init__(self, log_dir, unix_path=None, name="origin-app"):
        self.unix_path = unix_path
        if unix_path:
            self.port = None
            self.address = "unix:" + unix_path
            args = ["--unix", unix_path]
        else:
            self.port = ports.free_port()
            self.address = "127.0.0.1:%d" % self.port
            args = ["--listen", self.address]
        self.proc = procs.Proc(name, ["/usr/bin/python3", APP_SCRIPT] + args, log_dir)
        waiting.wait_for(self._ready, 15, "the origin app at %s to accept" % self.address)

    def _ready(self):
        if not self.proc.alive():
            raise AssertionError("origin app exited early:\n" + self.proc.tail())
        if self.unix_path:
            return ports.accepts_unix(self.unix_path)
        return ports.accepts_tcp(self.port)

    def _conn(self, timeout=10):
        if self.unix_path:
            return _UnixHTTPConnection(self.unix_path, timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get_json(self, path):
        c = self._conn()
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            assert r.status == 200, "origin app %s answered %d" % (path, r.status)
            return json.loads(body)
        finally:
            c.close()

    def count(self):
        """How many (non-control) requests the app has received so far."""
        return self.get_json("/count")["requests"]

    def log(self, since=0):
        """The requests the app logged from index since on."""
        return self.get_json("/log?since=%d" % since)

    def stop(self):
        return self.proc.stop()


def header_values(headers, name):
    """All values of header name (any case) in a [[name, value], ...] list."""
    name = name.lower()
    return [v for k, v in headers if k.lower() == name]


def header_names(headers):
    return [k.lower() for k, _ in headers]


if __name__ == "__main__":
    sys.exit("run tests/lib/origin_app.py to start the app by hand")
