#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 (Debian's python3-aiosmtpd) that keeps what it is given:
each message's envelope and bytes as seen on the wire (DATA), in DIR/N.eml and DIR/N.json.
Prints the port it listens on, then serves until its stdin closes or after 120 s.

usage: smtp_sink.py DIR
"""
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        return "250 OK kept"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    controller = Controller(Keep(sys.argv[1]), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(120)
    controller.stop()


if __name__ == "__main__":
    main()
