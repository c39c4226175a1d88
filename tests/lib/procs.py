"""Processes the tests start: each one's stdout and stderr go to files, each is
remembered in a registry, and each is stopped by its own PID — never by name.
A failing test shows the stderr of the processes that ran during it (see
tests/e2e/conftest.py)."""
import os
import re
import signal
import subprocess
import time

from . import waiting

# Every process started in this test session, in start order.
registry = []

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                     "runtime error:", "ERROR: UndefinedBehaviorSanitizer")


class Proc:
    """A started process whose output lives in <log_dir>/<name>.{out,err}."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None, stdin=subprocess.DEVNULL):
        self.name = name
        self.argv = [str(a) for a in argv]
        os.makedirs(log_dir, exist_ok=True)
        base = os.path.join(log_dir, name)
        n = 1
        while os.path.exists(base + ".err"):
            n += 1
            base = os.path.join(log_dir, "%s.%d" % (name, n))
        self.out_path = base + ".out"
        self.err_path = base + ".err"
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=stdin, stdout=out, stderr=err,
                                          env=full_env, cwd=cwd)
        self.pid = self.popen.pid
        self.started_at = time.time()
        self.ended_at = None
        registry.append(self)

    # -- state -------------------------------------------------------------
    def alive(self):
        if self.popen.poll() is None:
            return True
        if self.ended_at is None:
            self.ended_at = time.time()
        return False

    @property
    def returncode(self):
        return self.popen.poll()

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait_exit(self, timeout):
        """The exit status; raises WaitTimeout when still running."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise waiting.WaitTimeout("%s (pid %d) still running after %.1fs"
                                      % (self.name, self.pid, timeout))
        self.alive()
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the process and waits; SIGKILL (by PID) when it lingers.
        Returns the exit status."""
        if not self.alive():
            return self.returncode
        os.kill(self.pid, sig)
        try:
            return self.wait_exit(timeout)
        except waiting.WaitTimeout:
            os.kill(self.pid, signal.SIGKILL)
            return self.wait_exit(10)

    # -- output ------------------------------------------------------------
    def stderr_text(self, since=0):
        with open(self.err_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def stdout_text(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def mark(self):
        """An offset into stderr: what is logged after this call starts here."""
        return os.path.getsize(self.err_path)

    def lines(self, since=0):
        return self.stderr_text(since).splitlines()

    def find_line(self, pattern, since=0):
        """The first stderr line after since that matches the regex, or None."""
        rx = re.compile(pattern)
        for line in self.lines(since):
            if rx.search(line):
                return line
        return None

    def wait_line(self, pattern, since=0, timeout=5.0, what=None):
        """Polls stderr until a line matching the regex appears after since."""
        return waiting.wait_for(lambda: self.find_line(pattern, since), timeout,
                                what or "%s to log /%s/" % (self.name, pattern))

    def sanitizer_report(self):
        """The sanitizer's report in stderr, or None when there is none."""
        text = self.stderr_text()
        for marker in SANITIZER_MARKERS:
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return None

    def tail(self, max_lines=80, since=0):
        lines = self.lines(since)
        cut = lines[-max_lines:]
        head = "" if len(cut) == len(lines) else "[... %d lines before]\n" % (len(lines) - len(cut))
        return head + "\n".join(cut)

    def __repr__(self):
        return "<Proc %s pid=%d>" % (self.name, self.pid)


def active_between(start, end):
    """Processes that were running at some point between start and end."""
    out = []
    for p in registry:
        p.alive()
        if p.started_at <= end and (p.ended_at is None or p.ended_at >= start):
            out.append(p)
    return out


def stop_all():
    """Stops every registered process that is still running (each by PID)."""
    for p in reversed(registry):
        try:
            if p.alive():
                p.stop(signal.SIGTERM, timeout=5)
        except (OSError, waiting.WaitTimeout):
            pass
