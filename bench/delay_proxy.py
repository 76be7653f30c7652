#!/usr/bin/python3
"""Loopback TCP proxy that delays every byte by DELAY ms in each direction (a round trip of
2 x DELAY), to stand in for the real link to the platform. Debian's python3, stdlib only.

  delay_proxy.py --target-port P [--delay-ms 10] [--port-file FILE] [--lifetime 900]

Listens on 127.0.0.1 (an ephemeral port unless --listen-port), forwards to 127.0.0.1:P only.
Bandwidth is not limited; data is forwarded as it came, each chunk released DELAY after it
was read, in order. Bounded: it exits after --lifetime seconds, when its parent process goes
away, or on SIGTERM/SIGINT. The port it listens on is written to --port-file (and stdout).
"""
import argparse
import asyncio
import collections
import os
import signal
import sys

CHUNK = 256 * 1024
MAX_QUEUED = 32 * 1024 * 1024  # bytes held per direction before reading pauses


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = collections.deque()
    queued = 0
    more = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def read_side():
        nonlocal queued
        try:
            while True:
                data = await reader.read(CHUNK)
                queue.append((loop.time() + delay, data))
                more.set()
                if not data:
                    return
                queued += len(data)
                if queued > MAX_QUEUED:
                    room.clear()
                    await room.wait()
        except (ConnectionError, OSError):
            queue.append((loop.time(), b""))
            more.set()

    async def write_side():
        nonlocal queued
        try:
            while True:
                while not queue:
                    more.clear()
                    await more.wait()
                when, data = queue[0]
                wait = when - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Everything that is due goes out in one write.
                out = []
                now = loop.time()
                eof = False
                while queue and queue[0][0] <= now:
                    _, d = queue.popleft()
                    if not d:
                        eof = True
                        break
                    out.append(d)
                if out:
                    n = sum(len(d) for d in out)
                    writer.write(b"".join(out))
                    await writer.drain()
                    queued -= n
                    if queued <= MAX_QUEUED:
                        room.set()
                if eof:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--listen-port", type=int, default=0)
    p.add_argument("--delay-ms", type=float, default=10.0)
    p.add_argument("--port-file")
    p.add_argument("--lifetime", type=float, default=900.0)
    a = p.parse_args()
    delay = a.delay_ms / 1000.0
    parent = os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", a.target_port)
        except OSError:
            client_writer.close()
            return
        for w in (client_writer, server_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                import socket
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay))
        finally:
            for w in (client_writer, server_writer):
                try:
                    w.close()
                except Exception:
                    pass

    server = await asyncio.start_server(handle, "127.0.0.1", a.listen_port)
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)

    async def watchdog():
        deadline = loop.time() + a.lifetime
        while loop.time() < deadline:
            if os.getppid() != parent:
                break
            await asyncio.sleep(0.5)
        stop.set()

    asyncio.create_task(watchdog())
    await stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
