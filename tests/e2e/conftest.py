"""Fixtures shared by the end-to-end tests: the binary under test, one fresh
PKI per session, origin apps and guards per module or per test, and the
stderr of every process that ran during a failing test in its report."""
import os
import shutil
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from lib import procs  # noqa: E402
from lib.app import OriginApp  # noqa: E402
from lib.guard import GuardFactory  # noqa: E402
from lib.pki import Pki, SessionPki  # noqa: E402
# The edge tests' fixtures: edge_pki, module_edges, edges.
from lib.edge import edge_pki, edges, module_edges  # noqa: E402,F401


def _binary():
    path = os.environ.get("PULLGATE_BIN") or os.path.join(ROOT, "build", "san", "pullgate")
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def pullgate_bin(tmp_path_factory):
    """The binary under test, copied once for the session so that a rebuild
    during the run cannot swap or remove it under running tests."""
    path = _binary()
    if not os.access(path, os.X_OK):
        pytest.fail("pullgate binary not found at %s: set PULLGATE_BIN or run "
                    "`make build/san/pullgate`" % path, pytrace=False)
    copy = os.path.join(str(tmp_path_factory.mktemp("bin")), "pullgate")
    shutil.copy2(path, copy)
    return copy


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("pullgate-e2e"))


@pytest.fixture(scope="session")
def log_dir(session_dir):
    d = os.path.join(session_dir, "logs")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def pki(pullgate_bin, session_dir):
    """The session's certificates (see lib.pki.SessionPki), made with
    `pullgate pki` into a fresh directory."""
    return SessionPki(pullgate_bin, os.path.join(session_dir, "pki"))


@pytest.fixture
def pki_tool(pullgate_bin, tmp_path):
    """`pullgate pki` with an empty directory of this test's own."""
    return Pki(pullgate_bin, str(tmp_path / "pki"))


@pytest.fixture(scope="module")
def origin(log_dir):
    """An origin app on 127.0.0.1, one per test module."""
    app = OriginApp(log_dir)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def module_guards(pullgate_bin, pki, session_dir, log_dir, request):
    """Starts guards that live for the whole test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    f = GuardFactory(pullgate_bin, pki, os.path.join(session_dir, name), log_dir)
    yield f
    f.close()


@pytest.fixture
def guards(pullgate_bin, pki, tmp_path, log_dir):
    """Starts guards that live for one test."""
    f = GuardFactory(pullgate_bin, pki, str(tmp_path / "guard"), log_dir)
    yield f
    f.close()


def pytest_sessionfinish(session, exitstatus):
    procs.stop_all()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._e2e_start = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    start = getattr(item, "_e2e_start", call.start)
    for p in procs.active_between(start, time.time()):
        try:
            text = p.tail(60)
        except OSError:
            continue
        state = "running" if p.alive() else "exited %s" % p.returncode
        report.sections.append(("stderr of %s (pid %d, %s)" % (p.name, p.pid, state),
                                text or "(empty)"))
