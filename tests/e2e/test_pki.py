"""`pullgate pki`: make a CA, issue client and server certificates, inspect
them (cross-checked with python-cryptography), revoke and write CRLs, and
check the results with `openssl verify`."""
import base64
import datetime
import hashlib
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lib.tools import need


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def not_before(c):
    return c.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(c):
    return c.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def parse_time(text):
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})", text)
    assert m, "no YYYY-MM-DDTHH:MM:SS time in %r" % text
    return datetime.datetime(*map(int, m.groups()), tzinfo=datetime.timezone.utc)


def serial_matches(text, n):
    s = text.replace(":", "").strip().lower()
    if s.startswith("0x"):
        s = s[2:]
    ok = False
    try:
        ok = int(s, 16) == n
    except ValueError:
        pass
    if s.isdigit():
        ok = ok or int(s) == n
    return ok


def load_all(path):
    """Every certificate in a PEM file, in order."""
    with open(path, "rb") as f:
        data = f.read()
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)
    return [x509.load_pem_x509_certificate(b) for b in blocks]


def words(text):
    return re.sub(r"[\s_\-]", "", text).lower()


def openssl_verify(*args):
    r = subprocess.run([need("openssl"), "verify"] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


# -- inspect ------------------------------------------------------------------

def test_inspect_client_cert_matches_cryptography(pki):
    info = pki.pki.inspect(pki.good.cert)
    c = load(pki.good.cert)
    ca = load(pki.edge_ca.cert)
    assert "edge.example.com" in info["subject"]
    assert "CN" in info["subject"]
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value in info["issuer"]
    assert serial_matches(info["serial"], c.serial_number), (info["serial"], c.serial_number)
    assert abs((parse_time(info["not_before"]) - not_before(c)).total_seconds()) <= 1
    assert abs((parse_time(info["not_after"]) - not_after(c)).total_seconds()) <= 1
    days = (not_after(c) - now()).days
    assert abs(int(info["days_left"]) - days) <= 1
    assert "valid" in info["status"].lower() and "not" not in info["status"].lower()
    assert info["ca"].lower() in ("false", "no")
    assert isinstance(c.public_key(), ec.EllipticCurvePublicKey)
    assert re.search(r"ec|p-?256|prime256", info["key"].lower()), info["key"]
    assert "digitalsignature" in words(info["key_usage"])
    assert "keycertsign" not in words(info["key_usage"])
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert "client" in info["extended_key_usage"].lower()
    assert "server" not in info["extended_key_usage"].lower()
    san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["edge.example.com"]
    assert "edge.example.com" in info["san"]
    fp = c.fingerprint(hashes.SHA256())
    assert info["sha256"] == ":".join("%02X" % b for b in fp)
    spki = c.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(spki).digest()
    assert info["spki_sha256"] == base64.b64encode(digest).decode()
    assert info["spki_sha256_hex"].replace(":", "").lower() == digest.hex()


def test_inspect_server_cert_and_ca(pki):
    info = pki.pki.inspect(pki.server.cert)
    c = load(pki.server.cert)
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert "server" in info["extended_key_usage"].lower()
    assert "client" not in info["extended_key_usage"].lower()
    san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert "127.0.0.1" in info["san"] and "a.example" in info["san"]

    ca_info = pki.pki.inspect(pki.edge_ca.cert)
    ca = load(pki.edge_ca.cert)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    assert ca_info["ca"].lower().startswith(("true", "yes"))
    assert "keycertsign" in words(ca_info["key_usage"])
    assert "crlsign" in words(ca_info["key_usage"])
    assert ca.subject == ca.issuer
    # The leaf's issuer is the CA's subject, and the CA's key signed it.
    leaf = load(pki.good.cert)
    assert leaf.issuer == ca.subject
    ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                           ec.ECDSA(leaf.signature_hash_algorithm))


@pytest.mark.parametrize("key_type,check", [
    ("ed25519", lambda k: isinstance(k, ed25519.Ed25519PublicKey)),
    ("rsa2048", lambda k: isinstance(k, rsa.RSAPublicKey) and k.key_size == 2048),
])
def test_key_types(pki_tool, key_type, check):
    ca = pki_tool.ca("ca-" + key_type, "CA " + key_type, key_type=key_type, days=30)
    assert check(load(ca.cert).public_key())
    info = pki_tool.inspect(ca.cert)
    assert key_type[:3] in info["key"].lower()
    leaf = pki_tool.issue("client", "leaf-" + key_type, "leaf.example", ca=ca, days=7)
    c = load(leaf.cert)
    assert abs((not_after(c) - not_before(c)).total_seconds() - 7 * 86400) <= 120
    code, out = openssl_verify("-CAfile", ca.cert, "-purpose", "sslclient", leaf.cert)
    assert code == 0, out


def test_keys_are_private(pki):
    for f in (pki.edge_ca.key, pki.good.key, pki.server.key, pki.selfsigned.key):
        mode = os.stat(f).st_mode & 0o777
        assert mode == 0o600, "%s has mode %o" % (f, mode)


def test_days_and_chain(pki_tool):
    ca = pki_tool.ca("ca", "Chain CA", days=365)
    c = load(ca.cert)
    assert abs((not_after(c) - not_before(c)).total_seconds() - 365 * 86400) <= 120
    leaf = pki_tool.issue("server", "srv", "srv.example", ca=ca, dns=["srv.example"],
                          chain=True)
    certs = load_all(leaf.cert)
    assert [x.subject for x in certs] == [load(leaf.cert).subject, c.subject]
    plain = pki_tool.issue("server", "srv-nochain", "srv.example", ca=ca)
    assert len(load_all(plain.cert)) == 1


# -- validity windows ---------------------------------------------------------

def test_expired_and_not_yet_valid(pki):
    e = load(pki.expired.cert)
    assert not_after(e) < now()
    info = pki.pki.inspect(pki.expired.cert)
    assert "expired" in info["status"].lower()
    assert int(info["days_left"]) < 0

    n = load(pki.notyet.cert)
    assert not_before(n) > now() + datetime.timedelta(days=9)
    info = pki.pki.inspect(pki.notyet.cert)
    assert "not yet valid" in info["status"].lower()

    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslclient",
                               pki.expired.cert)
    assert code != 0 and "expired" in out
    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslclient",
                               pki.notyet.cert)
    assert code != 0 and "not yet valid" in out


def test_start_date_form(pki_tool):
    ca = pki_tool.ca("ca", "Date CA")
    leaf = pki_tool.issue("client", "dated", "dated.example", ca=ca, start="2031-02-03",
                          days=10)
    c = load(leaf.cert)
    assert not_before(c) == datetime.datetime(2031, 2, 3, tzinfo=datetime.timezone.utc)
    r = pki_tool.run("issue", "client", "--cert", pki_tool.path("bad.pem"), "--key",
                     pki_tool.path("bad.key"), "--cn", "x", "--ca-cert", ca.cert,
                     "--ca-key", ca.key, "--start", "yesterday-ish", check=False)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert not os.path.exists(pki_tool.path("bad.pem"))


# -- openssl verify -----------------------------------------------------------

def test_openssl_verify_purposes(pki):
    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslclient",
                               pki.good.cert)
    assert code == 0 and "OK" in out, out
    # A client certificate is no server certificate, and the other way round.
    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslserver",
                               pki.good.cert)
    assert code != 0, out
    code, out = openssl_verify("-CAfile", pki.origin_ca.cert, "-purpose", "sslserver",
                               pki.server.cert)
    assert code == 0, out
    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslclient",
                               pki.serverauth.cert)
    assert code != 0, out
    # Another CA's certificate does not chain to the edge CA.
    code, out = openssl_verify("-CAfile", pki.edge_ca.cert, "-purpose", "sslclient",
                               pki.other.cert)
    assert code != 0, out


def test_revoke_and_crl(pki):
    with open(pki.crl, "rb") as f:
        crl = x509.load_pem_x509_crl(f.read())
    ca = load(pki.edge_ca.cert)
    assert crl.issuer == ca.subject
    assert crl.is_signature_valid(ca.public_key())
    revoked = load(pki.revoked.cert)
    good = load(pki.good.cert)
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(good.serial_number) is None

    base = ["-CAfile", pki.edge_ca.cert, "-CRLfile", pki.crl, "-crl_check",
            "-purpose", "sslclient"]
    code, out = openssl_verify(*base, pki.good.cert)
    assert code == 0, out
    code, out = openssl_verify(*base, pki.revoked.cert)
    assert code != 0 and "revoked" in out, out


def test_crl_rewrite_keeps_revocations(pki_tool):
    ca = pki_tool.ca("ca", "CRL CA")
    a = pki_tool.issue("client", "a", "a.example", ca=ca)
    b = pki_tool.issue("client", "b", "b.example", ca=ca)
    crl_path = pki_tool.path("ca.crl")
    pki_tool.crl(ca, crl_path)
    with open(crl_path, "rb") as f:
        first = x509.load_pem_x509_crl(f.read())
    assert len(first) == 0
    pki_tool.revoke(ca, crl_path, a)
    pki_tool.revoke(ca, crl_path, b)
    pki_tool.crl(ca, crl_path)
    with open(crl_path, "rb") as f:
        crl = x509.load_pem_x509_crl(f.read())
    serials = {r.serial_number for r in crl}
    assert serials == {load(a.cert).serial_number, load(b.cert).serial_number}
    assert crl.is_signature_valid(load(ca.cert).public_key())


# -- refusals -----------------------------------------------------------------

def test_refuses_to_overwrite_without_force(pki_tool):
    ca = pki_tool.ca("ca", "Force CA")
    leaf = pki_tool.issue("client", "leaf", "leaf.example", ca=ca)
    with open(leaf.cert, "rb") as f:
        before = f.read()
    r = pki_tool.run("issue", "client", "--cert", leaf.cert, "--key", leaf.key, "--cn",
                     "other.example", "--ca-cert", ca.cert, "--ca-key", ca.key, check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "leaf.pem" in r.stderr or "leaf.key" in r.stderr, r.stderr
    with open(leaf.cert, "rb") as f:
        assert f.read() == before
    r = pki_tool.run("ca", "--cert", ca.cert, "--key", ca.key, "--cn", "again", check=False)
    assert r.returncode == 1 and "ca." in r.stderr, (r.returncode, r.stderr)

    pki_tool.issue("client", "leaf", "other.example", ca=ca, force=True)
    assert "other.example" in load(leaf.cert).subject.rfc4514_string()
    assert os.stat(leaf.key).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["issue", "client", "--cert", "x.pem", "--key", "x.key"],              # no --cn
    ["issue", "bogus", "--cert", "x.pem", "--key", "x.key", "--cn", "x", "--self-signed"],
    ["ca", "--cert", "x.pem", "--key", "x.key", "--cn", "x", "--key-type", "dsa512"],
    ["issue", "client", "--cert", "x.pem", "--key", "x.key", "--cn", "x"],  # no CA, no --self-signed
    ["ca", "--cert", "x.pem", "--key", "x.key", "--cn", "x", "--days", "many"],
])
def test_usage_errors_exit_2(pki_tool, args):
    r = subprocess.run([pki_tool.binary, "pki"] + args, capture_output=True, text=True,
                       cwd=pki_tool.dir, timeout=30)
    assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip(), "usage error without a message"
    assert not os.path.exists(os.path.join(pki_tool.dir, "x.pem"))


def test_missing_ca_file_is_named(pki_tool):
    missing = pki_tool.path("no-such-ca.pem")
    r = pki_tool.run("issue", "client", "--cert", pki_tool.path("l.pem"), "--key",
                     pki_tool.path("l.key"), "--cn", "l.example", "--ca-cert", missing,
                     "--ca-key", pki_tool.path("no-such-ca.key"), check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "no-such-ca.pem" in r.stderr, r.stderr
    assert not os.path.exists(pki_tool.path("l.pem"))


def test_inspect_missing_file(pki_tool):
    r = pki_tool.run("inspect", pki_tool.path("nothing.pem"), check=False)
    assert r.returncode == 1 and "nothing.pem" in r.stderr, (r.returncode, r.stderr)
