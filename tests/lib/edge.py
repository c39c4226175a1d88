"""Running `pullgate edge` in the end-to-end tests: the certificates the edge
tests add to the session's PKI, edge configurations (zones and records as
dicts, written as YAML), the edge process and its log, the TLS origin
(tls_origin.py), and a visitor that connects with an SNI and a Host.

The fixtures at the bottom (edge_pki, module_edges, edges) are made
available to every test by tests/e2e/conftest.py."""
import copy
import os
import re
import signal
import socket
import ssl

import pytest

from . import ports, procs, waiting
from .app import OriginApp
from .client import Conn, client_context
from .guard import merge, to_yaml
from .pki import Pki, parse_inspect

TLS_ORIGIN_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_origin.py")

# Names of the client certificates the edge presents (all from the session's
# edge_ca, which every guard of the suite trusts).
GLOBAL_CLIENT = "edge-global.example"
ZONE_A_CLIENT = "zone-a.example"
ZONE_B_CLIENT = "zone-b.example"
HOST_CLIENT = "host-www.example"
# The name in the TLS origins' certificates (strict mode verifies it).
ORIGIN_NAME = "origin.test"


def plain_fp(info):
    """`pki inspect`'s sha256 'AB:CD:..' as the guard's X-Client-Fingerprint."""
    return info["sha256"].replace(":", "").lower()


class EdgePki:
    """The edge tests' certificates, next to the session PKI (spki):

    visitor_ca    signs what visitors see; visitors trust only it
    zone_a        visitor certificate of zone a.test (a.test, *.a.test)
    zone_b        visitor certificate of zone b.test (b.test, *.b.test)
    zone_c        visitor certificate of zone c.test (c.test, *.c.test)
    special_a     a record's own visitor certificate (special.a.test)
    global_client, zone_a_client, zone_b_client, host_client
                  origin-pull client certificates from spki.edge_ca
    origin_valid / origin_expired / origin_wronghost / origin_selfsigned
                  TLS origin certificates (origin_ca, except the self-signed
                  one) for ORIGIN_NAME and 127.0.0.1; wronghost names only
                  other.test
    """

    def __init__(self, spki, binary, directory):
        p = self.pki = Pki(binary, directory)
        self.spki = spki
        self.visitor_ca = p.ca("visitor-ca", "pullgate test visitor CA")
        v = self.visitor_ca
        self.zone_a = p.issue("server", "zone-a", "a.test", ca=v, dns=["a.test", "*.a.test"])
        self.zone_b = p.issue("server", "zone-b", "b.test", ca=v, dns=["b.test", "*.b.test"])
        self.zone_c = p.issue("server", "zone-c", "c.test", ca=v, dns=["c.test", "*.c.test"])
        self.special_a = p.issue("server", "special-a", "special.a.test", ca=v,
                                 dns=["special.a.test"])
        e = spki.edge_ca
        self.global_client = p.issue("client", "global-client", GLOBAL_CLIENT, ca=e,
                                     dns=[GLOBAL_CLIENT])
        self.zone_a_client = p.issue("client", "zone-a-client", ZONE_A_CLIENT, ca=e,
                                     dns=[ZONE_A_CLIENT])
        self.zone_b_client = p.issue("client", "zone-b-client", ZONE_B_CLIENT, ca=e,
                                     dns=[ZONE_B_CLIENT])
        self.host_client = p.issue("client", "host-client", HOST_CLIENT, ca=e, dns=[HOST_CLIENT])
        for c in (self.global_client, self.zone_a_client, self.zone_b_client, self.host_client):
            c.info = parse_inspect(p.run("inspect", c.cert).stdout)
        o = spki.origin_ca
        self.origin_valid = p.issue("server", "origin-valid", ORIGIN_NAME, ca=o,
                                    dns=[ORIGIN_NAME], ips=["127.0.0.1"])
        self.origin_expired = p.issue("server", "origin-expired", ORIGIN_NAME, ca=o,
                                      dns=[ORIGIN_NAME], ips=["127.0.0.1"], start="-30d", days=10)
        self.origin_wronghost = p.issue("server", "origin-wronghost", "other.test", ca=o,
                                        dns=["other.test"])
        self.origin_selfsigned = p.issue("server", "origin-selfsigned", ORIGIN_NAME,
                                         self_signed=True, dns=[ORIGIN_NAME], ips=["127.0.0.1"])

        self._zone_certs = {"a.test": self.zone_a, "b.test": self.zone_b, "c.test": self.zone_c}

    def zone_cert(self, name):
        """A visitor certificate for zone name (name and *.name), made once."""
        if name not in self._zone_certs:
            self._zone_certs[name] = self.pki.issue("server", "zone-" + name, name,
                                                    ca=self.visitor_ca,
                                                    dns=[name, "*." + name])
        return self._zone_certs[name]

    @staticmethod
    def client_pair(cert):
        """A pki.Cert as a configuration's client_certificate mapping."""
        return {"certificate": cert.cert, "key": cert.key}


# -- configuration --------------------------------------------------------------

def record(name, origin, **kw):
    """A record dict; kw are the record's keys (proxied, origin_sni,
    origin_pull, client_certificate, certificate, key)."""
    r = {"name": name, "origin": origin}
    r.update(kw)
    return r


def zone(name, visitor_cert, records, **kw):
    """A zone dict with visitor_cert (a pki.Cert, or None) and records; kw are
    the zone's keys (ssl, origin_pull, client_certificate, origin_ca,
    always_https, error_codes)."""
    z = {"name": name}
    if visitor_cert is not None:
        z["certificate"] = visitor_cert.cert
        z["key"] = visitor_cert.key
    z.update(kw)
    z["records"] = list(records)
    return z


def base_config(port, zones, plain_port=None, **overrides):
    """The edge section tests start from: one worker, one HTTPS listener,
    short timeouts, files not watched."""
    e = {
        "workers": 1,
        "listen": ["127.0.0.1:%d" % port],
        "timeouts": {"handshake": "5s", "header": "5s", "idle": "20s", "body": "20s",
                     "grace": "2s", "origin_connect": "2s", "origin_response": "20s"},
        "log_level": "info",
        "watch_files": False,
    }
    if plain_port:
        e["plain_listen"] = ["127.0.0.1:%d" % plain_port]
    e = merge(e, overrides)
    e["zones"] = copy.deepcopy(list(zones))
    return e


def write_config(path, edge_section, extra_sections=None):
    doc = dict(extra_sections or {})
    doc["edge"] = edge_section
    with open(path, "w") as f:
        f.write(to_yaml(doc) + "\n")
    return path


# -- the process ----------------------------------------------------------------

UPSTREAM_RX = r"upstream (?P<pool>.+?): (?P<reason>%s)"


class Edge:
    """A running `pullgate edge`; ready once its listeners accept TCP."""

    def __init__(self, binary, config_path, port, log_dir, plain_port=None, name="edge",
                 env=None):
        self.port = port
        self.plain_port = plain_port
        self.config_path = config_path
        self.proc = procs.Proc(name, [binary, "edge", "-c", config_path], log_dir, env=env)
        self.pid = self.proc.pid

        def ready():
            if not self.proc.alive():
                raise AssertionError("pullgate edge exited with %s before accepting:\n%s"
                                     % (self.proc.returncode, self.proc.tail()))
            return ports.accepts_tcp(port) and (not plain_port or ports.accepts_tcp(plain_port))
        waiting.wait_for(ready, 20, "pullgate edge to accept on port %d" % port)

    def mark(self):
        return self.proc.mark()

    def log(self, since=0):
        return self.proc.stderr_text(since)

    def upstream_lines(self, since=0):
        return [l for l in self.proc.lines(since) if ": upstream " in l]

    def wait_upstream(self, reason, since, timeout=5.0):
        """The first "upstream <pool>: <reason>" line logged after since; a
        regex match with groups pool and reason."""
        rx = re.compile(UPSTREAM_RX % re.escape(reason))

        def find():
            for line in self.proc.lines(since):
                m = rx.search(line)
                if m:
                    return m
            return None
        return waiting.wait_for(find, timeout, "an 'upstream ...: %s' line; upstream lines "
                                "since: %r" % (reason, self.upstream_lines(since)))

    def visitor_refusals(self, since=0):
        return [l for l in self.proc.lines(since) if "visitor tls refused" in l]

    def alive(self):
        return self.proc.alive()

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        return self.proc.stop(signal.SIGTERM, timeout=15)


class EdgeFactory:
    """Starts edges for one fixture scope and stops them all at its end;
    a sanitizer report in any of their logs fails the scope."""

    def __init__(self, binary, workdir, log_dir):
        self.binary = binary
        self.workdir = workdir
        self.log_dir = log_dir
        self.edges = []
        self.n = 0

    def path(self, name):
        self.n += 1
        os.makedirs(self.workdir, exist_ok=True)
        return os.path.join(self.workdir, "%s-%d.yaml" % (name, self.n))

    def start(self, zones, name="edge", plain=False, env=None, **overrides):
        port = ports.free_port()
        plain_port = ports.free_port() if plain else None
        section = base_config(port, zones, plain_port, **overrides)
        path = write_config(self.path(name), section)
        e = Edge(self.binary, path, port, self.log_dir, plain_port=plain_port, name=name, env=env)
        self.edges.append(e)
        return e

    def close(self):
        reports = []
        for e in self.edges:
            rc = e.stop()
            r = e.proc.sanitizer_report()
            if r:
                reports.append("%s (pid %d):\n%s" % (e.proc.name, e.pid, r))
            elif rc != 0:
                reports.append("%s (pid %d) exited %s on SIGTERM:\n%s"
                               % (e.proc.name, e.pid, rc, e.proc.tail(20)))
        self.edges = []
        assert not reports, "pullgate edge at the end of its scope:\n" + "\n".join(reports)


# -- a TLS origin -----------------------------------------------------------------

class TlsOrigin(OriginApp):
    """tls_origin.py: the counting app over TLS on .tls_port (address
    .tls_address), queried over its plain control port like OriginApp."""

    def __init__(self, log_dir, cert, client_ca=None, tls_max=None, name="tls-origin"):
        self.unix_path = None
        self.port = ports.free_port()          # control port (OriginApp queries it)
        self.tls_port = ports.free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.tls_address = "127.0.0.1:%d" % self.tls_port
        argv = ["/usr/bin/python3", TLS_ORIGIN_SCRIPT, "--listen", self.tls_address,
                "--control", self.address, "--cert", cert.cert, "--key", cert.key]
        if client_ca:
            argv += ["--client-ca", client_ca]
        if tls_max:
            argv += ["--tls-max", tls_max]
        self.proc = procs.Proc(name, argv, log_dir)
        waiting.wait_for(self._both_ready, 15, "the TLS origin at %s to accept" % self.tls_address)

    def _both_ready(self):
        return self._ready() and ports.accepts_tcp(self.tls_port)

    def tls_counts(self):
        return self.get_json("/tls")

    def wait_refused(self, before, timeout=5.0):
        """Polls until the origin has counted a refused handshake more than
        the counts before had (it counts in the connection's own thread,
        possibly after the peer already saw the alert); the new counts."""
        def more():
            c = self.tls_counts()
            return c if c["refused"] > before["refused"] else None
        return waiting.wait_for(more, timeout, "a refused handshake at the TLS origin %s"
                                % self.tls_address)


# -- visitors ---------------------------------------------------------------------

def visitor_context(epki, version=None, check_hostname=True):
    """A visitor's client context: trusts only the visitor CA, checks the
    served certificate against the SNI unless told not to."""
    return client_context(epki.visitor_ca.cert, version=version, check_hostname=check_hostname)


def visit(edge, epki, sni, path="/", host=None, headers=(), method="GET", body=None,
          timeout=30.0):
    """One request over a fresh TLS connection: the Response."""
    with Conn.tls(edge.port, visitor_context(epki), sni=sni) as c:
        return c.request(method, path, host=host or sni,
                         headers=list(headers) + [("Connection", "close")], body=body,
                         timeout=timeout)


def visit_plain(edge, path="/", host="localhost", headers=(), timeout=30.0):
    """One request over plain HTTP to the edge's plain listener."""
    with Conn.tcp(edge.plain_port) as c:
        return c.request("GET", path, host=host, headers=list(headers) + [("Connection", "close")],
                         timeout=timeout)


def handshake_error(port, sni, ctx):
    """The ssl.SSLError text of a handshake that fails, or None when it
    completes. sni None sends no server_name at all."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname=sni)
    except ssl.SSLError as e:
        return str(e)
    except OSError as e:
        raw.close()
        return "os error: %s" % e
    s.close()
    return None


def served_certificate(port, sni, epki):
    """(subject CN, [DNS SANs]) of the certificate the edge serves for sni,
    read from the verified peer certificate."""
    ctx = visitor_context(epki)
    with Conn.tls(port, ctx, sni=sni) as c:
        peer = c.sock.getpeercert()
    cn = [v for rdn in peer["subject"] for k, v in rdn if k == "commonName"]
    sans = [v for k, v in peer.get("subjectAltName", ()) if k == "DNS"]
    return (cn[0] if cn else None), sans


# -- fixtures (imported by the edge test modules) -------------------------------------

@pytest.fixture(scope="session")
def edge_pki(pki, pullgate_bin, session_dir):
    """The edge tests' certificates (EdgePki), made once per session."""
    return EdgePki(pki, pullgate_bin, os.path.join(session_dir, "edge-pki"))


@pytest.fixture(scope="module")
def module_edges(pullgate_bin, session_dir, log_dir, request):
    """Starts edges that live for the whole test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    f = EdgeFactory(pullgate_bin, os.path.join(session_dir, name + "-edges"), log_dir)
    yield f
    f.close()


@pytest.fixture
def edges(pullgate_bin, tmp_path, log_dir):
    """Starts edges that live for one test."""
    f = EdgeFactory(pullgate_bin, str(tmp_path / "edge"), log_dir)
    yield f
    f.close()
