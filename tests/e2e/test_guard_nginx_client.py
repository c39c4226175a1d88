"""nginx as the edge in front of the guard: curl -> nginx -> guard -> app.
With proxy_ssl_certificate the request arrives with the guard's identity
headers; without it nginx gets a refused handshake and answers 502, and the
app never sees the request."""
import json
import subprocess

import pytest

from lib.app import header_values
from lib.pki import EDGE_NAME
from lib.tools import Nginx, need


@pytest.fixture(scope="module")
def guard(module_guards, origin):
    return module_guards.start(origin.address)


def curl_get(port, path):
    """(status, body) of curl's plain-HTTP GET to nginx."""
    r = subprocess.run([need("curl"), "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, timeout=40)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


def test_nginx_with_client_certificate(guard, origin, pki, tmp_path, log_dir):
    nginx = Nginx(str(tmp_path / "nginx"), log_dir, guard.port, pki, client_cert=pki.good)
    try:
        before = origin.count()
        status, body = curl_get(nginx.port, "/headers")
        assert status == 200, (body, nginx.error_text()[-2000:])
        headers = json.loads(body)
        assert header_values(headers, "X-Client-Verified") == ["SUCCESS"]
        subject = header_values(headers, "X-Client-Subject")
        assert len(subject) == 1 and EDGE_NAME in subject[0]
        fp = pki.good.info["sha256"].replace(":", "").lower()
        assert header_values(headers, "X-Client-Fingerprint") == [fp]
        assert len(header_values(headers, "Client-Cert")) == 1
        assert origin.count() == before + 1
    finally:
        nginx.stop()


def test_nginx_without_client_certificate(guard, origin, pki, tmp_path, log_dir):
    nginx = Nginx(str(tmp_path / "nginx-nocert"), log_dir, guard.port, pki, client_cert=None)
    try:
        before = origin.count()
        mark = guard.mark()
        status, body = curl_get(nginx.port, "/")
        assert status == 502, (status, body)
        assert b"hello from origin" not in body
        guard.wait_refusal("no certificate", mark)
        assert origin.count() == before
    finally:
        nginx.stop()
