"""A fresh PKI made with `pullgate pki` for a test run, and small readers for
what `pullgate pki inspect` prints."""
import os
import subprocess
from dataclasses import dataclass, field

# Client certificates are made for this name; pinned by subject where pins are used.
EDGE_NAME = "edge.example.com"
# Names in the guard's server certificate (clients check them).
SERVER_NAMES = ["localhost", "a.example", "b.example", "app.example"]


class PkiError(AssertionError):
    pass


@dataclass
class Cert:
    cert: str
    key: str
    cn: str = ""
    info: dict = field(default_factory=dict)  # `pki inspect` output, when read


@dataclass
class Ca:
    cert: str
    key: str
    cn: str = ""


class Pki:
    """Runs `pullgate pki` with files under directory."""

    def __init__(self, binary, directory):
        self.binary = binary
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args, check=True, timeout=60):
        """Runs `pullgate pki ARGS`; with check, a non-zero exit raises with
        the command's stderr."""
        argv = [self.binary, "pki"] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise PkiError("%s\nexited %d\nstdout: %s\nstderr: %s"
                           % (" ".join(argv), r.returncode, r.stdout, r.stderr))
        return r

    def ca(self, name, cn, key_type=None, days=None, start=None, force=False):
        cert, key = self.path(name + ".pem"), self.path(name + ".key")
        args = ["ca", "--cert", cert, "--key", key, "--cn", cn]
        if key_type:
            args += ["--key-type", key_type]
        if days is not None:
            args += ["--days", days]
        if start:
            args += ["--start", start]
        if force:
            args.append("--force")
        self.run(*args)
        return Ca(cert, key, cn)

    def issue(self, kind, name, cn, ca=None, self_signed=False, dns=(), ips=(),
              days=None, start=None, chain=False, force=False, key_type=None):
        cert, key = self.path(name + ".pem"), self.path(name + ".key")
        args = ["issue", kind, "--cert", cert, "--key", key, "--cn", cn]
        if key_type:
            args += ["--key-type", key_type]
        if self_signed:
            args.append("--self-signed")
        else:
            args += ["--ca-cert", ca.cert, "--ca-key", ca.key]
        for d in dns:
            args += ["--dns", d]
        for ip in ips:
            args += ["--ip", ip]
        if days is not None:
            args += ["--days", days]
        if start:
            args += ["--start", start]
        if chain:
            args.append("--chain")
        if force:
            args.append("--force")
        self.run(*args)
        return Cert(cert, key, cn)

    def inspect(self, path):
        return parse_inspect(self.run("inspect", path).stdout)

    def revoke(self, ca, crl, *certs):
        self.run("revoke", "--ca-cert", ca.cert, "--ca-key", ca.key, "--crl", crl,
                 *[c.cert if isinstance(c, Cert) else c for c in certs])

    def crl(self, ca, crl):
        self.run("crl", "--ca-cert", ca.cert, "--ca-key", ca.key, "--crl", crl)


def parse_inspect(text):
    """`key: value` lines into a dict (keys lowercased; the first colon splits)."""
    out = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        out.setdefault(k.strip().lower(), v.strip())
    return out


def colon_hex_to_plain(fp):
    """'AB:CD:..' -> 'abcd..'"""
    return fp.replace(":", "").strip().lower()


class SessionPki:
    """The certificates one test session uses, made once:

    edge_ca       trust anchor of the guard for clients, with edge_ca.crl
    origin_ca     signs the guard's server certificate (clients trust it)
    other_ca      an unrelated CA
    server        the guard's certificate, for SERVER_NAMES and 127.0.0.1
    good          client cert for EDGE_NAME from edge_ca
    expired, notyet, other (other_ca), selfsigned (same CN, self-signed),
    revoked (in edge_ca.crl), serverauth (serverAuth-only from edge_ca),
    stranger (edge_ca, another subject), a / b (edge_ca, for per-SNI pins)
    """

    def __init__(self, binary, directory):
        p = self.pki = Pki(binary, directory)
        self.dir = directory
        self.edge_ca = p.ca("edge-ca", "pullgate test edge CA")
        self.origin_ca = p.ca("origin-ca", "pullgate test origin CA")
        self.other_ca = p.ca("other-ca", "pullgate test other CA")
        self.server = p.issue("server", "server", "localhost", ca=self.origin_ca,
                              dns=SERVER_NAMES, ips=["127.0.0.1"])
        e = self.edge_ca
        self.good = p.issue("client", "good", EDGE_NAME, ca=e, dns=[EDGE_NAME])
        self.expired = p.issue("client", "expired", EDGE_NAME, ca=e, dns=[EDGE_NAME],
                               start="-30d", days=10)
        self.notyet = p.issue("client", "notyet", EDGE_NAME, ca=e, dns=[EDGE_NAME],
                              start="+10d", days=30)
        self.other = p.issue("client", "other", EDGE_NAME, ca=self.other_ca, dns=[EDGE_NAME])
        self.selfsigned = p.issue("client", "selfsigned", EDGE_NAME, self_signed=True,
                                  dns=[EDGE_NAME])
        self.revoked = p.issue("client", "revoked", EDGE_NAME, ca=e, dns=[EDGE_NAME])
        self.serverauth = p.issue("server", "serverauth", EDGE_NAME, ca=e, dns=[EDGE_NAME])
        self.stranger = p.issue("client", "stranger", "stranger.example.net", ca=e,
                                dns=["stranger.example.net"])
        self.a = p.issue("client", "edge-a", "edge-a.example", ca=e, dns=["edge-a.example"])
        self.b = p.issue("client", "edge-b", "edge-b.example", ca=e, dns=["edge-b.example"])
        self.crl = p.path("edge-ca.crl")
        p.crl(e, self.crl)
        p.revoke(e, self.crl, self.revoked)
        for c in (self.good, self.a, self.b):
            c.info = p.inspect(c.cert)

    def client(self, name):
        return getattr(self, name)
