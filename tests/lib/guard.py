"""Writing guard configurations (YAML) and running `pullgate guard`.

A configuration is built as a dict, starting from base_config() and changed
per test with deep-merged overrides, then written in block-style YAML."""
import copy
import json
import os
import signal

from . import ports, procs, waiting

# ASan keeps freed memory in a quarantine (256 MiB by default), which shows as
# resident memory; the body tests measure the guard's memory, so they start it
# with a small quarantine. Everything else keeps the sanitizer defaults.
SMALL_QUARANTINE = {"ASAN_OPTIONS": "quarantine_size_mb=8:thread_local_quarantine_size_kb=64"}

REFUSAL_CLASSES = ("no certificate", "unknown CA", "expired", "not yet valid", "revoked",
                   "wrong key usage", "not pinned", "protocol")


# -- YAML ---------------------------------------------------------------------

def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))  # a double-quoted YAML scalar


def _is_scalar(v):
    return not isinstance(v, (dict, list, tuple))


def to_yaml(obj, indent=0):
    """Block-style YAML for nested dicts and lists of scalars or dicts."""
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if _is_scalar(v):
                lines.append("%s%s: %s" % (pad, k, _scalar(v)))
            elif isinstance(v, dict):
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 2))
            elif all(_is_scalar(x) for x in v):
                lines.append("%s%s: [%s]" % (pad, k, ", ".join(_scalar(x) for x in v)))
            else:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(list(v), indent + 2))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            if _is_scalar(item):
                lines.append("%s- %s" % (pad, _scalar(item)))
            else:
                body = to_yaml(item, indent + 2).splitlines()
                lines.append("%s- %s" % (pad, body[0].lstrip()))
                lines.extend(body[1:])
    else:
        lines.append(pad + _scalar(obj))
    return "\n".join(lines)


def merge(base, over):
    """A deep copy of base with over merged in; a None value deletes a key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def base_config(pki, port, backend_addr, **overrides):
    """The guard section every test starts from: one worker, one TLS listener
    on 127.0.0.1:port, the session's server certificate, edge_ca with its CRL
    as the only trust anchor, short timeouts, files not watched."""
    g = {
        "workers": 1,
        "listen": ["127.0.0.1:%d" % port],
        "certificate": pki.server.cert,
        "key": pki.server.key,
        "trust": {"ca": [pki.edge_ca.cert], "crl": [pki.crl]},
        "backend": {"address": backend_addr, "connect_timeout": "2s", "response_timeout": "20s"},
        "timeouts": {"handshake": "5s", "header": "5s", "idle": "20s", "body": "20s",
                     "grace": "5s"},
        "log_level": "info",
        "watch_files": False,
    }
    return merge(g, overrides)


def write_config(path, guard_section):
    with open(path, "w") as f:
        f.write(to_yaml({"guard": guard_section}) + "\n")
    return path


# -- the process --------------------------------------------------------------

class Guard:
    """A running `pullgate guard`; ready once its TLS port accepts TCP."""

    def __init__(self, binary, config_path, port, log_dir, name="guard", env=None,
                 extra_args=(), wait_ready=True):
        self.port = port
        self.config_path = config_path
        self.proc = procs.Proc(name, [binary, "guard", "-c", config_path] + list(extra_args),
                               log_dir, env=env)
        self.pid = self.proc.pid
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout=20):
        def ready():
            if not self.proc.alive():
                raise AssertionError("pullgate guard exited with %s before accepting:\n%s"
                                     % (self.proc.returncode, self.proc.tail()))
            return ports.accepts_tcp(self.port)
        waiting.wait_for(ready, timeout, "pullgate guard to accept on port %d" % self.port)

    def mark(self):
        return self.proc.mark()

    def log(self, since=0):
        return self.proc.stderr_text(since)

    def refusals(self, since=0):
        return [l for l in self.proc.lines(since) if "tls refused" in l]

    def wait_refusal(self, reason, since, timeout=5.0):
        """The first `tls refused` line after since naming reason."""
        def find():
            for line in self.refusals(since):
                if reason in line:
                    return line
            return None
        return waiting.wait_for(find, timeout, "a 'tls refused' line naming %r; lines since: %r"
                                % (reason, self.refusals(since)))

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)

    def alive(self):
        return self.proc.alive()

    def stop(self):
        return self.proc.stop(signal.SIGTERM, timeout=15)

    def check_sanitizers(self):
        report = self.proc.sanitizer_report()
        assert report is None, "sanitizer report from pullgate guard:\n" + report


class GuardFactory:
    """Starts guards for one fixture scope and stops them all at its end."""

    def __init__(self, binary, pki, workdir, log_dir):
        self.binary = binary
        self.pki = pki
        self.workdir = workdir
        self.log_dir = log_dir
        self.guards = []
        self.n = 0

    def config(self, backend_addr, port=None, **overrides):
        """(port, guard section) for a guard in front of backend_addr."""
        port = port or ports.free_port()
        return port, base_config(self.pki, port, backend_addr, **overrides)

    def write(self, section, name="guard"):
        self.n += 1
        os.makedirs(self.workdir, exist_ok=True)
        return write_config(os.path.join(self.workdir, "%s-%d.yaml" % (name, self.n)), section)

    def start(self, backend_addr, name="guard", env=None, extra_args=(), **overrides):
        port, section = self.config(backend_addr, **overrides)
        return self.start_section(port, section, name=name, env=env, extra_args=extra_args)

    def start_section(self, port, section, name="guard", env=None, extra_args=()):
        path = self.write(section, name)
        g = Guard(self.binary, path, port, self.log_dir, name=name, env=env,
                  extra_args=extra_args)
        self.guards.append(g)
        return g

    def close(self):
        reports = []
        for g in self.guards:
            g.stop()
            r = g.proc.sanitizer_report()
            if r:
                reports.append("%s (pid %d):\n%s" % (g.proc.name, g.pid, r))
        self.guards = []
        assert not reports, "sanitizer reports from pullgate:\n" + "\n".join(reports)
