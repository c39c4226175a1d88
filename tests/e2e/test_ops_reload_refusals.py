"""Reloads that are refused, and reloads through `pullgate reload`.

A broken configuration (an unknown key, a bad value, a certificate file that
does not exist) is refused on SIGHUP with its reasons logged (file:line, or
the file's name) and the running configuration keeps serving: the broken
file also renames the fingerprint header, and a request after the refusal
still gets the old name. `pullgate reload` sends the same file to the admin
listener: the process's reasons and exit status 1 when it refuses, the file's
own file:line errors and exit status 2 when the file does not load at all;
with no admin listener it says to send SIGHUP. A valid change through
`pullgate reload` exits 0 and applies; a change of `listen` is applied
without its listeners, with a warning that they need a restart."""
import os

import pytest

from lib import guard as guardlib
from lib import ops
from lib.client import Conn, client_context
from lib.edge import base_config, plain_fp, record, visit, write_config, zone
from lib.ports import accepts_tcp, free_port

FP_OLD = "X-Old-Fingerprint"
FP_NEW = "X-New-Fingerprint"


def yaml_of(section):
    return guardlib.to_yaml({"guard": section}) + "\n"


def line_of(text, needle):
    """The 1-based number of the first line of text containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in:\n%s" % (needle, text))


def fingerprint_header(g, pki):
    """The fingerprint header name(s) a new connection's request carries."""
    with Conn.tls(g.port, client_context(pki.origin_ca.cert, pki.good)) as c:
        r = c.request("GET", "/headers", host="localhost", headers=[("Connection", "close")])
    assert r.status == 200, (r.status, r.body[:200])
    ids = ops.identity(r, (FP_OLD, FP_NEW))
    fp = plain_fp(pki.good.info)
    return [n for n, v in ids.items() if v == [fp]]


@pytest.fixture
def running(guards, origin, pki):
    """A guard with an admin listener whose fingerprint header is FP_OLD:
    (guard, its section)."""
    port, section = guards.config(origin.address, admin="127.0.0.1:%d" % free_port(),
                                  headers={"fingerprint": FP_OLD})
    g = guards.start_section(port, section, name="guard-refusals")
    assert fingerprint_header(g, pki) == [FP_OLD]
    return g, section


def broken(section, kind, tmp_dir):
    """(YAML text of a broken section that also renames the fingerprint
    header, what its reasons must name)."""
    s = renamed(section)
    if kind == "unknown key":
        s["bogus_key"] = 1
        text = yaml_of(s)
        return text, ":%d: " % line_of(text, "bogus_key:") + 'guard: unknown key "bogus_key"'
    if kind == "bad value":
        s = guardlib.merge(s, {"timeouts": {"header": "10x"}})
        text = yaml_of(s)
        return text, ':%d: guard.timeouts.header: "10x" is not a duration' % line_of(text, '"10x"')
    missing = os.path.join(tmp_dir, "no-such-dir", "missing-server.pem")
    s["certificate"] = missing
    return yaml_of(s), missing


def renamed(section):
    """section with the fingerprint header renamed to FP_NEW."""
    return guardlib.merge(section, {"headers": {"fingerprint": FP_NEW}})


KINDS = ["unknown key", "bad value", "missing certificate"]


@pytest.mark.parametrize("kind", KINDS)
def test_broken_config_on_sighup_keeps_old(running, pki, tmp_path, kind):
    g, section = running
    text, names = broken(section, kind, str(tmp_path))
    ops.rewrite(g.config_path, text)
    log = ops.hup_refused(g.proc)
    reasons = [l for l in log.splitlines() if "reload (SIGHUP): " in l]
    assert any(names in l for l in reasons), "no reason naming %r in:\n%s" % (names, log)
    if kind != "missing certificate":
        assert any(g.config_path + names in l for l in reasons), log
    assert g.alive()
    assert fingerprint_header(g, pki) == [FP_OLD], "the refused configuration was applied"

    # Fixed again, the next SIGHUP applies the rename.
    ops.rewrite(g.config_path, yaml_of(renamed(section)))
    ops.hup(g.proc)
    assert fingerprint_header(g, pki) == [FP_NEW]


@pytest.mark.parametrize("kind", KINDS)
def test_broken_config_via_reload_command(running, pki, pullgate_bin, tmp_path, kind):
    g, section = running
    text, names = broken(section, kind, str(tmp_path))
    ops.rewrite(g.config_path, text)
    mark = g.mark()
    r = ops.reload_cmd(pullgate_bin, g.config_path)
    out = r.stdout + r.stderr
    if kind == "missing certificate":
        # The file loads; the running guard builds the snapshot and refuses.
        assert r.returncode == 1, ops.describe(r)
        assert "pullgate reload: the guard refused the new configuration:" in out, ops.describe(r)
        assert names in out, ops.describe(r)
        g.proc.wait_line(r"reload \(pullgate reload\) refused", since=mark, timeout=10)
    else:
        # The file itself does not load: its file:line errors, exit 2.
        assert r.returncode == 2, ops.describe(r)
        assert g.config_path + names in out, ops.describe(r)
    assert "guard reloaded" not in out, ops.describe(r)
    assert g.alive()
    assert fingerprint_header(g, pki) == [FP_OLD], "the refused configuration was applied"


def test_reload_command_on_unparsable_file(running, pki, pullgate_bin):
    g, section = running
    text = yaml_of(section) + "  workers: [1\n"
    ops.rewrite(g.config_path, text)
    r = ops.reload_cmd(pullgate_bin, g.config_path)
    assert r.returncode == 2, ops.describe(r)
    assert "%s:" % g.config_path in r.stderr, ops.describe(r)
    assert fingerprint_header(g, pki) == [FP_OLD]


def test_reload_command_applies_valid_change(running, pki, pullgate_bin):
    g, section = running
    ops.rewrite(g.config_path, yaml_of(renamed(section)))
    mark = g.mark()
    r = ops.reload_cmd(pullgate_bin, g.config_path)
    assert r.returncode == 0, ops.describe(r)
    assert r.stdout.strip() == "guard reloaded (%s)" % section["admin"], ops.describe(r)
    g.proc.wait_line(r"reloaded .* \(pullgate reload\)", since=mark, timeout=10)
    assert fingerprint_header(g, pki) == [FP_NEW]


def test_reload_command_without_admin_says_sighup(guards, origin, pki, pullgate_bin):
    g = guards.start(origin.address, name="guard-no-admin", headers={"fingerprint": FP_OLD})
    r = ops.reload_cmd(pullgate_bin, g.config_path)
    assert r.returncode == 1, ops.describe(r)
    assert "SIGHUP" in r.stderr and "admin" in r.stderr, ops.describe(r)
    assert "reloaded" not in r.stdout, ops.describe(r)
    assert fingerprint_header(g, pki) == [FP_OLD]


def test_listen_change_needs_restart_rest_applies(running, pki):
    g, section = running
    other = free_port()
    changed = guardlib.merge(section, {"listen": ["127.0.0.1:%d" % other],
                                       "headers": {"fingerprint": FP_NEW}})
    ops.rewrite(g.config_path, yaml_of(changed))
    mark = ops.hup(g.proc)
    warn = g.proc.find_line(r"take a restart", since=mark)
    assert warn and "listen" in warn, g.log(mark)
    # The rest applied; the listeners stayed as they were.
    assert fingerprint_header(g, pki) == [FP_NEW]
    assert not accepts_tcp(other), "the new listen address was bound without a restart"


# -- the edge ---------------------------------------------------------------------

def test_edge_missing_certificate_refused_both_ways(edges, guards, origin, edge_pki, pullgate_bin,
                                                    tmp_path):
    g = guards.start(origin.address, name="guard-behind-edge")
    admin = "127.0.0.1:%d" % free_port()
    zones = [zone("ref.test", edge_pki.zone_cert("ref.test"),
                  [record("www.ref.test", "127.0.0.1:%d" % g.port)], origin_pull="global")]
    keys = {"admin": admin, "client_certificate": edge_pki.client_pair(edge_pki.global_client)}
    e = edges.start(zones, name="edge-refusals", **keys)
    assert visit(e, edge_pki, "www.ref.test").status == 200

    missing = str(tmp_path / "gone" / "missing-client.pem")
    bad = base_config(e.port, zones, **dict(keys, client_certificate={
        "certificate": missing, "key": edge_pki.global_client.key}))
    write_config(e.config_path, bad)
    log = ops.hup_refused(e.proc)
    assert missing in log, log
    r = ops.reload_cmd(pullgate_bin, e.config_path)
    assert r.returncode == 1, ops.describe(r)
    assert "pullgate reload: the edge refused the new configuration:" in r.stderr, ops.describe(r)
    assert missing in r.stderr, ops.describe(r)
    assert e.alive()
    assert visit(e, edge_pki, "www.ref.test").status == 200
