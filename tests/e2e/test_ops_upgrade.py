"""A zero-downtime binary upgrade: with clients sending requests the whole
time, a second guard is started with the same configuration file (the same
ports: every listener uses SO_REUSEPORT); once it listens and has answered
requests, the first one gets SIGTERM, stops accepting, lets its in-flight
request finish, and exits 0. Not one request fails (nor one of a burst of
new connections opened while the first one's listeners close), and the
second keeps serving.

Each process writes its access log to its own stderr, which tells which one
answered. A client whose idle keep-alive connection the old process closed
while its next request was on the way sends it again on a new connection,
as HTTP clients do; a failed handshake, a reset new connection or a request
that got no answer counts as a failure."""
import json

from lib import guard as guardlib
from lib.client import Conn, client_context
from lib.load import Burst, Load
from lib.waiting import wait_for


def access_lines(g, since=0):
    out = []
    for line in g.proc.lines(since):
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_second_process_takes_over(guards, origin, pki, log_dir):
    port, section = guards.config(origin.address, workers=2,
                                  access_log={"path": "stderr", "format": "json"},
                                  timeouts={"grace": "10s", "handshake": "30s"})
    old = guards.start_section(port, section, name="guard-old")
    ctx = client_context(pki.origin_ca.cert, pki.good)

    load = Load(lambda: Conn.tls(port, ctx),
                lambda c: c.request("GET", "/", host="localhost"),
                keepalive_threads=3, new_threads=3, per_conn=30, retry_idle_close=True,
                name="clients")
    with load:
        load.wait_requests(10, timeout=20)
        # A connection to the old process, for a request in flight at SIGTERM.
        inflight = Conn.tls(port, ctx, timeout=30)
        assert inflight.request("GET", "/", host="localhost").status == 200

        new = guardlib.Guard(old.proc.argv[0], old.config_path, port, log_dir, name="guard-new",
                             wait_ready=False)
        guards.guards.append(new)
        new.proc.wait_line(r"guard listening on 127\.0\.0\.1:%d" % port, timeout=20)
        wait_for(lambda: access_lines(new), 20, "the new guard to answer a request")
        assert old.alive()

        before = origin.count()
        inflight.send(b"GET /slow/1.5 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        wait_for(lambda: origin.count() > before and any(
            e["path"] == "/slow/1.5" for e in origin.log(before)), 10,
            "the slow request to reach the app")
        mark = old.mark()
        # New connections arriving in a burst while the old listeners close.
        burst = Burst(port, seconds=0.1, max_conns=100).start()
        wait_for(lambda: len(burst.socks) >= 10, 5, "the connection burst to start")
        t_term = load.elapsed()
        old.term()
        burst_n = burst.finish(lambda s: Conn(ctx.wrap_socket(s, server_hostname="localhost")),
                               lambda c: c.request("GET", "/", host="localhost",
                                                   headers=[("Connection", "close")]),
                               load.check)
        r = inflight.read_response(timeout=20)
        assert r.status == 200 and r.body == b"slow done\n", (r.status, r.body[:200])
        inflight.close()
        rc = old.proc.wait_exit(20)
        assert rc == 0, "the old guard exited %s:\n%s" % (rc, old.proc.tail(30))
        assert old.proc.find_line(r"stopped", since=mark), old.log(mark)
        served_by_new = len(access_lines(new))
        load.wait_requests(20, timeout=20)
    assert not burst.failures, "%d of %d connections opened around SIGTERM (at +%.3fs) " \
        "failed:\n%s" % (len(burst.failures), burst_n, t_term, "\n".join(burst.failures[:10]))
    assert not load.failures, "SIGTERM at +%.3fs; %s" % (t_term, load.failure_report())
    assert len(access_lines(new)) > served_by_new, "the new guard stopped serving"
    assert access_lines(old) and access_lines(new)
    old.check_sanitizers()

    with Conn.tls(port, ctx) as c:
        assert c.request("GET", "/", host="localhost",
                         headers=[("Connection", "close")]).status == 200
    assert new.alive()
