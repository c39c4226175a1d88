"""A bounded load generator for the operations tests: a few threads send
requests without pause while the test reloads, rotates or upgrades the
process under them, and every request that did not come back as expected is
recorded with its reason.

Two kinds of threads:
  keep-alive  one connection for up to per_conn requests, then a new one, so
              connections start and end on both sides of every reload
  new         a fresh connection (TLS handshake with a client certificate)
              and Connection: close for every request

Each response may be given a label (label(resp), e.g. which identity header
it carried); the labels a keep-alive connection saw are kept per connection,
so a test can check that a connection kept the configuration it started
with. The load ends at stop(), or by itself after max_seconds or
max_requests: a test that forgets it cannot hang the suite."""
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from .client import ClosedError

KEEPALIVE = "keep-alive"
NEW = "new"


@dataclass
class Failure:
    at: float             # seconds since the load started
    kind: str             # KEEPALIVE or NEW
    reason: str

    def __str__(self):
        return "+%.3fs %s: %s" % (self.at, self.kind, self.reason)


@dataclass
class ConnRecord:
    """One connection a keep-alive thread used."""
    opened: float
    closed: float = None
    labels: list = field(default_factory=list)   # one per response, in order


class _Retry(Exception):
    """A reused connection ended before a single response byte came back."""


class Load:
    """connect() returns a connected lib.client.Conn (TLS handshake done);
    request(conn) sends one request and returns the Response; check(resp)
    returns None when the response is as expected, else the reason.

    retry_idle_close: a keep-alive connection that the server closed before
    answering a request sent on it after an earlier answer is reopened and
    the request sent again, once; the count is in .retries. This is what
    every HTTP client does (RFC 9112 9.3.1): the server may close an idle
    connection (on shutdown) while the next request is in flight. Without
    it, such a close is a failure."""

    def __init__(self, connect, request, check=None, label=None, keepalive_threads=2,
                 new_threads=2, per_conn=40, max_seconds=60.0, max_requests=None,
                 retry_idle_close=False, name="load"):
        self.connect = connect
        self.request = request
        self.check = check or (lambda r: None if r.status == 200 else "status %d" % r.status)
        self.label = label
        self.per_conn = per_conn
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.retry_idle_close = retry_idle_close
        self.name = name
        self.lock = threading.Lock()
        self.failures = []
        self.labels = Counter()
        self.conns = []
        self.ok = Counter()          # successful requests by kind
        self.retries = 0
        self._stop = threading.Event()
        self._started = None
        kinds = [KEEPALIVE] * keepalive_threads + [NEW] * new_threads
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True,
                                         name="%s-%s-%d" % (name, k, i))
                        for i, k in enumerate(kinds)]

    # -- control -----------------------------------------------------------------
    def start(self):
        self._started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=40.0):
        """Stops the threads (each finishes its request in flight) and waits
        for them; raises when one does not end within timeout."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.01, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, "load threads still running after %.0fs: %s" % (timeout, alive)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def elapsed(self):
        """Seconds since start(): failures are reported on this scale."""
        return time.monotonic() - self._started

    def running(self):
        return any(t.is_alive() for t in self.threads)

    # -- what happened -------------------------------------------------------------
    @property
    def total(self):
        with self.lock:
            return sum(self.ok.values()) + len(self.failures)

    def count(self, kind=None):
        """Successful requests so far (of one kind, or all)."""
        with self.lock:
            return self.ok[kind] if kind else sum(self.ok.values())

    def failure_report(self, limit=20):
        with self.lock:
            fails = list(self.failures)
        head = "%d failed of %d requests (%s; %d retried after an idle close)" % (
            len(fails), self.total, dict(self.ok), self.retries)
        return "\n".join([head] + [str(f) for f in fails[:limit]])

    def assert_no_failures(self):
        with self.lock:
            n = len(self.failures)
        assert n == 0, "%s: %s" % (self.name, self.failure_report())

    def label_changes(self):
        """Keep-alive connections whose responses carried more than one label."""
        with self.lock:
            return [c for c in self.conns if len(set(c.labels)) > 1]

    def open_conns_since(self, t):
        """Keep-alive connections still open that were opened before t."""
        with self.lock:
            return [c for c in self.conns if c.closed is None and c.opened < t]

    def wait_requests(self, n, timeout, kinds=(KEEPALIVE, NEW)):
        """Waits until n more successful requests of each of kinds have been
        made (threads of that kind must exist); raises on timeout or when the
        load has stopped."""
        with self.lock:
            want = {k: self.ok[k] + n for k in kinds}
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if all(self.ok[k] >= want[k] for k in kinds):
                    return
                have = dict(self.ok)
            if not self.running():
                raise AssertionError("%s stopped while waiting for %d more requests (%s)"
                                     % (self.name, n, self.failure_report()))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: %d more requests of %s did not complete within %.1fs "
                                     "(now %s, wanted %s)\n%s" % (self.name, n, kinds, timeout,
                                                                 have, want, self.failure_report()))
            time.sleep(0.01)

    # -- the threads -----------------------------------------------------------------
    def _over(self):
        if self._stop.is_set():
            return True
        if time.monotonic() - self._started > self.max_seconds:
            return True
        return self.max_requests is not None and self.total >= self.max_requests

    def _fail(self, kind, reason):
        with self.lock:
            self.failures.append(Failure(self.elapsed(), kind, reason))

    def _success(self, kind, resp, rec=None):
        lab = self.label(resp) if self.label else None
        with self.lock:
            self.ok[kind] += 1
            self.labels[lab] += 1
            if rec is not None:
                rec.labels.append(lab)

    def _judge(self, kind, resp, rec=None):
        why = self.check(resp)
        if why:
            self._fail(kind, why)
        else:
            self._success(kind, resp, rec)

    def _run(self, kind):
        if kind == NEW:
            while not self._over():
                self._one_new()
        else:
            while not self._over():
                self._one_keepalive_conn()

    def _one_new(self):
        try:
            conn = self.connect()
        except (ssl.SSLError, OSError) as e:
            self._fail(NEW, "connect: %s" % e)
            return
        try:
            resp = self.request(conn)
        except (ssl.SSLError, OSError, ClosedError, AssertionError) as e:
            self._fail(NEW, "request: %r" % e)
            return
        finally:
            conn.close()
        self._judge(NEW, resp)

    def _open_conn(self):
        try:
            conn = self.connect()
        except (ssl.SSLError, OSError) as e:
            self._fail(KEEPALIVE, "connect: %s" % e)
            return None, None
        rec = ConnRecord(time.monotonic())
        with self.lock:
            self.conns.append(rec)
        return conn, rec

    def _close_conn(self, conn, rec):
        conn.close()
        rec.closed = time.monotonic()

    def _one_keepalive_conn(self):
        conn, rec = self._open_conn()
        if conn is None:
            return
        try:
            n = 0
            while n < self.per_conn and not self._over():
                try:
                    resp = self._request_reused(conn, n > 0)
                except _Retry:
                    with self.lock:
                        self.retries += 1
                    self._close_conn(conn, rec)
                    conn, rec = self._open_conn()
                    if conn is None:
                        return
                    n = 0
                    continue
                except (ssl.SSLError, OSError, ClosedError, AssertionError) as e:
                    self._fail(KEEPALIVE, "request %d on a connection: %r" % (n + 1, e))
                    return
                n += 1
                self._judge(KEEPALIVE, resp, rec)
                if (resp.header("Connection") or "").lower() == "close":
                    return
        finally:
            if conn is not None:
                self._close_conn(conn, rec)

    def _request_reused(self, conn, reused):
        """request(conn); on a reused connection that ended before any
        response byte came back, _Retry when retrying is allowed."""
        try:
            return self.request(conn)
        except (ssl.SSLError, OSError, ClosedError) as e:
            if reused and self.retry_idle_close and not conn.buf and _closed_by_peer(e):
                raise _Retry() from e
            raise


def _closed_by_peer(e):
    if isinstance(e, (ClosedError, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                      ssl.SSLZeroReturnError)):
        return True
    return isinstance(e, ssl.SSLError) and "EOF" in str(e)


class Burst:
    """New TCP connections opened as fast as one thread can for a while
    (while a listener closes, say), held unaccepted-or-not, and only then
    each used for one request with finish(conn_from_socket, request, check):
    a connection the kernel put in a queue nobody will accept from shows up
    as a reset when it is used."""

    def __init__(self, port, seconds, host="127.0.0.1", max_conns=400):
        self.port = port
        self.host = host
        self.seconds = seconds
        self.max_conns = max_conns
        self.socks = []
        self.failures = []
        self.thread = threading.Thread(target=self._run, name="burst", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        end = time.monotonic() + self.seconds
        while time.monotonic() < end and len(self.socks) < self.max_conns:
            try:
                self.socks.append(socket.create_connection((self.host, self.port), timeout=10))
            except OSError as e:
                self.failures.append("connect %d: %s" % (len(self.socks), e))

    def finish(self, wrap, request, check, timeout=30.0, threads=8):
        """Waits for the burst, then uses every socket, from a few threads
        at once so none waits long for its turn: conn = wrap(sock) (a
        handshake), check(request(conn)). Returns the number of sockets."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the connection burst did not end"
        todo = list(enumerate(self.socks))
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    i, s = todo.pop(0)
                why = self._use(s, wrap, request, check)
                if why:
                    with lock:
                        self.failures.append("connection %d: %s" % (i, why))
        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout)
        assert not any(t.is_alive() for t in pool), "the burst's requests did not end"
        return len(self.socks)

    @staticmethod
    def _use(s, wrap, request, check):
        try:
            conn = wrap(s)
        except (ssl.SSLError, OSError) as e:
            s.close()
            return "handshake: %r" % e
        try:
            return check(request(conn))
        except (ssl.SSLError, OSError, ClosedError, AssertionError) as e:
            return "request: %r" % e
        finally:
            conn.close()
