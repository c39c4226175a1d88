"""The operator's side of a running role in the operations tests: rewriting
its configuration file in place, SIGHUP followed by a wait for the log line
that says how the reload ended, `pullgate reload` and `pullgate edge probe`
as commands, and the identity headers the origin app saw."""
import json
import os
import re
import signal
import subprocess

from . import waiting
from .app import header_values

RELOADED_RX = re.compile(r" reloaded \S+ \((?P<why>[^)]*)\)$")
REFUSED_RX = re.compile(r"reload \((?P<why>[^)]*)\) refused: "
                        r"the running configuration keeps serving")


def rewrite(path, text):
    """Replaces the file at path with text in one rename, so a reload never
    reads half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def reload_lines(proc, why="SIGHUP", since=0):
    """(reloaded lines, refused lines) of proc's log after since for why."""
    ok, refused = [], []
    for line in proc.lines(since):
        m = RELOADED_RX.search(line)
        if m and m.group("why") == why:
            ok.append(line)
        m = REFUSED_RX.search(line)
        if m and m.group("why") == why:
            refused.append(line)
    return ok, refused


def hup(proc, timeout=15.0):
    """Sends SIGHUP to proc (a procs.Proc) and waits until its log says the
    reload was applied; raises with the log when it was refused or the line
    does not come. Returns the log offset from before the signal."""
    mark = proc.mark()
    proc.send_signal(signal.SIGHUP)

    def done():
        ok, refused = reload_lines(proc, "SIGHUP", mark)
        if refused:
            raise AssertionError("the reload was refused:\n" + proc.stderr_text(mark))
        return bool(ok)
    waiting.wait_for(done, timeout, "%s to log 'reloaded ... (SIGHUP)'" % proc.name)
    return mark


def hup_refused(proc, timeout=15.0):
    """Sends SIGHUP and waits for the refusal line; the log text the reload
    wrote (its reasons and the refusal). Raises when it was applied."""
    mark = proc.mark()
    proc.send_signal(signal.SIGHUP)

    def done():
        ok, refused = reload_lines(proc, "SIGHUP", mark)
        if ok:
            raise AssertionError("a broken configuration was applied:\n" + proc.stderr_text(mark))
        return bool(refused)
    waiting.wait_for(done, timeout, "%s to log 'reload (SIGHUP) refused'" % proc.name)
    return proc.stderr_text(mark)


def run(binary, *args, timeout=30):
    """Runs `pullgate ARGS`: a CompletedProcess with text stdout and stderr."""
    return subprocess.run([binary] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


def reload_cmd(binary, config_path, timeout=30):
    return run(binary, "reload", "-c", config_path, timeout=timeout)


def probe(binary, config_path, record, cert, timeout=30):
    """`pullgate edge probe` with cert (a pki.Cert) as the candidate."""
    return run(binary, "edge", "probe", "-c", config_path, "--record", record, "--cert",
               cert.cert, "--key", cert.key, timeout=timeout)


def describe(r):
    return "exit %d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout, r.stderr)


def app_headers(resp):
    """The [name, value] pairs the origin app says it received (GET /headers)."""
    return json.loads(resp.body)


def identity(resp, names):
    """{name: [values]} for each of names in the headers the app received."""
    h = app_headers(resp)
    return {n: header_values(h, n) for n in names}
