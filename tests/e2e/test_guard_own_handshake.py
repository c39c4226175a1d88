"""pullgate's own TLS 1.3 handshake in the guard, seen from real clients:
which hellos it answers (TLS 1.3 with an x25519 share) and which it leaves
to OpenSSL (TLS 1.2, another group, a resumption), counted by
pullgate_guard_handshakes_total{engine}; the identity headers it gives the
app; its session tickets, which OpenSSL resumes; a ClientHello that comes
in pieces; and the alerts it ends a handshake with."""
import json
import socket
import ssl
import time
import urllib.request

import pytest

from lib.ports import free_port
from lib.tools import curl, s_client
from lib.waiting import wait_for


@pytest.fixture(scope="module")
def admin():
    return free_port()


@pytest.fixture(scope="module")
def guard(module_guards, origin, admin):
    return module_guards.start(origin.address, admin="127.0.0.1:%d" % admin)


def handshakes(admin):
    """pullgate_guard_handshakes_total by engine."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("pullgate_guard_handshakes_total{"):
            labels, value = line.rsplit(" ", 1)
            engine = labels.split('engine="', 1)[1].split('"', 1)[0]
            out[engine] = int(float(value))
    assert set(out) == {"openssl", "pullgate"}, text
    return out


def metric(admin, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    raise AssertionError("no %s" % name)


def counted(admin, before, engine, n=1):
    """Waits until engine's count is before's plus n, the other's unchanged."""
    other = "openssl" if engine == "pullgate" else "pullgate"
    def done():
        now = handshakes(admin)
        return now[engine] == before[engine] + n and now[other] == before[other]
    wait_for(done, 5, "%d handshake(s) by %s" % (n, engine))


def url(guard, path="/"):
    return "https://localhost:%d%s" % (guard.port, path)


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"])
def test_tls13_is_ours_for_every_suite(guard, origin, pki, admin, suite):
    before = handshakes(admin)
    code, status, body, err = curl(url(guard), pki, cert=pki.good, tls="1.3",
                                   extra=("--tls13-ciphers", suite))
    assert code == 0, err
    assert (status, body) == ("200", "hello from origin\n")
    counted(admin, before, "pullgate")


def test_a_certificate_seen_before_is_found_by_its_bytes(guard, pki, admin):
    """The second handshake with the same certificate finds its verified
    chain in the cache (looked up by the certificate's bytes alone)."""
    code, status, _, err = curl(url(guard), pki, cert=pki.good, tls="1.3")
    assert (code, status) == (0, "200"), err
    hits = metric(admin, "pullgate_guard_verified_chain_hits_total")
    lookups = metric(admin, "pullgate_guard_verified_chain_lookups_total")
    before = handshakes(admin)
    code, status, _, err = curl(url(guard), pki, cert=pki.good, tls="1.3")
    assert (code, status) == (0, "200"), err
    counted(admin, before, "pullgate")
    assert metric(admin, "pullgate_guard_verified_chain_lookups_total") == lookups + 1
    assert metric(admin, "pullgate_guard_verified_chain_hits_total") == hits + 1


def test_tls12_and_other_groups_stay_with_openssl(guard, pki, admin):
    before = handshakes(admin)
    code, status, _, err = curl(url(guard), pki, cert=pki.good, tls="1.2")
    assert (code, status) == (0, "200"), err
    counted(admin, before, "openssl")
    # A hello with a P-256 share only: OpenSSL answers it.
    before = handshakes(admin)
    code, out, err = s_client(guard.port, pki, cert=pki.good, tls="1.3",
                              extra=("-groups", "P-256"))
    assert "HTTP/1.1 200" in out, out[-2000:] + err[-2000:]
    counted(admin, before, "openssl")


def test_identity_headers_after_our_handshake(guard, origin, pki, admin):
    before = handshakes(admin)
    code, status, body, err = curl(url(guard, "/headers"), pki, cert=pki.good, tls="1.3")
    assert (code, status) == (0, "200"), err
    counted(admin, before, "pullgate")
    headers = {k.lower(): v for k, v in json.loads(body)}
    assert headers.get("client-cert", "").startswith(":"), headers
    with open(pki.good.cert) as f:
        pem = f.read()
    der_b64 = "".join(l for l in pem.splitlines() if "-----" not in l)
    assert headers["client-cert"] == ":%s:" % der_b64


def test_our_ticket_resumes_in_openssl(guard, pki, admin, tmp_path):
    sess = str(tmp_path / "sess.pem")
    before = handshakes(admin)
    code, out, err = s_client(guard.port, pki, cert=pki.good, tls="1.3",
                              extra=("-sess_out", sess))
    assert "HTTP/1.1 200" in out, out[-2000:] + err[-2000:]
    counted(admin, before, "pullgate")
    before = handshakes(admin)
    code, out, err = s_client(guard.port, pki, cert=pki.good, tls="1.3",
                              extra=("-sess_in", sess))
    assert "HTTP/1.1 200" in out, out[-2000:] + err[-2000:]
    assert "Reused, TLSv1.3" in out, out[-3000:]
    counted(admin, before, "openssl")


def python_client(pki):
    """A TLS 1.3 client context of Python's ssl module with the good
    certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki.origin_ca.cert)
    ctx.load_cert_chain(pki.good.cert, pki.good.key)
    return ctx


def get_headers(guard, ctx, session=None):
    """GET /headers on a new connection (resuming session when given):
    the connection's session, whether it was resumed, and the response."""
    with socket.create_connection(("127.0.0.1", guard.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /headers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return s.session, s.session_reused, data


def client_cert_header(data):
    """The Client-Cert header the origin app saw, from /headers' answer."""
    return [v for k, v in json.loads(data.split(b"\r\n\r\n", 1)[1]) if k.lower() == "client-cert"]


def test_python_client_resumes_and_gets_the_same_identity(guard, origin, pki, admin):
    ctx = python_client(pki)
    before = handshakes(admin)
    session, reused, first = get_headers(guard, ctx)
    assert not reused and b" 200 " in first.split(b"\r\n", 1)[0]
    counted(admin, before, "pullgate")
    _, reused, second = get_headers(guard, ctx, session)
    assert reused
    assert b" 200 " in second.split(b"\r\n", 1)[0]
    assert client_cert_header(first) == client_cert_header(second) and client_cert_header(first)


def test_hello_in_pieces(guard, pki, admin):
    """The ClientHello's record split over several sends: ours all the same."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki.origin_ca.cert)
    ctx.load_cert_chain(pki.good.cert, pki.good.key)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    before = handshakes(admin)
    with socket.create_connection(("127.0.0.1", guard.port), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        for i in range(0, len(hello), 7):
            raw.sendall(hello[i:i + 7])
        done = False
        request_sent = False
        data = b""
        while True:
            if done and not request_sent:
                tls.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                request_sent = True
            out = outgoing.read()
            if out:
                raw.sendall(out)
            chunk = raw.recv(65536)
            if not chunk:
                break
            incoming.write(chunk)
            if not done:
                try:
                    tls.do_handshake()
                    done = True
                except ssl.SSLWantReadError:
                    continue
            try:
                while True:
                    got = tls.read(65536)
                    if not got:  # close_notify
                        break
                    data += got
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
    assert done
    assert b"HTTP/1.1 200" in data and b"hello from origin" in data
    counted(admin, before, "pullgate")


@pytest.mark.parametrize("who,reason", [(None, "no certificate"), ("expired", "expired"),
                                        ("other", "unknown CA"), ("revoked", "revoked")],
                         ids=["none", "expired", "other-ca", "revoked"])
def test_refusals_come_from_our_handshake(guard, origin, pki, admin, who, reason):
    """Each refusal is logged with its reason; no handshake completes."""
    before = handshakes(admin)
    mark = guard.mark()
    code, out, err = s_client(guard.port, pki, cert=pki.client(who) if who else None,
                              tls="1.3", extra=("-msg",))
    assert "HTTP/1.1" not in out
    guard.wait_refusal(reason, mark)
    assert handshakes(admin) == before
    # The alert reaches the client: a refusal is not a silent close.
    assert "alert" in (out + err).lower(), (out + err)[-3000:]


def test_every_ticket_of_one_second_resumes(guard, origin, pki, admin):
    """Tickets made within one second for one certificate share all of
    their session but its key (the guard encodes that session once):
    each must still resume, with the certificate's identity."""
    ctx = python_client(pki)
    # Handshakes until two of them began and ended within one second.
    by_second = {}
    deadline = time.monotonic() + 20
    while max((len(v) for v in by_second.values()), default=0) < 2:
        assert time.monotonic() < deadline, "no two handshakes within one second"
        start = int(time.time())
        session, reused, data = get_headers(guard, ctx)
        if int(time.time()) == start:
            assert not reused and b" 200 " in data.split(b"\r\n", 1)[0]
            by_second.setdefault(start, []).append((session, client_cert_header(data)))
    pair = max(by_second.values(), key=len)
    for session, identity in pair:
        assert identity
        _, reused, data = get_headers(guard, ctx, session)
        assert reused, "a ticket of the same second did not resume"
        assert client_cert_header(data) == identity
