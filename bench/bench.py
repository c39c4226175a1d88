#!/usr/bin/python3
"""make bench: pullgate against nginx and HAProxy on this machine, per core.

Each role (guard, edge) starts the three systems side by side, pinned to the
server core with one worker each, in front of the same nginx origin on the
client core; wrk, on the client core too, runs each scenario against them in
turn (warm-up, then BENCH_RUNS runs of BENCH_SECONDS, alternating systems),
and the medians go into a table written to bench/results/ and printed.

Settings (environment): BENCH_SECONDS (5), BENCH_RUNS (3), BENCH_WARMUP (2),
BENCH_CONNS (50), BENCH_IDLE_CONNS (2000), BENCH_LAT_CONNS (20),
BENCH_LAT_DELAY_MS (10), BENCH_LAT_RUNS (3 x BENCH_RUNS), BENCH_ROLES (guard,edge), BENCH_SYSTEMS
(pullgate,nginx,haproxy), BENCH_SERVER_CPU (0), BENCH_CLIENT_CPU (1),
BENCH_SCENARIOS (all: a comma list of scenario keys, e.g. e_lat,g_full, and
"idle" for the idle connections), BENCH_QUICK=1 (1 s runs, one run each, 200
idle connections: a trial).

The origin counts what reaches it around every run: an edge's origin-pull
runs must send it every request, its cache-hit runs none.
"""
import atexit
import itertools
import os
import shutil
import signal
import sys
import time

from bench_load import Wrk, client_context, crypto_ceiling, idle_connection_kib
from bench_procs import Procs, core_busy, status_kib
from bench_report import Scenario, ceiling_kind, write_report
import bench_systems as bs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setting(name, default, quick=None):
    if name in os.environ and os.environ[name] != "":
        return type(default)(os.environ[name])
    if quick is not None and os.environ.get("BENCH_QUICK") == "1":
        return quick
    return default


class Settings:
    def __init__(self):
        self.quick = os.environ.get("BENCH_QUICK") == "1"
        self.seconds = setting("BENCH_SECONDS", 5, 1)
        self.runs = setting("BENCH_RUNS", 3, 1)
        # A run's p99 moves more from run to run than a rate does (the load,
        # the origin and the edge's fixture guard share one core): the
        # latency scenarios take more runs for a median that holds.
        self.lat_runs = setting("BENCH_LAT_RUNS", 3 * self.runs, 1)
        self.warmup = setting("BENCH_WARMUP", 2, 1)
        self.conns = setting("BENCH_CONNS", 50)
        self.idle_conns = setting("BENCH_IDLE_CONNS", 2000, 200)
        self.lat_conns = setting("BENCH_LAT_CONNS", 20)
        self.lat_delay_ms = setting("BENCH_LAT_DELAY_MS", 10)
        self.roles = setting("BENCH_ROLES", "guard,edge").split(",")
        # A subset of the scenarios, for a closer look at one of them.
        self.only = [k for k in setting("BENCH_SCENARIOS", "").split(",") if k]
        self.idle = not self.only or "idle" in self.only
        self.systems = [s for s in setting("BENCH_SYSTEMS", ",".join(bs.SYSTEMS)).split(",")
                        if s in bs.SYSTEMS]
        ncpu = os.cpu_count() or 1
        self.server_cpu = setting("BENCH_SERVER_CPU", 0)
        self.client_cpu = setting("BENCH_CLIENT_CPU", 1 if ncpu > 1 else 0)
        # On a shared machine: seconds in all to wait for a quiet server core
        # before runs, and to repeat runs that something else disturbed.
        self.quiet_budget = setting("BENCH_QUIET_BUDGET", 60, 20)

    def runs_of(self, sc):
        return self.lat_runs if sc.latency else self.runs


def scenarios(st):
    c, lc = st.conns, st.lat_conns
    return [
        Scenario("guard", "g_ka_1k", "keep-alive requests/s, 1 KiB", "/cache/1k", conns=c),
        Scenario("guard", "g_ka_100k", "keep-alive requests/s, 100 KiB", "/cache/100k", conns=c),
        Scenario("guard", "g_full", "full mutual-TLS handshakes/s (new connection per 1 KiB request)",
                 "/cache/1k", conns=c, close=True, resume=False),
        Scenario("guard", "g_resumed", "resumed mutual-TLS handshakes/s (new connection per 1 KiB request)",
                 "/cache/1k", conns=c, close=True, resume=True),
        Scenario("guard", "g_lat", "latency p50 / p99 ms, 1 KiB keep-alive, fixed moderate rate",
                 "/cache/1k", conns=lc, latency=True),
        # Misses: no-store objects, each request with its own query string,
        # so no edge can answer from its cache or collapse requests into one
        # pull.
        Scenario("edge", "e_miss_1k", "origin pulls/s, 1 KiB (every request a miss)", "/nostore/1k",
                 conns=c, unique=True),
        Scenario("edge", "e_miss_100k", "origin pulls/s, 100 KiB (every request a miss)",
                 "/nostore/100k", conns=c, unique=True),
        # Hits: objects the edge check fetched (and so stored) before.
        Scenario("edge", "e_hit_1k", "cache hits/s, 1 KiB", "/cache/1k", conns=c, hit=True),
        Scenario("edge", "e_hit_100k", "cache hits/s, 100 KiB", "/cache/100k", conns=c, hit=True),
        Scenario("edge", "e_lat", "latency p50 / p99 ms, 1 KiB pulls, fixed moderate rate",
                 "/nostore/1k", conns=lc, latency=True, unique=True),
    ]


def origin_expected(sc, res):
    """Whether a run sent the origin what it should: none of the requests
    of a hit scenario, every request of the others (a guard forwards each;
    an edge misses each). wrk counts answered requests only: those in
    flight when it stops (at most one per connection) reached the origin
    uncounted."""
    if res.origin_reached is None:
        return True
    if sc.hit:
        return res.origin_reached == 0
    return res.requests <= res.origin_reached <= res.requests + sc.conns


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def run_line(st, sc, name, r, res):
    """The progress line of one measured run."""
    line = "  %-5s %-12s %-8s run %d/%d: %9.0f req/s  server %3.0f%%  wrk %3.0f%%  core%d %3.0f%%" % (
        sc.role, sc.key, name, r + 1, st.runs_of(sc), res.rps, res.server_pct, res.client_pct,
        st.client_cpu, res.client_core_pct)
    line += "  core%d irq %3.0f%% other %3.0f%%" % (st.server_cpu, res.irq_pct, res.other_pct)
    if res.origin_reached is not None:
        line += "  origin %d/%d" % (res.origin_reached, res.requests)
    if sc.latency:
        line += "  p50 %.2f p99 %.2f ms" % (res.p50_ms or 0, res.p99_ms or 0)
    if res.errors:
        line += "  ERRORS %d" % res.errors
    return line


class Run:
    def __init__(self, st, env, wrk):
        self.st = st
        self.env = env
        self.wrk = wrk
        self.results = {}     # scenario key -> system -> [WrkResult]
        self.hwm = {}         # (role, system) -> KiB
        self.idle = {}        # (role, system) -> (KiB per connection, count)
        self.tls = {}         # (role, system) -> "TLSv1.3 TLS_AES_256_GCM_SHA384"
        self.quiet_left = st.quiet_budget
        self.reruns = 0
        self.waited = 0.0
        self.unexpected = []  # progress lines of runs whose origin count was wrong
        self.run_ids = itertools.count(1)
        # Handshake scenario key -> openssl speed results taken beside its
        # runs (one per round), so that its share of the crypto ceiling
        # compares figures of the same minutes.
        self.ceilings = {}

    def load(self, sc, s, seconds):
        e = self.env
        cert = key = None
        if sc.role == "guard":
            cert, key = e.cert("client.pem"), e.cert("client.key")
        script = None
        extra = {"BENCH_LAT_DELAY_MS": "0", "BENCH_UNIQUE_QUERY": ""}
        if sc.latency or sc.unique:
            script = os.path.join(bs.HERE, "conf", "requests.lua")
        if sc.latency:
            extra["BENCH_LAT_DELAY_MS"] = str(self.st.lat_delay_ms)
        if sc.unique:
            # Never reused: in a later run or warm-up each query is new again.
            extra["BENCH_UNIQUE_QUERY"] = "%s-%s-%d-%d" % (sc.key, s.name, os.getpid(), next(self.run_ids))
        before = bs.origin_requests(e)
        res = self.wrk.run(s.pid, "https://localhost:%d%s" % (s.port, sc.path), seconds,
                           sc.conns, cert=cert, key=key, resume=sc.resume, close=sc.close,
                           script=script, env_extra=extra)
        res.origin_reached = bs.origin_requests(e) - before
        return res

    def wait_quiet(self):
        """Waits (within the budget) until the server core is idle: between
        runs nothing of ours runs there, so what does is someone else's."""
        while self.quiet_left > 0:
            b0 = core_busy(self.st.server_cpu)
            time.sleep(0.25)
            b1 = core_busy(self.st.server_cpu)
            if (b1[0] - b0[0]) <= 0.1 * max(b1[1] - b0[1], 1):
                return
            self.quiet_left -= 0.25
            self.waited += 0.25

    def measure(self, sc, s):
        """One measured run; run again (within the budget) when more than
        15% of the server core went to something else."""
        while True:
            self.wait_quiet()
            res = self.load(sc, s, self.st.seconds)
            if res.other_pct <= 15 or self.quiet_left < self.st.seconds:
                return res
            self.quiet_left -= self.st.seconds
            self.reruns += 1
            progress("  %-5s %-12s %-8s disturbed (%.0f%% of core %d went elsewhere): again"
                     % (sc.role, sc.key, s.name, res.other_pct, self.st.server_cpu))

    def start_role(self, role, guard_port):
        servers = []
        for name in self.st.systems:
            s = bs.start_system(self.env, name, role, guard_port)
            self.tls[(role, name)] = bs.check_system(self.env, s)
            servers.append(s)
        return servers

    def stop(self, servers):
        for s in servers:
            self.env.procs.stop(s.proc)

    def role(self, role, scs):
        st, e = self.st, self.env
        fixture = None
        guard_port = None
        if role == "edge":
            guard_port, fixture = bs.start_fixture_guard(e)
        servers = self.start_role(role, guard_port)
        for sc in scs:
            for s in servers:
                self.load(sc, s, st.warmup)
            per = self.results.setdefault(sc.key, {})
            for r in range(st.runs_of(sc)):
                # Rotate the order so no system always runs first.
                for s in servers[r % len(servers):] + servers[:r % len(servers)]:
                    res = self.measure(sc, s)
                    per.setdefault(s.name, []).append(res)
                    line = run_line(st, sc, s.name, r, res)
                    if not origin_expected(sc, res):
                        line += "  UNEXPECTED: %s" % ("not all hits" if sc.hit else
                                                      "the origin count is not one per request")
                        self.unexpected.append(line.strip())
                    progress(line)
                    if res.errors and not res.rps:
                        progress(res.raw)
                if sc.close:
                    c = crypto_ceiling(st.server_cpu, 1)
                    self.ceilings.setdefault(sc.key, []).append(c)
                    progress("  %-5s %-12s crypto ceiling beside round %d: %s/s"
                             % (sc.role, sc.key, r + 1, "{:,.0f}".format(c.get(ceiling_kind(sc), 0))))
        for s in servers:
            self.hwm[(role, s.name)] = status_kib(s.pid, "VmHWM")
        self.stop(servers)
        if not st.idle:
            if fixture is not None:
                e.procs.stop(fixture)
            return
        # Idle connections on fresh processes, so memory freed after the load
        # (and kept by the allocator) does not hide what a connection costs.
        servers = self.start_role(role, guard_port)
        ca = e.cert("ca.pem")
        ctx = (client_context(ca, e.cert("client.pem"), e.cert("client.key"))
               if role == "guard" else client_context(ca))
        for s in servers:
            kib, n = idle_connection_kib(s.pid, s.port, ctx, "/cache/1k", st.idle_conns, 60)
            self.idle[(role, s.name)] = (kib, n)
            progress("  %-5s idle TLS connections  %-8s %d open: %.1f KiB each" % (role, s.name, n, kib))
        self.stop(servers)
        if fixture is not None:
            e.procs.stop(fixture)


def main():
    st = Settings()
    known = {sc.key for sc in scenarios(st)} | {"idle"}
    unknown = [k for k in st.only if k not in known]
    if unknown:
        sys.exit("bench: BENCH_SCENARIOS: no scenario %s (there are %s)"
                 % (", ".join(unknown), ", ".join(sorted(known))))
    pg = os.environ.get("PULLGATE_BIN", os.path.join(ROOT, "build", "pullgate"))
    if not os.access(pg, os.X_OK):
        sys.exit("bench: %s is missing: run make bench (it builds it first)" % pg)
    shim = os.environ.get("BENCH_SHIM", os.path.join(ROOT, "build", "bench", "tls_client_shim.so"))
    if not os.path.exists(shim):
        sys.exit("bench: %s is missing: run bench/run.sh (it builds it)" % shim)
    if st.server_cpu == st.client_cpu:
        progress("bench: WARNING: one core only: server and load share it")
    # The driver runs on the client core: it never takes time from a server.
    os.sched_setaffinity(0, {st.client_cpu})
    work = os.path.join(ROOT, "build", "bench", "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "logs"))
    procs = Procs(os.path.join(work, "logs"))
    atexit.register(procs.stop_all)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))
    started = time.time()

    env = bs.Env(pg, work, procs, st.server_cpu, st.client_cpu)
    wrk = Wrk(shim, st.server_cpu, st.client_cpu, work)
    all_sc = [sc for sc in scenarios(st) if sc.role in st.roles
              and (not st.only or sc.key in st.only)]
    n_loads = len(all_sc) * len(st.systems)
    n_runs = sum(st.runs_of(sc) for sc in all_sc) * len(st.systems)
    progress("bench: %d scenario x system pairs, %d x %d s runs each (latency: %d) after %d s "
             "warm-up (about %.0f min in all)"
             % (n_loads, st.runs, st.seconds, st.lat_runs, st.warmup,
                (n_runs * st.seconds + n_loads * st.warmup + 60) / 60))
    key_type = bs.make_pki(env)
    bs.make_objects(env)
    bs.start_origin(env)
    progress("bench: crypto ceiling (openssl speed on core %d)" % st.server_cpu)
    ceiling = crypto_ceiling(st.server_cpu, 1 if st.quick else 2)
    run = Run(st, env, wrk)
    for role in ("guard", "edge"):
        scs = [sc for sc in all_sc if sc.role == role]
        if scs or (st.idle and st.only and role in st.roles):
            progress("bench: %s role" % role)
            run.role(role, scs)
    procs.stop_all()
    text, path = write_report(ROOT, st, env, run, all_sc, ceiling, key_type,
                              bs.version_lines(env), time.time() - started)
    print(text)
    progress("bench: written to %s (logs and configurations in %s)" % (os.path.relpath(path, ROOT), work))


if __name__ == "__main__":
    main()
