"""Rotating the edge's origin-pull certificate without a failed pull, as
README.md describes it, with visitors sending requests through the edge the
whole time:

  1. the guard trusts the old CA only; the edge presents A (old CA);
     `pullgate edge probe` with the candidate B (new CA): refused, exit 1
  2. the guard trusts old and new CAs (SIGHUP); the probe with B: accepted
  3. the edge presents B (its file rewritten, `pullgate reload`); once the
     visitor connections from before have ended, the app sees only B
  4. the guard drops the old CA (SIGHUP); a probe with A is now refused,
     B still works

Not one visitor request fails along the way."""
import time

import pytest

from lib import guard as guardlib
from lib import ops
from lib.client import Conn
from lib.edge import base_config, plain_fp, record, visit, visitor_context, write_config, zone
from lib.load import Load
from lib.pki import parse_inspect
from lib.ports import free_port
from lib.waiting import wait_for

RECORD = "www.rot.test"


@pytest.fixture
def rotation_pki(pki_tool):
    old_ca = pki_tool.ca("rot-old-ca", "pullgate rotation old CA")
    new_ca = pki_tool.ca("rot-new-ca", "pullgate rotation new CA")
    a = pki_tool.issue("client", "rot-a", "edge-a.rot.test", ca=old_ca, dns=["edge-a.rot.test"])
    b = pki_tool.issue("client", "rot-b", "edge-b.rot.test", ca=new_ca, dns=["edge-b.rot.test"])
    for c in (a, b):
        c.info = parse_inspect(pki_tool.run("inspect", c.cert).stdout)
    return old_ca, new_ca, a, b


def test_rotate_edge_client_certificate_under_load(edges, guards, origin, edge_pki, pullgate_bin,
                                                   rotation_pki):
    old_ca, new_ca, a, b = rotation_pki
    fp = {plain_fp(a.info): "A", plain_fp(b.info): "B"}

    gport, gsection = guards.config(origin.address, trust={"ca": [old_ca.cert], "crl": None})
    g = guards.start_section(gport, gsection, name="guard-rotation")

    def guard_trusts(*cas):
        ops.rewrite(g.config_path, guardlib.to_yaml({"guard": guardlib.merge(
            gsection, {"trust": {"ca": [c.cert for c in cas]}})}) + "\n")
        ops.hup(g.proc)

    zones = [zone("rot.test", edge_pki.zone_cert("rot.test"),
                  [record(RECORD, "127.0.0.1:%d" % g.port)], origin_pull="global")]
    keys = {"admin": "127.0.0.1:%d" % free_port(), "workers": 2}
    e = edges.start(zones, name="edge-rotation", client_certificate=edge_pki.client_pair(a),
                    **keys)

    def label(resp):
        vals = ops.identity(resp, ["X-Client-Fingerprint"])["X-Client-Fingerprint"]
        return fp.get(vals[0]) if len(vals) == 1 else None

    def check(resp):
        if resp.status != 200:
            return "status %d: %r" % (resp.status, resp.body[:200])
        return None if label(resp) else "fingerprint %r" % ops.app_headers(resp)

    def probe(cert):
        return ops.probe(pullgate_bin, e.config_path, RECORD, cert)

    ctx = visitor_context(edge_pki)
    load = Load(lambda: Conn.tls(e.port, ctx, sni=RECORD),
                lambda c: c.request("GET", "/headers", host=RECORD),
                check=check, label=label, keepalive_threads=2, new_threads=2, per_conn=20,
                name="visitors")
    with load:
        load.wait_requests(5, timeout=20)

        # 1. The candidate is refused while the guard trusts the old CA only.
        mark = g.mark()
        r = probe(b)
        assert r.returncode == 1, ops.describe(r)
        assert r.stdout.startswith("refused: the origin refused the certificate"), ops.describe(r)
        g.wait_refusal("unknown CA", mark)
        r = probe(a)
        assert r.returncode == 0 and r.stdout.startswith("accepted: "), ops.describe(r)

        # 2. The guard trusts both CAs.
        guard_trusts(old_ca, new_ca)
        load.wait_requests(5, timeout=20)
        r = probe(b)
        assert r.returncode == 0, ops.describe(r)
        assert r.stdout.startswith("accepted: 127.0.0.1:%d answered \"HTTP/1.1 " % g.port), \
            ops.describe(r)

        # 3. The edge switches to B.
        write_config(e.config_path, base_config(e.port, zones,
                                                client_certificate=edge_pki.client_pair(b),
                                                **keys))
        r = ops.reload_cmd(pullgate_bin, e.config_path)
        assert r.returncode == 0, ops.describe(r)
        assert r.stdout.strip() == "edge reloaded (%s)" % keys["admin"], ops.describe(r)
        switched = time.monotonic()
        wait_for(lambda: not load.open_conns_since(switched), 20,
                 "the visitor connections from before the switch to end")
        since = len(origin.log())
        load.wait_requests(10, timeout=20)
        seen = {fp.get(ops_fp(entry)) for entry in origin.log(since)}
        assert seen == {"B"}, "after the switch the app saw %s" % seen

        # 4. The guard drops the old CA.
        guard_trusts(new_ca)
        load.wait_requests(10, timeout=20)
        mark = g.mark()
        r = probe(a)
        assert r.returncode == 1, ops.describe(r)
        assert r.stdout.startswith("refused: the origin refused the certificate"), ops.describe(r)
        g.wait_refusal("unknown CA", mark)
        r = probe(b)
        assert r.returncode == 0, ops.describe(r)
    load.assert_no_failures()
    assert load.labels["A"] and load.labels["B"], load.labels
    r = visit(e, edge_pki, RECORD, "/headers")
    assert r.status == 200 and label(r) == "B", (r.status, r.body[:300])


def ops_fp(entry):
    vals = [v for k, v in entry["headers"] if k.lower() == "x-client-fingerprint"]
    return vals[0] if len(vals) == 1 else None
