"""Reloading under load: 20 SIGHUPs, each waited for in the log, alternate
between two configurations that differ visibly at the origin app while
several threads send requests without pause, over keep-alive connections and
over a new connection (a full handshake with a client certificate) each.

Not one request fails; a keep-alive connection sees one configuration for
its whole life (the one it started with); both configurations were served;
and afterwards a new connection sees the last one (which differs from the
one the process started with, so a reload that silently did nothing fails).

Once for a guard (the fingerprint header's name changes) and once for an
edge in front of two guards (the record's origin moves between the guards,
each naming its fingerprint header differently, and the visitor-IP header's
name changes)."""
from lib import guard as guardlib
from lib import ops
from lib.client import Conn, client_context
from lib.edge import base_config, plain_fp, record, visitor_context, write_config, zone
from lib.load import Load

RELOADS = 20
BETWEEN = 8          # requests of each kind between two reloads

FP_START = "X-Client-Fingerprint"
FP_A = "X-Fingerprint-A"
FP_B = "X-Fingerprint-B"
FP_NAMES = (FP_START, FP_A, FP_B)


def fp_label(names, expected_fp):
    """label(resp): the one fingerprint header name present, None otherwise;
    check(resp): why the response is wrong, or None."""
    def label(resp):
        seen = [n for n, v in ops.identity(resp, names).items() if v]
        return seen[0] if len(seen) == 1 else None

    def check(resp):
        if resp.status != 200:
            return "status %d: %r" % (resp.status, resp.body[:200])
        ids = ops.identity(resp, names)
        seen = {n: v for n, v in ids.items() if v}
        if len(seen) != 1 or list(seen.values())[0] != [expected_fp]:
            return "fingerprint headers %r, expected exactly one carrying %s" % (seen, expected_fp)
        return None
    return label, check


def reload_many(proc, load, configs, write):
    """RELOADS reloads alternating over configs, each followed by BETWEEN
    requests of each kind."""
    for i in range(RELOADS):
        write(configs[i % len(configs)])
        ops.hup(proc)
        load.wait_requests(BETWEEN, timeout=20)


def test_guard_reloads_under_load(guards, origin, pki):
    port, start = guards.config(origin.address, workers=2)
    conf_a = guardlib.merge(start, {"headers": {"fingerprint": FP_A}})
    conf_b = guardlib.merge(start, {"headers": {"fingerprint": FP_B}})
    g = guards.start_section(port, start, name="guard-reloads")
    ctx = client_context(pki.origin_ca.cert, pki.good)
    label, check = fp_label(FP_NAMES, plain_fp(pki.good.info))

    load = Load(lambda: Conn.tls(g.port, ctx),
                lambda c: c.request("GET", "/headers", host="localhost"),
                check=check, label=label, keepalive_threads=3, new_threads=3, per_conn=25,
                name="guard load")
    with load:
        load.wait_requests(BETWEEN, timeout=20)
        reload_many(g.proc, load, [conf_a, conf_b],
                    lambda c: ops.rewrite(g.config_path, guardlib.to_yaml({"guard": c}) + "\n"))
    load.assert_no_failures()
    assert not load.label_changes(), ("keep-alive connections that changed configuration "
                                      "mid-connection: %r" % load.label_changes()[:5])
    assert load.labels[FP_A] and load.labels[FP_B], load.labels

    # The last reload applied conf_b: a new connection sees it.
    with Conn.tls(g.port, ctx) as c:
        r = c.request("GET", "/headers", host="localhost", headers=[("Connection", "close")])
    assert label(r) == FP_B, ops.app_headers(r)
    assert g.alive()
    g.check_sanitizers()


def ops_zones(edge_pki, guard_port):
    return [zone("ops.test", edge_pki.zone_cert("ops.test"),
                 [record("www.ops.test", "127.0.0.1:%d" % guard_port)], origin_pull="global")]


def edge_keys(edge_pki, **over):
    keys = {"workers": 2, "client_certificate": edge_pki.client_pair(edge_pki.global_client)}
    keys.update(over)
    return keys


def test_edge_reloads_under_load(edges, guards, origin, edge_pki):
    guard_a = guards.start(origin.address, name="guard-a", headers={"fingerprint": FP_A})
    guard_b = guards.start(origin.address, name="guard-b", headers={"fingerprint": FP_B})
    e = edges.start(ops_zones(edge_pki, guard_a.port), name="edge-reloads", **edge_keys(edge_pki))
    ip_names = ("CF-Connecting-IP", "X-Ops-Visitor-IP")
    conf_a = base_config(e.port, ops_zones(edge_pki, guard_a.port),
                         **edge_keys(edge_pki, connecting_ip_header="X-Ops-Visitor-IP"))
    conf_b = base_config(e.port, ops_zones(edge_pki, guard_b.port),
                         **edge_keys(edge_pki, connecting_ip_header="X-Ops-Visitor-IP"))
    fp_label_fn, fp_check = fp_label((FP_A, FP_B), plain_fp(edge_pki.global_client.info))

    def label(resp):
        ips = [n for n, v in ops.identity(resp, ip_names).items() if v]
        return (fp_label_fn(resp), tuple(ips))

    def check(resp):
        why = fp_check(resp)
        if why:
            return why
        ips = {n: v for n, v in ops.identity(resp, ip_names).items() if v}
        if len(ips) != 1 or list(ips.values())[0] != ["127.0.0.1"]:
            return "visitor IP headers %r, expected exactly one carrying 127.0.0.1" % ips
        return None

    ctx = visitor_context(edge_pki)
    load = Load(lambda: Conn.tls(e.port, ctx, sni="www.ops.test"),
                lambda c: c.request("GET", "/headers", host="www.ops.test"),
                check=check, label=label, keepalive_threads=3, new_threads=3, per_conn=25,
                name="edge load")
    with load:
        load.wait_requests(BETWEEN, timeout=20)
        reload_many(e.proc, load, [conf_b, conf_a],
                    lambda c: write_config(e.config_path, c))
    load.assert_no_failures()
    assert not load.label_changes(), ("keep-alive connections that changed configuration "
                                      "mid-connection: %r" % load.label_changes()[:5])
    seen = set(load.labels)
    assert (FP_A, ("X-Ops-Visitor-IP",)) in seen and (FP_B, ("X-Ops-Visitor-IP",)) in seen, seen

    # The last reload applied conf_a with the new visitor-IP header, which
    # the edge did not start with.
    with Conn.tls(e.port, ctx, sni="www.ops.test") as c:
        r = c.request("GET", "/headers", host="www.ops.test", headers=[("Connection", "close")])
    assert label(r) == (FP_A, ("X-Ops-Visitor-IP",)), ops.app_headers(r)
    assert e.alive()
