"""Free TCP ports and reachability checks on loopback.

Ports are picked below the kernel's ephemeral range: a port bind(0) returned
and we released could otherwise be taken, before the guard or the app binds
it, as the local port of some outgoing connection (the guard's own backend
connections, for one). A port is handed out at most once per session."""
import random
import socket

_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port(host="127.0.0.1"):
    """A port nothing on host is bound to right now, not handed out before."""
    low = _ephemeral_low()
    if low > 12000:
        rng = random.Random()
        for _ in range(500):
            port = rng.randrange(10000, low - 1)
            if port not in _given and _bindable(host, port):
                _given.add(port)
                return port
    for _ in range(100):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port
    raise AssertionError("no free port found on %s" % host)


def accepts_tcp(port, host="127.0.0.1", timeout=0.5):
    """True when a TCP connection to host:port is accepted right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def accepts_unix(path, timeout=0.5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()
