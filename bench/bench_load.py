"""bench_load: the load the benchmark puts on a server, and what it measures.

wrk drives every throughput and latency scenario, pinned to the client core,
with tls_client_shim preloaded: the shim presents the client certificate
(wrk has no option for one), forces full handshakes when asked, and counts
full and resumed handshakes so each run proves what it measured.
The idle-connection memory probe and the crypto ceiling live here too.
"""
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

from bench_procs import CpuWindow, status_kib

_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


class WrkResult:
    def __init__(self):
        self.rps = 0.0
        self.requests = 0
        self.p50_ms = None
        self.p99_ms = None
        self.errors = 0        # socket errors + non-2xx/3xx answers
        self.handshakes = 0
        self.resumed = 0
        self.server_pct = 0.0
        self.client_pct = 0.0
        self.client_core_pct = 0.0
        self.other_pct = 0.0     # server core time spent by other processes or stolen
        self.irq_pct = 0.0       # server core time in interrupts (its own traffic, mostly)
        self.origin_reached = None  # requests that reached the origin during the run
        self.raw = ""


def parse_wrk(text, r):
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    r.rps = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    r.requests = int(m.group(1)) if m else 0
    for pct, val, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        ms = float(val) * _UNIT[unit]
        if pct == "50":
            r.p50_ms = ms
        else:
            r.p99_ms = ms
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r.errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r.errors += int(m.group(1))


class Wrk:
    """Runs wrk against one server. cert/key: the client certificate to
    present (None: none); resume: False forces a full handshake per
    connection."""

    def __init__(self, shim, server_cpu, client_cpu, workdir):
        self.shim = shim
        self.server_cpu = server_cpu
        self.client_cpu = client_cpu
        self.workdir = workdir

    def run(self, server_pid, url, seconds, conns, cert=None, key=None,
            resume=True, close=False, script=None, env_extra=None):
        stats = tempfile.NamedTemporaryFile(dir=self.workdir, prefix="shim-", delete=False)
        stats.close()
        env = dict(os.environ)
        env.update({
            "LD_PRELOAD": self.shim,
            "BENCH_TLS_CERT": cert or "",
            "BENCH_TLS_KEY": key or "",
            "BENCH_TLS_RESUME": "1" if resume else "0",
            "BENCH_TLS_STATS": stats.name,
        })
        env.update(env_extra or {})
        argv = ["taskset", "-c", str(self.client_cpu), "wrk", "-t1", "-c", str(conns),
                "-d", "%ds" % seconds, "--timeout", "5s", "--latency"]
        if close:
            argv += ["-H", "Connection: close"]
        if script:
            argv += ["-s", script]
        argv.append(url)
        r = WrkResult()
        with CpuWindow(server_pid, self.server_cpu, self.client_cpu) as cpu:
            out = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=seconds + 30)
        r.raw = out.stdout.decode(errors="replace")
        parse_wrk(r.raw, r)
        if out.returncode != 0:
            r.errors += 1
        r.server_pct, r.client_pct, r.client_core_pct = cpu.server_pct, cpu.client_pct, cpu.client_core_pct
        r.other_pct, r.irq_pct = cpu.other_pct, cpu.irq_pct
        try:
            with open(stats.name) as f:
                m = re.match(r"handshakes (\d+) resumed (\d+)", f.read())
            if m:
                r.handshakes, r.resumed = int(m.group(1)), int(m.group(2))
        finally:
            os.unlink(stats.name)
        return r


def client_context(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def read_response(s):
    """Reads one HTTP/1.1 response with a Content-Length; returns (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status, headers, body


def https_get(port, path, ctx, timeout=5.0):
    """One GET over a new TLS connection to 127.0.0.1:port (SNI localhost)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (path, port)).encode())
            return read_response(s)


def idle_connection_kib(pid, port, ctx, path, count, time_limit):
    """Opens up to count TLS connections to port, each after one keep-alive
    request, holds them idle and returns (KiB of RSS per connection, how many
    were open). Bounded by time_limit seconds of opening."""
    time.sleep(0.5)
    before = status_kib(pid, "VmRSS")
    conns = []
    req = ("GET %s HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (path, port)).encode()
    deadline = time.monotonic() + time_limit
    try:
        while len(conns) < count and time.monotonic() < deadline:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            conns.append(s)
            s.sendall(req)
            read_response(s)
        time.sleep(1.0)
        after = status_kib(pid, "VmRSS")
    finally:
        for s in conns:
            s.close()
    return (after - before) / max(len(conns), 1), len(conns)


def crypto_ceiling(cpu, seconds):
    """openssl speed on one core: P-256 sign/s, verify/s and X25519 op/s."""
    argv = ["taskset", "-c", str(cpu), "openssl", "speed", "-seconds", str(seconds),
            "ecdsap256", "ecdhx25519"]
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=20 * seconds + 30).stdout.decode(errors="replace")
    res = {"raw": out}
    m = re.search(r"ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if m:
        res["sign"], res["verify"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"ecdh \(X25519\)\s+\S+s\s+([\d.]+)", out)
    if m:
        res["x25519"] = float(m.group(1))
    if {"sign", "verify", "x25519"} <= res.keys():
        # Server side of one full mutual-TLS 1.3 handshake: an X25519 key
        # generation and derivation (counted as two X25519 operations; key
        # generation is cheaper, so this errs low), one ECDSA signature
        # (CertificateVerify), two verifications (the client's
        # CertificateVerify and its certificate's signature by the CA).
        cost = 2 / res["x25519"] + 1 / res["sign"] + 2 / res["verify"]
        res["full_hs"] = 1 / cost
        # A resumed TLS 1.3 handshake (psk_dhe_ke) keeps the X25519 exchange
        # and drops every signature.
        res["resumed_hs"] = res["x25519"] / 2
    return res
