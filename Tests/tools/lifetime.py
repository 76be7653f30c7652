"""Shared by the test helpers: end the process on SIGTERM/SIGINT and after a bounded lifetime."""

import os
import signal
import threading


def bound_lifetime(seconds):
    """Exit at once on SIGTERM or SIGINT, and by itself after `seconds`."""

    def stop(*_):
        os._exit(0)

    # A parent may spawn us with these blocked (the mask survives exec): unblock them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
