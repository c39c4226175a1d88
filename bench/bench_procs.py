"""bench_procs: the processes of a benchmark run and what /proc says of them.

Every process the benchmark starts goes through Procs.start, which remembers
its PID; Procs.stop_all (called on exit and on SIGINT/SIGTERM) stops each one
by that PID, so nothing outlives the run. Servers are pinned with taskset,
which execs the server: the PID is the server's own.
"""
import os
import resource
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Procs:
    def __init__(self, logdir):
        self.logdir = logdir
        self.running = []  # (name, Popen)

    def start(self, name, argv, cpu=None, env=None):
        """Starts argv (pinned to cpu when given), output to LOGDIR/NAME.log."""
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + list(argv)
        log = open(os.path.join(self.logdir, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=env)
        log.close()
        self.running.append((name, p))
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.running = [(n, q) for n, q in self.running if q is not p]

    def stop_all(self):
        for _, p in list(self.running):
            self.stop(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, p, name, timeout=15.0):
    """Waits until something accepts on 127.0.0.1:port; fails if p exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("%s exited with status %s (see its log)" % (name, p.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s is not listening on port %d after %.0f s" % (name, port, timeout))


def cpu_ticks(pid):
    """utime + stime of every thread of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, field):
    """A VmRSS / VmHWM style field of /proc/PID/status, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def core_times(cpu):
    """(tasks, irq, steal, total) jiffies of one core from /proc/stat: time
    in processes (user, nice, system), in interrupts (irq, softirq: on
    loopback, the receive side of what this core sends), stolen by the
    hypervisor, and in all."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                v = [int(x) for x in line.split()[1:]] + [0] * 10
                return v[0] + v[1] + v[2], v[5] + v[6], v[7], sum(v[:8])
    return 0, 0, 0, 0


def core_busy(cpu):
    """(busy, total) jiffies of one core."""
    tasks, irq, steal, total = core_times(cpu)
    return tasks + irq + steal, total


def children_cpu_seconds():
    """CPU seconds of the children waited for so far (the load clients)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class CpuWindow:
    """CPU use over one measured interval: the server process, the load
    client (children that ended within the window) and the client's core."""

    def __init__(self, server_pid, server_cpu, client_cpu):
        self.pid = server_pid
        self.server_cpu = server_cpu
        self.client_cpu = client_cpu

    def __enter__(self):
        self.t0 = time.monotonic()
        self.srv0 = cpu_ticks(self.pid)
        self.cli0 = children_cpu_seconds()
        self.core0 = core_busy(self.client_cpu)
        self.score0 = core_times(self.server_cpu)
        return self

    def __exit__(self, *exc):
        wall = max(time.monotonic() - self.t0, 1e-6)
        self.server_pct = 100.0 * (cpu_ticks(self.pid) - self.srv0) / CLK_TCK / wall
        self.client_pct = 100.0 * (children_cpu_seconds() - self.cli0) / wall
        busy, total = core_busy(self.client_cpu)
        dt = max(total - self.core0[1], 1)
        self.client_core_pct = 100.0 * (busy - self.core0[0]) / dt
        # Whatever else ran on the server core (another process, or the
        # hypervisor's steal): a benchmark on a shared machine says so rather
        # than hiding it. Interrupt time is the server's traffic: apart.
        t = core_times(self.server_cpu)
        dt = max(t[3] - self.score0[3], 1)
        tasks_pct = 100.0 * (t[0] - self.score0[0]) / dt
        self.irq_pct = 100.0 * (t[1] - self.score0[1]) / dt
        self.other_pct = max(0.0, tasks_pct - self.server_pct) + 100.0 * (t[2] - self.score0[2]) / dt

