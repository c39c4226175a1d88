"""bench_systems: the certificates, the objects, the origin and the three
systems under test (pullgate, nginx, HAProxy) in each role.

Configurations are the templates in bench/conf/, with @@NAME@@ placeholders
(nginx's own $variables stay untouched). Every system gets the same
certificates, the same origin and one worker pinned to the server core.
"""
import itertools
import os
import re
import socket
import subprocess
import time

from bench_load import client_context, https_get, read_response
from bench_procs import free_port, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMS = ("pullgate", "nginx", "haproxy")
OBJECTS = {"1k": 1024, "100k": 100 * 1024}


class Env:
    """What every part of a run shares: paths, the pullgate binary, cores."""

    def __init__(self, pullgate, work, procs, server_cpu, client_cpu):
        self.pg = pullgate
        self.work = work
        self.certs = os.path.join(work, "certs")
        self.www = os.path.join(work, "www")
        self.confdir = os.path.join(work, "conf")
        self.procs = procs
        self.server_cpu = server_cpu
        self.client_cpu = client_cpu
        self.origin_port = None
        self.status_reads = 0   # requests for the origin's status page so far
        for d in (self.certs, self.www, self.confdir, os.path.join(work, "tmp")):
            os.makedirs(d, exist_ok=True)

    def cert(self, name):
        return os.path.join(self.certs, name)


def make_pki(env):
    """One CA, one server certificate (for every listener) and one client
    certificate, all ECDSA P-256, made by `pullgate pki`."""
    def pki(*args):
        subprocess.run([env.pg, "pki"] + list(args), check=True, stdout=subprocess.DEVNULL)
    c = env.cert
    pki("ca", "--cert", c("ca.pem"), "--key", c("ca.key"), "--cn", "pullgate bench CA")
    pki("issue", "server", "--ca-cert", c("ca.pem"), "--ca-key", c("ca.key"),
        "--cert", c("server.pem"), "--key", c("server.key"), "--cn", "localhost",
        "--dns", "localhost", "--dns", "guard.bench.test", "--ip", "127.0.0.1")
    pki("issue", "client", "--ca-cert", c("ca.pem"), "--ca-key", c("ca.key"),
        "--cert", c("client.pem"), "--key", c("client.key"), "--cn", "edge.bench.test",
        "--dns", "edge.bench.test")
    # HAProxy (crt) wants the certificate and its key in one file.
    for name in ("server", "client"):
        with open(c(name + "-combined.pem"), "w") as out:
            for part in (name + ".pem", name + ".key"):
                with open(c(part)) as f:
                    out.write(f.read())
    out = subprocess.run([env.pg, "pki", "inspect", c("client.pem")],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    key = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("key: ")]
    return key[0] if key else "?"


def make_objects(env):
    """The same bytes under /cache/ (max-age) and /nostore/ (no-store; the
    miss scenarios also ask each with a new query string)."""
    for d in ("cache", "nostore"):
        os.makedirs(os.path.join(env.www, d), exist_ok=True)
        for name, size in OBJECTS.items():
            block = bytes(range(256)) * (size // 256)
            with open(os.path.join(env.www, d, name), "wb") as f:
                f.write(block[:size])


def render(env, template, out_name, **values):
    with open(os.path.join(HERE, "conf", template)) as f:
        text = f.read()
    values.setdefault("WORK", env.work)
    values.setdefault("CERTS", env.certs)
    values.setdefault("WWW", env.www)
    values.setdefault("ORIGIN_PORT", env.origin_port)
    for k, v in values.items():
        text = text.replace("@@%s@@" % k, str(v))
    if "@@" in text:
        raise RuntimeError("%s: a placeholder is left unfilled" % template)
    path = os.path.join(env.confdir, out_name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Server:
    def __init__(self, name, role, port, proc):
        self.name = name
        self.role = role
        self.port = port
        self.proc = proc
        self.pid = proc.pid


def _argv(env, system, role, conf):
    if system == "pullgate":
        return [env.pg, role, "-c", conf, "--workers", "1", "--log-level", "warn"]
    if system == "nginx":
        return ["nginx", "-p", env.work + "/", "-e", os.path.join(env.work, "nginx-startup.err"),
                "-c", conf]
    return ["haproxy", "-db", "-f", conf]


def start_origin(env):
    env.origin_port = free_port()
    conf = render(env, "origin-nginx.conf", "origin-nginx.conf")
    p = env.procs.start("origin-nginx", _argv(env, "nginx", None, conf), cpu=env.client_cpu)
    wait_port(env.origin_port, p, "origin nginx")
    return p


def _origin_count(env):
    """The requests the origin has had (nginx's stub_status), less those for
    its status page itself."""
    env.status_reads += 1
    with socket.create_connection(("127.0.0.1", env.origin_port), timeout=5) as s:
        s.sendall(b"GET /origin-status HTTP/1.1\r\nHost: origin\r\n\r\n")
        status, _, body = read_response(s)
    m = re.search(r"^\s*\d+\s+\d+\s+(\d+)\s*$", body.decode(), re.M)
    if status != 200 or not m:
        raise RuntimeError("origin status page answered %d: %r" % (status, body[:200]))
    return int(m.group(1)) - env.status_reads


def origin_requests(env, limit=3.0):
    """The requests the origin has had, once nothing more arrives: when a
    run ends, requests that the edge and the fixture guard (on a busy core)
    were still passing on reach the origin a little later, and belong to
    that run, not the next."""
    n = _origin_count(env)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.05)
        m = _origin_count(env)
        if m == n:
            break
        n = m
    return n


_check_ids = itertools.count(1)


def unique_path(path, run_id):
    """path with its own query string, as requests.lua makes them."""
    return "%s?pull=%s" % (path, run_id)


def start_fixture_guard(env):
    """The guard every edge pulls from: nginx with ssl_verify_client on, on
    the client core, in front of the same origin."""
    port = free_port()
    conf = render(env, "guard-nginx.conf", "fixture-guard.conf", NAME="fixture-guard", PORT=port)
    p = env.procs.start("fixture-guard", _argv(env, "nginx", None, conf), cpu=env.client_cpu)
    wait_port(port, p, "fixture guard")
    status, _, body = https_get(port, "/nostore/1k",
                                client_context(env.cert("ca.pem"), env.cert("client.pem"),
                                               env.cert("client.key")))
    if status != 200 or len(body) != OBJECTS["1k"]:
        raise RuntimeError("fixture guard answered %d with %d bytes" % (status, len(body)))
    return port, p


_TEMPLATES = {
    ("guard", "pullgate"): "guard-pullgate.yaml", ("guard", "nginx"): "guard-nginx.conf",
    ("guard", "haproxy"): "guard-haproxy.cfg", ("edge", "pullgate"): "edge-pullgate.yaml",
    ("edge", "nginx"): "edge-nginx.conf", ("edge", "haproxy"): "edge-haproxy.cfg",
}


def start_system(env, system, role, guard_port=None):
    port = free_port()
    name = "%s-%s" % (role, system)
    template = _TEMPLATES[(role, system)]
    conf = render(env, template, name + os.path.splitext(template)[1],
                  NAME=name, PORT=port, GUARD_PORT=guard_port or 0)
    p = env.procs.start(name, _argv(env, system, role, conf), cpu=env.server_cpu)
    wait_port(port, p, name)
    return Server(system, role, port, p)


def check_system(env, s):
    """Proves the configuration does what the benchmark claims; returns a
    short description of the negotiated TLS for the report."""
    ca = env.cert("ca.pem")
    if s.role == "guard":
        ctx = client_context(ca, env.cert("client.pem"), env.cert("client.key"))
        status, _, body = https_get(s.port, "/cache/1k", ctx)
        if status != 200 or len(body) != OBJECTS["1k"]:
            raise RuntimeError("%s guard answered %d with %d bytes" % (s.name, status, len(body)))
        try:
            status, _, _ = https_get(s.port, "/cache/1k", client_context(ca))
        except (OSError, ConnectionError):
            status = None
        # nginx finishes the handshake and answers 400; the others refuse
        # the handshake. Either way nothing reaches the origin.
        if status == 200:
            raise RuntimeError("%s guard answered %d without a client certificate" % (s.name, status))
    else:
        ctx = _check_edge(env, s, ca)
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            return "%s %s" % (t.version(), t.cipher()[0])


def _edge_get(env, s, ctx, path):
    """GET path through edge s; returns (hit?, Cache-Status or X-Cache-Status,
    origin requests it caused)."""
    before = origin_requests(env)
    status, headers, body = https_get(s.port, path, ctx)
    pulls = origin_requests(env) - before
    size = OBJECTS[path.split("?", 1)[0].rsplit("/", 1)[1]]
    if status != 200 or len(body) != size:
        raise RuntimeError("%s edge answered %d with %d bytes for %s" % (s.name, status, len(body), path))
    if s.name == "pullgate":
        said = headers.get("cache-status", "")
        hit = said.startswith("pullgate; hit")
    else:
        # nginx: $upstream_cache_status; HAProxy: set only on a hit.
        said = headers.get("x-cache-status", "")
        hit = said == "HIT"
    return hit, said, pulls


def _check_edge(env, s, ca):
    """An edge serves both objects; a /nostore/ request with a new query
    string is a miss that reaches the origin, every time; /cache/ objects,
    once fetched (this warms them for the hit scenarios), are hits that
    do not."""
    ctx = client_context(ca)
    for name in OBJECTS:
        for _ in range(2):
            path = unique_path("/nostore/" + name, "check-%d" % next(_check_ids))
            hit, said, pulls = _edge_get(env, s, ctx, path)
            if hit or pulls != 1:
                raise RuntimeError("%s edge: %s was not a miss (%r, %d origin requests)"
                                   % (s.name, path, said, pulls))
        path = "/cache/" + name
        _edge_get(env, s, ctx, path)
        for _ in range(2):
            hit, said, pulls = _edge_get(env, s, ctx, path)
            if not hit or pulls != 0:
                raise RuntimeError("%s edge: a second GET %s was not a cache hit (%r, %d origin "
                                   "requests)" % (s.name, path, said, pulls))
    return ctx


def version_lines(env):
    def first(argv):
        try:
            out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=10).stdout.decode(errors="replace")
            return out.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unavailable"
    return {
        "pullgate": first([env.pg, "version"]),
        "nginx": first(["nginx", "-v"]).replace("nginx version: ", ""),
        "haproxy": first(["haproxy", "-v"]).split(" - ")[0].replace(" version", ""),
        "openssl": first(["openssl", "version"]),
        "wrk": first(["wrk", "-v"]).split(" [")[0].replace("debian/", ""),
    }
