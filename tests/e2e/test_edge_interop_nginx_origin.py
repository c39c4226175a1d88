"""`pullgate edge` pulling from nginx (/usr/sbin/nginx) configured as an
origin with authenticated origin pulls: `ssl_verify_client on;
ssl_client_certificate edge-ca.pem;`, answering with $ssl_client_s_dn.

With the edge's certificate nginx sees its subject and answers 200. Without a
certificate (origin_pull off), or with one nginx does not trust, nginx does
NOT fail the TLS handshake: it completes it and answers HTTP 400 ("No
required SSL certificate was sent" / "The SSL certificate error"). That 400
is an ordinary origin response, so the edge relays it to the visitor as 400
and logs no upstream failure; the request never reaches nginx's location."""
import os

import pytest

from lib.edge import GLOBAL_CLIENT, record, visit, zone
from lib.peers import NginxTlsOrigin


@pytest.fixture(scope="module")
def nginx(edge_pki, pki, session_dir, log_dir):
    n = NginxTlsOrigin(os.path.join(session_dir, "nginx-aop-origin"), log_dir,
                       edge_pki.origin_valid, client_ca=pki.edge_ca.cert)
    yield n
    n.stop()


@pytest.fixture(scope="module")
def edge(module_edges, edge_pki, pki, nginx):
    addr = "127.0.0.1:%d" % nginx.port
    zones = [zone("a.test", edge_pki.zone_a, [
        record("www.a.test", addr),
        record("off.a.test", addr, origin_pull="off"),
        record("other.a.test", addr, origin_pull="hostname",
               client_certificate=edge_pki.client_pair(pki.other)),
    ], origin_pull="global")]
    return module_edges.start(zones,
                              client_certificate=edge_pki.client_pair(edge_pki.global_client))


def test_nginx_sees_edge_certificate(edge, edge_pki, nginx):
    r = visit(edge, edge_pki, "www.a.test", "/")
    assert r.status == 200, (r.status, r.body[:300], nginx.error_text()[-1500:])
    body = r.body.decode()
    assert "subject=CN=%s" % GLOBAL_CLIENT in body, body
    assert "verify=SUCCESS" in body, body
    assert "host=www.a.test" in body, body


@pytest.mark.parametrize("name,nginx_says", [
    ("off.a.test", "No required SSL certificate was sent"),
    ("other.a.test", "The SSL certificate error"),
], ids=["no-certificate", "untrusted-certificate"])
def test_nginx_answers_400_which_edge_relays(edge, edge_pki, nginx, name, nginx_says):
    mark = edge.mark()
    r = visit(edge, edge_pki, name, "/")
    assert r.status == 400, (r.status, r.body[:300])
    assert nginx_says.encode() in r.body, r.body[:300]
    assert b"subject=" not in r.body  # nginx's location did not run
    # Not an upstream failure for the edge: nginx answered.
    assert edge.upstream_lines(mark) == []
