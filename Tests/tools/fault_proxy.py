#!/usr/bin/python3
"""A loopback TCP proxy that misbehaves on purpose, for fault tests (standard library only).

    /usr/bin/python3 fault_proxy.py --target-port N MODE [ARG] [--cut-connections K] [--lifetime S]

Listens on 127.0.0.1 on a port it picks, prints `PORT <n>` (flushed), and forwards each
connection to 127.0.0.1:N, except that:
  cut-after BYTES     after BYTES from the server (exactly), closes both sides.
  stall-after BYTES   after BYTES from the server, forwards nothing more either way, sockets open.
  throttle BYTES_PER_S  forwards the server's bytes at that rate (the client's unthrottled).
  refuse              accepts and closes every connection at once, forwarding nothing.
  pass                forwards faithfully.
--cut-connections K applies cut-after / stall-after to the first K connections only (0: all,
the default); later connections are forwarded faithfully, so a client that reconnects can finish.
Each connection's fate is logged on stderr. Exits after --lifetime seconds (default 60) or on
SIGTERM/SIGINT.
"""


import argparse
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lifetime import bound_lifetime  # noqa: E402  (shared with the other test helper)

CHUNK = 16384


def log(text):
    sys.stderr.write("fault_proxy: %s\n" % text)
    sys.stderr.flush()


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


class Connection:
    def __init__(self, number, client, args, faulty):
        self.number = number
        self.client = client
        self.args = args
        self.faulty = faulty
        self.stalled = threading.Event()
        self.closed = threading.Event()
        self.from_server = 0

    def start(self):
        try:
            self.server = socket.create_connection(("127.0.0.1", self.args.target_port), timeout=10)
            self.server.settimeout(None)
        except OSError as e:
            log("connection %d: target unreachable: %s" % (self.number, e))
            self.client.close()
            return
        for s in (self.client, self.server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self.pump_up, daemon=True).start()
        threading.Thread(target=self.pump_down, daemon=True).start()

    def hold(self):
        """Stalled: keep both sockets open, forward nothing, until the proxy exits."""
        while not self.closed.is_set():
            time.sleep(0.5)

    def pump_up(self):
        """Client to server, untouched unless stalled."""
        try:
            while True:
                data = self.client.recv(CHUNK)
                if self.stalled.is_set():
                    self.hold()
                    return
                if not data:
                    break
                self.server.sendall(data)
        except OSError:
            pass
        self.finish()

    def pump_down(self):
        """Server to client: where the faults are."""
        mode = self.args.mode if self.faulty else "pass"
        limit = self.args.value if mode in ("cut-after", "stall-after") else None
        rate = self.args.value if mode == "throttle" else None
        started = time.monotonic()
        try:
            while True:
                want = CHUNK
                if limit is not None:
                    want = min(CHUNK, limit - self.from_server)
                if rate is not None:
                    want = min(want, max(1, rate // 20))
                if want <= 0:
                    if mode == "cut-after":
                        log("connection %d: cut after %d bytes from the server" % (self.number, self.from_server))
                        self.finish()
                        return
                    log("connection %d: stalled after %d bytes from the server" % (self.number, self.from_server))
                    self.stalled.set()
                    self.hold()
                    return
                data = self.server.recv(want)
                if not data:
                    break
                self.client.sendall(data)
                self.from_server += len(data)
                if rate is not None:
                    due = started + self.from_server / rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
        except OSError:
            pass
        self.finish()

    def finish(self):
        if not self.closed.is_set():
            self.closed.set()
            close_both(self.client, self.server)
            log("connection %d: closed (%d bytes from the server)" % (self.number, self.from_server))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--cut-connections", type=int, default=0)
    p.add_argument("--lifetime", type=float, default=60)
    p.add_argument("mode", choices=["cut-after", "stall-after", "throttle", "refuse", "pass"])
    p.add_argument("value", type=int, nargs="?")
    args = p.parse_args()
    if args.mode in ("cut-after", "stall-after", "throttle") and (args.value is None or args.value < 0):
        p.error("%s needs a byte count" % args.mode)
    if args.mode == "throttle" and args.value == 0:
        p.error("throttle needs a positive rate")

    bound_lifetime(args.lifetime)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    sys.stdout.write("PORT %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    number = 0
    # Wake up twice a second: a signal delivered to another thread is handled by this one.
    listener.settimeout(0.5)
    while True:
        try:
            client, _ = listener.accept()
        except socket.timeout:
            continue
        client.settimeout(None)
        number += 1
        if args.mode == "refuse":
            log("connection %d: refused" % number)
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()
            continue
        faulty = args.cut_connections == 0 or number <= args.cut_connections
        log("connection %d: %s" % (number, args.mode if faulty else "pass"))
        Connection(number, client, args, faulty).start()


if __name__ == "__main__":
    main()
