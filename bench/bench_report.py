"""bench_report: the scenarios and the markdown report of a run.

Every figure is a median over the runs; each throughput cell carries the
server's own CPU use during the run, so a rate limited by the load side (the
client core also runs wrk, the origin and, for the edge, the fixture guard)
shows as a server below 100 %.
"""
import os
import platform
import statistics
import time

NAMES = {"pullgate": "pullgate", "nginx": "nginx", "haproxy": "HAProxy"}
PEERS = ("nginx", "haproxy")


class Scenario:
    """hit: every request should be answered from the edge's cache; unique:
    every request gets its own query string (requests.lua)."""

    def __init__(self, role, key, label, path, conns, close=False, resume=True,
                 latency=False, hit=False, unique=False):
        self.role = role
        self.key = key
        self.label = label
        self.path = path
        self.conns = conns
        self.close = close
        self.resume = resume
        self.latency = latency
        self.hit = hit
        self.unique = unique


def _med(runs, attr):
    vals = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
    return statistics.median(vals) if vals else None


def _ratio(pg, peers, higher_better):
    peers = [p for p in peers if p]
    if not pg or not peers:
        return "n/a"
    best = max(peers) if higher_better else min(peers)
    return "%.2f" % (pg / best)


def _row(cells):
    return "| " + " | ".join(cells) + " |"


class Table:
    def __init__(self, systems, head):
        self.systems = systems
        self.lines = [_row(head + [NAMES[s] for s in systems] + ["pullgate ÷ best peer"]),
                      _row(["---"] * (len(head) + len(systems) + 1))]

    def add(self, label, better, cells, values):
        """cells: system -> text; values: system -> number for the ratio."""
        peers = [values.get(p) for p in PEERS if p in self.systems]
        ratio = _ratio(values.get("pullgate"), peers, better == "higher") \
            if "pullgate" in self.systems else "n/a"
        self.lines.append(_row([label, better] + [cells.get(s, "n/a") for s in self.systems]
                               + [ratio]))


def _rate_cell(runs, sc):
    rps = _med(runs, "rps")
    text = "{:,.0f} (cpu {:.0f}%".format(rps, _med(runs, "server_pct"))
    if sc.close:
        hs = sum(r.handshakes for r in runs)
        res = sum(r.resumed for r in runs)
        text += ", {:.0f}% resumed".format(100.0 * res / hs if hs else 0)
    text += ")"
    errors = sum(r.errors for r in runs)
    if errors:
        text += " [%d errors]" % errors
    return text, rps


def ceiling_kind(sc):
    """The key of crypto_ceiling's result for sc's kind of handshake."""
    return "resumed_hs" if sc.resume else "full_hs"


def _ceilings_beside(run, sc):
    """The ceilings measured after each round of sc's runs."""
    kind = ceiling_kind(sc)
    return [c[kind] for c in run.ceilings.get(sc.key, []) if kind in c]


def _ceiling_for(run, sc, ceiling):
    """The handshakes/s one core's crypto allows for sc's kind of
    handshake: the median of the openssl speed runs made beside its rounds
    (the machine as fast or as slow as during its runs), else the one made
    at the start."""
    beside = _ceilings_beside(run, sc)
    return statistics.median(beside) if beside else ceiling.get(ceiling_kind(sc))


def _role_table(run, role, scs, st, ceiling):
    t = Table(st.systems, ["scenario", "better"])
    for sc in [s for s in scs if s.role == role]:
        per = run.results.get(sc.key, {})
        cells, values = {}, {}
        if sc.latency:
            for name, runs in per.items():
                p50, p99 = _med(runs, "p50_ms"), _med(runs, "p99_ms")
                cells[name] = "{:.2f} / {:.2f} ({:,.0f}/s)".format(p50 or 0, p99 or 0,
                                                                  _med(runs, "rps"))
                values[name] = p99
            t.add(sc.label + " (ratio: p99)", "lower", cells, values)
            continue
        for name in st.systems:
            if name in per:
                cells[name], values[name] = _rate_cell(per[name], sc)
        t.add(sc.label, "higher", cells, values)
        ceil = _ceiling_for(run, sc, ceiling) if sc.close else None
        if ceil:
            pct = {n: 100.0 * v / ceil for n, v in values.items() if v}
            t.add("  … as % of the crypto ceiling ({:,.0f}/s)".format(ceil), "higher",
                  {n: "%.0f%%" % v for n, v in pct.items()}, pct)
    cells, values = {}, {}
    for name in st.systems:
        if (role, name) in run.idle:
            kib, n = run.idle[(role, name)]
            cells[name] = "%.1f (%d open)" % (kib, n)
            values[name] = kib
    t.add("RSS per idle TLS connection, KiB" + (" (client certificate)" if role == "guard" else ""),
          "lower", cells, values)
    cells, values = {}, {}
    for name in st.systems:
        if (role, name) in run.hwm:
            values[name] = run.hwm[(role, name)]
            cells[name] = "{:,}".format(values[name])
    t.add("peak RSS under load, KiB (VmHWM)", "lower", cells, values)
    return t.lines


def _efficiency_table(run, scs, st):
    t = Table(st.systems, ["scenario", "better"])
    for sc in scs:
        if sc.latency:
            continue
        per = run.results.get(sc.key, {})
        cells, values = {}, {}
        for name, runs in per.items():
            cpu = _med(runs, "server_pct")
            if cpu:
                values[name] = _med(runs, "rps") / (cpu / 100.0)
                cells[name] = "{:,.0f}".format(values[name])
        t.add("%s: %s" % (sc.role, sc.label), "higher", cells, values)
    return t.lines


def _per_cpu(runs):
    cpu = _med(runs, "server_pct")
    return _med(runs, "rps") / (cpu / 100.0) if cpu else None


def _ms_pair(ours, theirs):
    """"A ms vs B ms", with a third decimal when two would show different
    values as the same (the judgment uses them unrounded)."""
    digits = 3 if ours != theirs and "%.2f" % ours == "%.2f" % theirs else 2
    return "%.*f ms vs %.*f ms" % (digits, ours, digits, theirs)


def _best_peer(values, higher_better):
    peers = [values[p] for p in PEERS if values.get(p)]
    if not peers:
        return None
    return max(peers) if higher_better else min(peers)


def _goals_table(run, scs, st, ceiling):
    """pullgate's goals, each judged from this run: per core (per server
    CPU-second) at least 1.3x the better peer in every throughput scenario;
    full mutual-TLS handshakes within 15% of the crypto ceiling; at most
    16 KiB per idle TLS connection and less than either peer; p99 latency no
    worse than the better peer."""
    if "pullgate" not in st.systems:
        return []
    rows = [_row(["goal", "scenario", "measured", "met"]), _row(["---"] * 4)]

    def add(goal, scenario, measured, met):
        rows.append(_row([goal, scenario, measured, "yes" if met else "**no**"]))
    for sc in scs:
        per = run.results.get(sc.key, {})
        if "pullgate" not in per:
            continue
        if sc.latency:
            vals = {n: _med(r, "p99_ms") for n, r in per.items()}
            best = _best_peer(vals, False)
            if best and vals["pullgate"]:
                add("p99 no worse than the better peer", "%s: %s" % (sc.role, sc.label),
                    _ms_pair(vals["pullgate"], best), vals["pullgate"] <= best)
            continue
        vals = {n: _per_cpu(r) for n, r in per.items()}
        best = _best_peer(vals, True)
        if best and vals["pullgate"]:
            ratio = vals["pullgate"] / best
            add(">= 1.3x the better peer per core", "%s: %s" % (sc.role, sc.label),
                "%.2fx" % ratio, ratio >= 1.3)
        ceil = _ceiling_for(run, sc, ceiling) if sc.close and not sc.resume else None
        if ceil and vals["pullgate"]:
            # The ceiling is what one core's crypto allows: judged per core,
            # as the rest, with the rate as measured beside it.
            pct = 100.0 * vals["pullgate"] / ceil
            raw = 100.0 * _med(per["pullgate"], "rps") / ceil
            add("full handshakes within 15% of the crypto ceiling", "%s: %s" % (sc.role, sc.label),
                "%.0f%% of %s/s per core (%.0f%% at the rate measured)"
                % (pct, "{:,.0f}".format(ceil), raw), pct >= 85)
    for role in ("guard", "edge"):
        idle = {n: run.idle[(role, n)][0] for n in st.systems if (role, n) in run.idle}
        if "pullgate" in idle:
            peers = [idle[p] for p in PEERS if p in idle]
            met = idle["pullgate"] <= 16 and all(idle["pullgate"] < p for p in peers)
            add("<= 16 KiB per idle TLS connection, below both peers", role,
                "%.1f KiB (peers %s)" % (idle["pullgate"], ", ".join("%.1f" % p for p in peers)),
                met)
    return rows


def _load_table(run, scs, st):
    lines = [_row(["scenario"] + ["%s: wrk / core %d / other on core %d" % (NAMES[s], st.client_cpu,
                                                                          st.server_cpu)
                                  for s in st.systems]),
             _row(["---"] * (len(st.systems) + 1))]
    for sc in scs:
        per = run.results.get(sc.key, {})
        cells = []
        for name in st.systems:
            runs = per.get(name)
            cells.append("%.0f%% / %.0f%% / %.0f%%" % (_med(runs, "client_pct"),
                                                      _med(runs, "client_core_pct"),
                                                      _med(runs, "other_pct"))
                         if runs else "n/a")
        lines.append(_row(["%s: %s" % (sc.role, sc.label)] + cells))
    return lines


def _origin_table(run, scs, st):
    """Requests that reached the origin per request answered, per scenario
    and system, from the run furthest from what the scenario expects."""
    lines = [_row(["scenario", "expected"] + [NAMES[s] for s in st.systems]),
             _row(["---"] * (len(st.systems) + 2))]
    for sc in scs:
        per = run.results.get(sc.key, {})
        cells = []
        for name in st.systems:
            runs = [r for r in per.get(name, []) if r.origin_reached is not None and r.requests]
            if not runs:
                cells.append("n/a")
                continue
            expect = 0.0 if sc.hit else 1.0
            worst = max(runs, key=lambda r: abs(r.origin_reached / r.requests - expect))
            cells.append("{:.3f} ({:,} / {:,})".format(worst.origin_reached / worst.requests,
                                                        worst.origin_reached, worst.requests))
        lines.append(_row(["%s: %s" % (sc.role, sc.label), "0" if sc.hit else "1"] + cells))
    return lines


def _machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
        mem = "%.0f GiB" % (kib / 1048576)
    return "%d cores (nproc), %s, %s, Linux %s" % (os.cpu_count(), model, mem, platform.release())


def _command():
    env = " ".join("%s=%s" % (k, v) for k, v in sorted(os.environ.items())
                   if k.startswith("BENCH_") and k not in ("BENCH_TLS_CERT",))
    cmd = "make bench" if os.environ.get("MAKELEVEL") else "sh bench/run.sh"
    return (env + " " + cmd).strip()


def write_report(root, st, env, run, scs, ceiling, key_type, versions, elapsed):
    now = time.localtime()
    out = ["# pullgate benchmark, %s" % time.strftime("%Y-%m-%d %H:%M %Z", now), ""]
    out += [
        "- command: `%s`" % _command(),
        "- machine: %s" % _machine(),
        "- versions: %s; %s; %s; %s; %s" % (versions["pullgate"], versions["nginx"],
                                           versions["haproxy"], versions["openssl"], versions["wrk"]),
        "- certificates: one CA, one server certificate for every listener, one client "
        "certificate, all %s, made by `pullgate pki`" % key_type,
        "- negotiated: " + "; ".join("%s %s: %s" % (r, NAMES[s], v)
                                     for (r, s), v in sorted(run.tls.items())),
        "- layout: each system alone on core %d with one worker (pullgate --workers 1; nginx "
        "worker_processes 1, master_process off; HAProxy nbthread 1); on core %d: wrk -t1, the "
        "origin (nginx serving the objects over plain HTTP) and, for the edge role, the fixture "
        "guard every edge pulls from (nginx, ssl_verify_client on, in front of the same origin)"
        % (st.server_cpu, st.client_cpu),
        "- runs: per scenario %d s warm-up, then %d runs x %d s per system (latency: %d runs), "
        "systems alternating; medians. wrk -c %d (latency: -c %d, each pause between a "
        "connection's requests drawn from %d-%d ms, %d on average). Log level warn, access "
        "logs off."
        % (st.warmup, st.runs, st.seconds, st.lat_runs, st.conns, st.lat_conns,
           st.lat_delay_ms // 2, st.lat_delay_ms + st.lat_delay_ms // 2, st.lat_delay_ms),
        "- took %.1f min%s; waited %.0f s for a quiet server core, repeated %d disturbed runs"
        % (elapsed / 60, " (BENCH_QUICK: a trial, not figures to quote)" if st.quick else "",
           run.waited, run.reruns),
        "",
    ]
    other = max([_med(runs, "other_pct") for per in run.results.values()
                 for runs in per.values()] or [0])
    if run.unexpected:
        out += ["**Warning:** %d runs sent the origin other than what their scenario claims "
                "(see the origin table):" % len(run.unexpected), ""]
        out += ["    " + line for line in run.unexpected] + [""]
    if other > 5:
        out += ["**Warning:** up to %.0f%% of the server core went to something other than the "
                "server during a scenario (another process on this machine?): figures may be "
                "low and noisy; see the load-side table." % other, ""]
    if "sign" in ceiling:
        out += ["## Crypto ceiling (openssl speed, core %d)" % st.server_cpu, "",
                _row(["operation", "per second"]), _row(["---", "---"]),
                _row(["ECDSA P-256 sign", "{:,.0f}".format(ceiling["sign"])]),
                _row(["ECDSA P-256 verify", "{:,.0f}".format(ceiling["verify"])]),
                _row(["X25519 derive", "{:,.0f}".format(ceiling["x25519"])]),
                _row(["⇒ full mutual-TLS handshakes, server side (2 X25519 + 1 sign + 2 verify)",
                      "{:,.0f}".format(ceiling["full_hs"])]),
                _row(["⇒ resumed handshakes, server side (2 X25519, no signature)",
                      "{:,.0f}".format(ceiling["resumed_hs"])]), ""]
        beside = [sc for sc in scs if sc.key in run.ceilings]
        if beside:
            out += ["Measured at the start (above), and again after each round of a handshake "
                    "scenario's runs (1 s per operation); a handshake row's share of the "
                    "ceiling uses the median of those taken beside its own runs:", "",
                    _row(["scenario", "ceiling beside each round", "median used"]),
                    _row(["---"] * 3)]
            for sc in beside:
                out.append(_row(["%s: %s" % (sc.role, sc.label),
                                 ", ".join("{:,.0f}".format(v) for v in _ceilings_beside(run, sc)),
                                 "{:,.0f}".format(_ceiling_for(run, sc, ceiling))]))
            out.append("")
    goals = _goals_table(run, scs, st, ceiling)
    if goals:
        out += ["## Goals", "",
                "Judged from this run. Per core means per server CPU-second (the table below), "
                "which stays fair when the load side limits a run.", ""] + goals + [""]
    titles = {"guard": "Guard role: mutual TLS in front of the origin (client presents a certificate)",
              "edge": "Edge role: visitors over TLS, pulls over pooled mutual TLS to a guard"}
    for role in ("guard", "edge"):
        if any(sc.role == role for sc in scs):
            out += ["## " + titles[role], ""] + _role_table(run, role, scs, st, ceiling) + [""]
    out += ["## Per server CPU-second (rate ÷ the server's CPU use)", "",
            "What one fully used core would give when the load side, not the server, "
            "limited a run (cpu below ~95% above).", ""] + _efficiency_table(run, scs, st) + [""]
    out += ["## Origin requests per request answered", "",
            "Counted by the origin (nginx stub_status) around every measured run: a guard "
            "forwards every request and an edge's miss rows (a no-store object with a new "
            "query string each time) must pull every request: 1; its hit rows (max-age "
            "objects fetched before) must pull none: 0. Shown: the run furthest from that, "
            "as origin requests ÷ requests answered (the two counts in brackets); "
            "the requests still in flight when wrk stops reach the origin uncounted by wrk.", ""]
    out += _origin_table(run, scs, st) + [""]
    out += ["## Load side", "",
            "Median CPU use: wrk / all of core %d (wrk, origin, fixture guard, driver) / "
            "other processes and hypervisor steal on core %d (should be near 0; interrupt "
            "time is left out: on loopback it is mostly the server's own traffic)."
            % (st.client_cpu, st.server_cpu), ""]
    out += _load_table(run, scs, st) + [""]
    out += ["## How to read it", "",
            "- `(cpu N%)`: the server process's own CPU use on its core during the runs. "
            "Near 100%: the figure is the server's per-core capacity. Lower: core {} "
            "(wrk + origin + fixture guard) or the machine was the limit, and the "
            "per-CPU-second table is the fairer comparison.".format(st.client_cpu),
            "- Ratios are pullgate's figure over the best peer's: above 1 is better for "
            "`higher` rows, below 1 for `lower` rows.",
            "- Handshake rows: `Connection: close` on every request, so each request costs one "
            "handshake; the `% resumed` is counted on the client side (tls_client_shim).",
            "- Latency: wrk is closed-loop (wrk2 is not in Debian); a fixed small connection "
            "count, each pausing between requests, keeps the rate moderate and fixed, "
            "and the achieved rate is shown.",
            "- Idle connections: one keep-alive request each, then held idle; RSS growth of "
            "a freshly started server divided by the count.",
            "- Edge caches: pullgate keeps stored objects in its heap (up to 256m, "
            "allocated as objects are stored, so in RSS); HAProxy's includes its cache's "
            "shared memory (16 MB, allocated at start); nginx keeps its cache in files "
            "(page cache, not RSS).",
            "- Miss rows: a no-store object, each request with its own query string, so "
            "no edge answers from its cache or folds concurrent requests into one pull.",
            ""]
    text = "\n".join(out)
    os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
    path = os.path.join(root, "bench", "results", time.strftime("%Y-%m-%d-%H%M", now) + ".md")
    with open(path, "w") as f:
        f.write(text)
    return text, path
