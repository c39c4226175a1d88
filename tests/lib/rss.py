"""Memory of a process from /proc/PID/status, sampled in the background."""
import threading


def status_kib(pid, field):
    """A "VmRSS"/"VmHWM"-style field of /proc/PID/status in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class RssSampler:
    """Samples VmRSS of pid every interval seconds until stopped; .peak_kib
    is the highest sample."""

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.peak_kib = status_kib(pid, "VmRSS")
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # Event.wait is the sampling period, not a wait for a condition.
        while not self._stop.wait(self.interval):
            try:
                v = status_kib(self.pid, "VmRSS")
            except (OSError, KeyError):
                return
            self.samples += 1
            self.peak_kib = max(self.peak_kib, v)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
