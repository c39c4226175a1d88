"""Other edges pulling through `pullgate guard`: HAProxy (/usr/sbin/haproxy)
with `server ... ssl crt client.pem ca-file ca.pem verify required sni`,
curl -> HAProxy -> guard -> app. With the client certificate the app sees
the guard's identity headers for it; without one the guard refuses the
handshake, HAProxy answers 502/503 and the app never sees the request.

nginx as the pulling edge (proxy_ssl_certificate, proxy_ssl_verify on,
proxy_ssl_name) is covered by test_guard_nginx_client.py."""
import json
import os
import subprocess

import pytest

from lib.app import header_values
from lib.pki import EDGE_NAME
from lib.peers import HaproxyEdge
from lib.tools import need


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


def curl_get(port, path):
    """(status, body) of a plain-HTTP GET through HAProxy."""
    r = subprocess.run([need("curl"), "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, timeout=40)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


def test_haproxy_with_client_certificate(guard, origin, pki, session_dir, log_dir):
    h = HaproxyEdge(os.path.join(session_dir, "haproxy-cert"), log_dir, guard.port,
                    pki.origin_ca.cert, client_cert=pki.good, sni="localhost")
    try:
        before = origin.count()
        status, body = curl_get(h.port, "/headers")
        assert status == 200, (status, body[:300], h.error_text()[-1500:])
        headers = json.loads(body)
        assert header_values(headers, "X-Client-Verified") == ["SUCCESS"]
        subject = header_values(headers, "X-Client-Subject")
        assert len(subject) == 1 and EDGE_NAME in subject[0], subject
        assert header_values(headers, "X-Client-Fingerprint") == \
            [pki.good.info["sha256"].replace(":", "").lower()]
        assert len(header_values(headers, "Client-Cert")) == 1
        assert origin.count() == before + 1
    finally:
        h.stop()


def test_haproxy_without_client_certificate(guard, origin, pki, session_dir, log_dir):
    h = HaproxyEdge(os.path.join(session_dir, "haproxy-nocert"), log_dir, guard.port,
                    pki.origin_ca.cert, client_cert=None, sni="localhost")
    try:
        before = origin.count()
        mark = guard.mark()
        status, body = curl_get(h.port, "/")
        assert status in (502, 503), (status, body[:300])
        assert b"hello from origin" not in body
        guard.wait_refusal("no certificate", mark)
        assert origin.count() == before
    finally:
        h.stop()
