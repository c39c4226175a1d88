"""A scripted plain-HTTP/1.1 origin for the edge cache tests, running in the
test's own process (threads): each test says per path what the origin
answers (status, headers, body, a delay before the head, a trickled body),
and afterwards asks how many requests reached each path and with which
headers. The request count is the cache tests' main oracle: a hit is a
request the origin never saw.

It answers 304 by itself when a script carries an ETag (or Last-Modified)
and the request's If-None-Match (or If-Modified-Since) matches it, and it
can be taken down (listener and open connections closed: connects are
refused) or switched to answer every request with a 5xx.

    origin = CacheOrigin()
    origin.script("/a", headers=[("Cache-Control", "max-age=60")])
    ... visit the edge ...
    origin.count("/a"), origin.last("/a").header("if-none-match")
"""
import email.utils
import socket
import threading
import time

from .ports import free_port


def http_date(t):
    """An IMF-fixdate for the Unix time t."""
    return email.utils.formatdate(t, usegmt=True)


class Seen:
    """One request as the origin received it."""

    def __init__(self, method, target, headers, body, n):
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.headers = headers          # [(name, value)] in arrival order
        self.body = body
        self.n = n                      # its number among the requests for target
        self.at = time.monotonic()

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def __repr__(self):
        return "<%s %s %r>" % (self.method, self.target, self.headers)


class Script:
    """What the origin answers for one path. body may be bytes, or None for
    "<host> <target> #<n>" (n counts the requests for the target, so every
    pull yields a body of its own); a callable script(req) -> Script can
    stand in for a whole Script."""

    def __init__(self, status=200, headers=(), body=None, delay=0.0, etag=None,
                 last_modified=None, answer_304=True, headers_304=None, chunked=False,
                 trickle=None):
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.delay = delay              # seconds before the response head
        self.etag = etag                # sent as ETag; If-None-Match matches it
        self.last_modified = last_modified  # Unix time, sent as Last-Modified
        self.answer_304 = answer_304
        self.headers_304 = headers_304  # the 304's headers (default: the 200's)
        self.chunked = chunked          # chunked body, no Content-Length
        self.trickle = trickle          # (piece bytes, pause seconds) for the body


class CacheOrigin:
    """The origin on 127.0.0.1:.port (address .address). Paths without a
    script answer 200 with a body and no caching headers."""

    def __init__(self):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self._lock = threading.Lock()
        self._scripts = {}
        self._seen = []
        self._per_target = {}
        self._conns = set()
        self._error = None
        self._listener = None
        self._stopped = False
        self.up()

    # -- scripting -------------------------------------------------------------
    def script(self, path, script=None, **kw):
        """Sets what path (the target, or the path without its query)
        answers: a Script, a callable(Seen) -> Script, or Script's keywords."""
        with self._lock:
            self._scripts[path] = script if script is not None else Script(**kw)

    def error(self, status):
        """Answers every request with status (500, 503, ...); None ends it."""
        with self._lock:
            self._error = status

    def down(self):
        """Closes the listener and every open connection: connects are
        refused from now on, a pooled connection finds its peer gone."""
        with self._lock:
            lsock, self._listener = self._listener, None
            conns = list(self._conns)
        if lsock is not None:
            try:
                lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            lsock.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def up(self):
        """Listens (again) on the same port."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(512)
        with self._lock:
            self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def stop(self):
        self._stopped = True
        self.down()

    # -- what it saw -------------------------------------------------------------
    def requests(self, path=None):
        """The requests received, all or for path (a target with "?" is
        compared whole, a path without "?" regardless of the query)."""
        with self._lock:
            seen = list(self._seen)
        if path is None:
            return seen
        if "?" in path:
            return [r for r in seen if r.target == path]
        return [r for r in seen if r.path == path]

    def count(self, path=None):
        return len(self.requests(path))

    def last(self, path=None):
        r = self.requests(path)
        assert r, "the origin received no request for %s" % path
        return r[-1]

    # -- serving -------------------------------------------------------------------
    def _accept(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not lsock:
                    c.close()
                    return
                self._conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        try:
            c.settimeout(60)
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = []
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers.append((k.strip(), v.strip()))
                length = 0
                for k, v in headers:
                    if k.lower() == "content-length":
                        length = int(v)
                while len(buf) < length:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[:length], buf[length:]
                with self._lock:
                    n = self._per_target.get(target, 0) + 1
                    self._per_target[target] = n
                    seen = Seen(method, target, headers, body, n)
                    self._seen.append(seen)
                    script = self._scripts.get(target, self._scripts.get(seen.path))
                    error = self._error
                if not self._answer(c, seen, script, error):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(c)
            c.close()

    def _answer(self, c, req, script, error):
        """Writes one response; False when the connection is to close."""
        if error is not None:
            body = b"origin error\n"
            c.sendall(b"HTTP/1.1 %d Error\r\nContent-Length: %d\r\n\r\n%s"
                      % (error, len(body), body))
            return True
        if callable(script):
            script = script(req)
        if script is None:
            script = Script()
        if script.delay:
            time.sleep(script.delay)
        headers = list(script.headers)
        if script.etag is not None:
            headers.append(("ETag", script.etag))
        if script.last_modified is not None:
            headers.append(("Last-Modified", http_date(script.last_modified)))
        status = script.status
        if script.answer_304 and status == 200 and self._not_modified(req, script):
            status = 304
            if script.headers_304 is not None:
                headers = list(script.headers_304)
        body = script.body
        if body is None:
            body = ("%s %s #%d" % (req.header("host"), req.target, req.n)).encode()
        bodiless = status in (204, 304) or status < 200
        if bodiless or req.method == "HEAD":
            send_body = b""
        else:
            send_body = body
        lines = ["HTTP/1.1 %d %s" % (status, "Not Modified" if status == 304 else "Scripted")]
        lines += ["%s: %s" % kv for kv in headers]
        if not bodiless:
            if script.chunked:
                lines.append("Transfer-Encoding: chunked")
            else:
                lines.append("Content-Length: %d" % len(body))
        c.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if not send_body:
            if script.chunked and not bodiless and req.method != "HEAD":
                c.sendall(b"0\r\n\r\n")
            return True
        piece, pause = script.trickle or (len(send_body), 0)
        for i in range(0, len(send_body), piece):
            part = send_body[i:i + piece]
            c.sendall(b"%x\r\n%s\r\n" % (len(part), part) if script.chunked else part)
            if pause:
                time.sleep(pause)
        if script.chunked:
            c.sendall(b"0\r\n\r\n")
        return True

    @staticmethod
    def _not_modified(req, script):
        inm = req.header("if-none-match")
        if inm is not None:
            if script.etag is None:
                return False
            tags = [t.strip() for t in inm.split(",")]
            want = script.etag[2:] if script.etag.startswith("W/") else script.etag
            return "*" in tags or any((t[2:] if t.startswith("W/") else t) == want for t in tags)
        ims = req.header("if-modified-since")
        if ims is not None and script.last_modified is not None:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
            return int(script.last_modified) <= since
        return False
