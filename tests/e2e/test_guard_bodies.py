"""Big bodies stream through the guard in bounded memory: a 1 GiB upload
(chunked and with Content-Length) and a 1 GiB download arrive whole (byte
count and SHA-256), while the guard's resident memory grows by less than
MAX_GROWTH over its idle baseline."""
import hashlib
import json

import pytest

from lib.client import Conn, client_context
from lib.guard import SMALL_QUARANTINE
from lib.origin_app import pattern_chunks, pattern_sha256
from lib.rss import RssSampler, status_kib

GIB = 1 << 30
MAX_GROWTH_KIB = 64 * 1024


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address, env=SMALL_QUARANTINE,
                               timeouts={"body": "60s", "idle": "60s"},
                               backend={"response_timeout": "120s"})


@pytest.fixture(scope="module")
def expected_sha():
    return pattern_sha256(GIB)


def connect(guard, pki):
    return Conn.tls(guard.port, client_context(pki.origin_ca.cert, pki.good), timeout=120)


def warm_up(guard, pki):
    """One small exchange of each kind, so the baseline includes the
    connection and buffer set-up every transfer pays for."""
    with connect(guard, pki) as c:
        c.send_streamed("POST", "/sink", pattern_chunks(1 << 20))
        assert c.read_response().status == 200
        c.send(b"GET /bytes/1048576 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert c.read_response().body_len == 1 << 20


def measured(guard, pki, fn):
    """Runs fn() while sampling the guard's RSS; returns (fn's result, growth KiB)."""
    warm_up(guard, pki)
    baseline = status_kib(guard.pid, "VmRSS")
    with RssSampler(guard.pid) as s:
        result = fn()
    hwm = status_kib(guard.pid, "VmHWM")
    growth = s.peak_kib - baseline
    print("rss baseline %d KiB peak %d KiB hwm %d KiB samples %d" % (baseline, s.peak_kib, hwm, s.samples))
    return result, growth, baseline, hwm, s.samples


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_upload_1gib(guard, origin, pki, expected_sha, framing):
    def upload():
        with connect(guard, pki) as c:
            c.send_streamed("PUT", "/sink", pattern_chunks(GIB),
                            length=GIB if framing == "content-length" else None)
            r = c.read_response(timeout=120)
        assert r.status == 200, r
        return json.loads(r.body)

    got, growth, baseline, hwm, samples = measured(guard, pki, upload)
    assert got == {"received": GIB, "sha256": expected_sha}
    assert samples > 0
    assert growth < MAX_GROWTH_KIB, ("guard RSS grew by %d KiB (baseline %d KiB, VmHWM %d KiB)"
                                     % (growth, baseline, hwm))


def test_download_1gib(guard, origin, pki, expected_sha):
    def download():
        h = hashlib.sha256()
        with connect(guard, pki) as c:
            c.send(b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % GIB)
            r = c.read_response(timeout=120, sink=h.update)
        assert r.status == 200
        return r.body_len, h.hexdigest()

    got, growth, baseline, hwm, samples = measured(guard, pki, download)
    assert got == (GIB, expected_sha)
    assert growth < MAX_GROWTH_KIB, ("guard RSS grew by %d KiB (baseline %d KiB, VmHWM %d KiB)"
                                     % (growth, baseline, hwm))
