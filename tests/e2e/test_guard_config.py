"""Configuration handling: `pullgate check` accepts a valid file and reports
every error of a bad one as file:line; the guard refuses to start on a bad
configuration, a missing certificate file or an expired server certificate,
naming the problem; trusting a shared anchor without pins starts with a
warning."""
import re
import subprocess

import pytest

from lib.guard import base_config, write_config
from lib.ports import free_port

BAD = """\
guard:
  listen:
    - 127.0.0.1:99999
  certificate: {cert}
  key: {key}
  no_such_key: 1
  trust:
    ca: [{ca}]
  backend:
    address: 127.0.0.1:9000
    response_timeout: soon
  limits:
    header_count: 500
  log_level: chatty
"""
BAD_LINES = {3, 6, 11, 13, 14}


def run(binary, *args, timeout=30):
    return subprocess.run([binary] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def bad_config(pki, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BAD.format(cert=pki.server.cert, key=pki.server.key, ca=pki.edge_ca.cert))
    return str(p)


def error_lines(text, name):
    """{line number: message} of the "FILE:LINE: message" lines for file name."""
    out = {}
    for m in re.finditer(r"^(?:.*/)?%s:(\d+): (.+)$" % re.escape(name), text, re.M):
        out.setdefault(int(m.group(1)), m.group(2))
    return out


def test_check_valid(pullgate_bin, pki, origin, tmp_path):
    path = write_config(str(tmp_path / "ok.yaml"),
                        base_config(pki, free_port(), origin.address))
    r = run(pullgate_bin, "check", "-c", path)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout + r.stderr


def test_check_reports_every_error_with_its_line(pullgate_bin, pki, tmp_path):
    r = run(pullgate_bin, "check", "-c", bad_config(pki, tmp_path))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    found = error_lines(r.stderr, "bad.yaml")
    assert set(found) == BAD_LINES, "error lines %s, expected %s\n%s" % (
        sorted(found), sorted(BAD_LINES), r.stderr)
    assert "configuration ok" not in r.stdout + r.stderr


def test_check_missing_file(pullgate_bin, tmp_path):
    r = run(pullgate_bin, "check", "-c", str(tmp_path / "absent.yaml"))
    assert r.returncode != 0
    assert "absent.yaml" in r.stderr


def test_guard_refuses_bad_config(pullgate_bin, pki, tmp_path):
    r = run(pullgate_bin, "guard", "-c", bad_config(pki, tmp_path))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert set(error_lines(r.stderr, "bad.yaml")) == BAD_LINES, r.stderr


def _start_fails(binary, path, timeout=20):
    try:
        r = run(binary, "guard", "-c", path, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("pullgate guard started with %s instead of refusing" % path)
    return r


def test_missing_certificate_file_named(pullgate_bin, pki, origin, tmp_path):
    missing = str(tmp_path / "no-such-server.pem")
    path = write_config(str(tmp_path / "g.yaml"),
                        base_config(pki, free_port(), origin.address, certificate=missing))
    r = _start_fails(pullgate_bin, path)
    assert r.returncode != 0
    assert "no-such-server.pem" in r.stderr, r.stderr


def test_expired_server_certificate_named(pullgate_bin, pki, pki_tool, origin, tmp_path):
    old = pki_tool.issue("server", "old-server", "localhost", ca=pki.origin_ca,
                         dns=["localhost"], start="-30d", days=10)
    path = write_config(str(tmp_path / "g.yaml"),
                        base_config(pki, free_port(), origin.address,
                                    certificate=old.cert, key=old.key))
    r = _start_fails(pullgate_bin, path)
    assert r.returncode != 0
    assert "old-server.pem" in r.stderr, r.stderr
    assert "expired" in r.stderr.lower(), r.stderr


SHARED_WARNING = r"(?i)any holder of a certificate"


@pytest.mark.parametrize("trust,pins,warned", [
    ({"preset": ["cloudflare"]}, None, True),
    ({"preset": ["cloudflare"]}, {"subject": ["edge.example.com"]}, False),
    ({"ca": ["EDGE_CA"]}, None, False),
], ids=["shared-no-pins", "shared-pinned", "own-ca-no-pins"])
def test_shared_anchor_warning(guards, pki, origin, trust, pins, warned):
    trust = {k: [pki.edge_ca.cert if x == "EDGE_CA" else x for x in v]
             for k, v in trust.items()}
    port, section = guards.config(origin.address)
    section["trust"] = trust
    if pins:
        section["pins"] = pins
    g = guards.start_section(port, section)
    if warned:
        line = g.proc.wait_line(SHARED_WARNING, timeout=5)
        assert "cloudflare" in line.lower() or "origin" in line.lower(), line
    else:
        line = g.proc.find_line(SHARED_WARNING)
        assert line is None, line
