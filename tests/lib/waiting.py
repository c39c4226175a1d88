"""Waiting without guessing: every wait polls a condition until a deadline.

The short pause between two polls is the poll interval, never the wait
itself; a wait that runs out raises with what it was waiting for."""
import time


class WaitTimeout(AssertionError):
    pass


def wait_for(cond, timeout, what, interval=0.02):
    """Calls cond() until it returns something truthy and returns that value;
    raises WaitTimeout after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Deadline:
    """A point in time; remaining() never goes below a small positive value
    so it can be handed to socket timeouts."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.001, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end
