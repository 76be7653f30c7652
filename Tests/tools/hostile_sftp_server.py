#!/usr/bin/python3
"""An SFTP server whose answers the tests control (Debian's python3-paramiko, /usr/bin/python3).

OpenSSH will not serve file names with '/' or control characters, nor lie about a file's size:
this one does, so the tests can show that expcards refuses them and writes nothing outside its
archive. Loopback only.

    /usr/bin/python3 hostile_sftp_server.py SCENARIO --user NAME --authorized-key KEY.pub
        [--password PW] [--host-key FILE] [--lifetime SECONDS]

Prints, flushed, `HOSTKEY <algorithm> <base64>` then `PORT <n>` once it listens on 127.0.0.1.
Exits after --lifetime seconds (default 60) or on SIGTERM/SIGINT, whatever is still connected.

Scenarios (the company directory is /ROOT/expired; `.` lists nothing, so no shop is discovered;
every file that is opened, whatever its name, is served, so a name that is not refused would
show up as a written file):
  names       /ROOT/expired lists `../202611.EXP_CARDS.ESC.P.csv`, `a/b.csv`,
              `202611.EXP_CARDS.A\\nB.P.csv`, `/etc/passwd`, `.hidden.csv`, a few more escapes,
              and one valid file, VALID_NAME.
  symlink     a symbolic link named like an EXP_CARDS file pointing at /etc/passwd, a FIFO named
              like one, and VALID_NAME.
  growing     GROWING_NAME: listed and fstat'ed as N bytes, but reading returns 2N (it grew);
              and VALID_NAME.
  huge        /ROOT/expired holds HUGE_COUNT entries, sent 16 per SSH_FXP_NAME reply (as OpenSSH
              and paramiko do).
  huge-batch  the same entries, all in ONE SSH_FXP_NAME reply of about 1.5 MB.
"""


import argparse
import os
import signal
import socket
import stat
import sys
import threading
import time

import paramiko

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lifetime import bound_lifetime  # noqa: E402  (shared with the other test helper)

VALID_NAME = "202611.EXP_CARDS.OK.P.csv"
GROWING_NAME = "202611.EXP_CARDS.GROW.P.csv"
LINK_NAME = "202611.EXP_CARDS.LINK.P.csv"
FIFO_NAME = "202611.EXP_CARDS.FIFO.P.csv"
HUGE_COUNT = 10000
MTIME = 1795000000  # 2026-11-17, fixed: a file must not look changed between runs

HOSTILE_NAMES = [
    "../202611.EXP_CARDS.ESC.P.csv",
    "../../202611.EXP_CARDS.ESC2.P.csv",
    "a/b.csv",
    "a/202611.EXP_CARDS.SUB.P.csv",
    "202611.EXP_CARDS.A\nB.P.csv",
    "202611.EXP_CARDS.A\x1b[31mB.P.csv",
    "/etc/passwd",
    "/tmp/202611.EXP_CARDS.ABS.P.csv",
    ".hidden.csv",
    ".202611.EXP_CARDS.HID.P.csv",
    "..\\202611.EXP_CARDS.BSL.P.csv",
]


def company(month, aliases):
    lines = ["00;EXP_CARDS;P;%s01;040000" % month]
    for alias in aliases:
        lines.append("02;%s;Zoé Martin;zoe@example.fr;20261231;1" % alias)
    lines.append("01;%d;%s01;040500" % (len(aliases), month))
    return ("\n".join(lines) + "\n").encode("utf-8")


VALID_CONTENT = company("202611", ["alias-ok"])
GROWN_CONTENT = company("202611", ["alias-grow-%d" % i for i in range(50)])
# What any other opened path is served: a marker a test can look for in a file written by mistake.
INTRUDER_CONTENT = company("202611", ["INTRUDER"])


def attributes(name, size, mode):
    a = paramiko.SFTPAttributes()
    a.filename = name
    a.st_size = size
    a.st_mode = mode
    a.st_uid = 1000
    a.st_gid = 1000
    a.st_atime = MTIME
    a.st_mtime = MTIME
    return a


def regular(name, size):
    return attributes(name, size, stat.S_IFREG | 0o644)


def directory(name):
    return attributes(name, 0, stat.S_IFDIR | 0o755)


class Tree:
    """What the scenario shows: directory listings, and what opening a path returns."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.listings = {"/": [directory("ROOT")], "/ROOT": [directory("expired")]}
        entries = []
        if scenario == "names":
            entries = [regular(n, len(INTRUDER_CONTENT)) for n in HOSTILE_NAMES]
            entries.append(regular(VALID_NAME, len(VALID_CONTENT)))
        elif scenario == "symlink":
            entries = [
                attributes(LINK_NAME, 11, stat.S_IFLNK | 0o777),
                attributes(FIFO_NAME, 0, stat.S_IFIFO | 0o644),
                regular(VALID_NAME, len(VALID_CONTENT)),
            ]
        elif scenario == "growing":
            half = len(GROWN_CONTENT) // 2
            entries = [regular(GROWING_NAME, half), regular(VALID_NAME, len(VALID_CONTENT))]
        elif scenario in ("huge", "huge-batch"):
            entries = [regular("202612.EXP_CARDS.C%05d.P.csv" % i, 100) for i in range(HUGE_COUNT)]
        else:
            raise SystemExit("unknown scenario %r" % scenario)
        self.listings["/ROOT/expired"] = entries

    @staticmethod
    def normalise(path):
        if path in ("", "."):
            return "/"
        if not path.startswith("/"):
            path = "/" + path
        return path

    def list(self, path):
        path = self.normalise(path)
        if path == "/":
            # Shop auto-discovery lists `.`: nothing 8-digit here.
            return []
        return self.listings.get(path)

    def lookup(self, path, follow):
        path = self.normalise(path)
        if path in self.listings:
            return directory(os.path.basename(path) or "/")
        parent, base = path.rsplit("/", 1)
        for e in self.listings.get(parent or "/", []):
            if e.filename == base:
                if follow and stat.S_ISLNK(e.st_mode):
                    return regular(base, 2000)
                return e
        return None

    def content(self, path):
        path = self.normalise(path)
        base = path.rsplit("/", 1)[-1]
        if path == "/ROOT/expired/" + VALID_NAME:
            return VALID_CONTENT, len(VALID_CONTENT)
        if self.scenario == "growing" and path == "/ROOT/expired/" + GROWING_NAME:
            # fstat says N (what the listing said); the reads go on to 2N.
            return GROWN_CONTENT, len(GROWN_CONTENT) // 2
        if self.scenario == "symlink" and base == LINK_NAME:
            data = b"root:x:0:0:root:/root:/bin/bash\n" * 60
            return data, len(data)
        return INTRUDER_CONTENT, len(INTRUDER_CONTENT)


class Log:
    lock = threading.Lock()

    @classmethod
    def say(cls, text):
        with cls.lock:
            sys.stderr.write("hostile_sftp_server: %s\n" % text)
            sys.stderr.flush()


def make_sftp_interface(tree):
    class FileHandle(paramiko.SFTPHandle):
        def __init__(self, data, size):
            super().__init__(0)
            self.data = data
            self.size = size

        def read(self, offset, length):
            return self.data[offset:offset + length]

        def write(self, offset, data):
            return paramiko.SFTP_PERMISSION_DENIED

        def stat(self):
            return regular("", self.size)

        def close(self):
            pass

    class Interface(paramiko.SFTPServerInterface):
        def canonicalize(self, path):
            return Tree.normalise(path)

        def list_folder(self, path):
            Log.say("opendir %r" % path)
            entries = tree.list(path)
            if entries is None:
                return paramiko.SFTP_NO_SUCH_FILE
            return list(entries)

        def stat(self, path):
            Log.say("stat %r" % path)
            a = tree.lookup(path, follow=True)
            return a if a is not None else paramiko.SFTP_NO_SUCH_FILE

        def lstat(self, path):
            Log.say("lstat %r" % path)
            a = tree.lookup(path, follow=False)
            return a if a is not None else paramiko.SFTP_NO_SUCH_FILE

        def open(self, path, flags, attr):
            Log.say("open %r" % path)
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
                return paramiko.SFTP_PERMISSION_DENIED
            data, size = tree.content(path)
            return FileHandle(data, size)

        def remove(self, path):
            return paramiko.SFTP_PERMISSION_DENIED

        def rename(self, oldpath, newpath):
            return paramiko.SFTP_PERMISSION_DENIED

        def mkdir(self, path, attr):
            return paramiko.SFTP_PERMISSION_DENIED

        def rmdir(self, path):
            return paramiko.SFTP_PERMISSION_DENIED

        def chattr(self, path, attr):
            return paramiko.SFTP_PERMISSION_DENIED

        def symlink(self, target_path, path):
            return paramiko.SFTP_PERMISSION_DENIED

        def readlink(self, path):
            return "/etc/passwd"

    return Interface


class Server(paramiko.ServerInterface):
    def __init__(self, user, authorized, password):
        self.user = user
        self.authorized = authorized  # (algorithm, base64) or None
        self.password = password

    def get_allowed_auths(self, username):
        methods = []
        if self.authorized:
            methods.append("publickey")
        if self.password is not None:
            methods.append("password")
        return ",".join(methods)

    def check_auth_publickey(self, username, key):
        if self.authorized and username == self.user and key.get_base64() == self.authorized[1]:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        if self.password is not None and username == self.user and password == self.password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def load_host_key(path):
    if not path:
        return paramiko.ECDSAKey.generate(bits=256)
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception:
            continue
    raise SystemExit("cannot read host key %s" % path)


def serve(conn, host_key, args, tree):
    transport = None
    try:
        conn.settimeout(None)
        transport = paramiko.Transport(conn)
        transport.add_server_key(host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, make_sftp_interface(tree))
        authorized = None
        if args.authorized_key:
            with open(args.authorized_key) as f:
                parts = f.read().split()
            authorized = (parts[0], parts[1])
        transport.start_server(server=Server(args.user, authorized, args.password))
        while transport.is_active():
            time.sleep(0.1)
    except Exception as e:  # a client that hangs up is fine
        Log.say("connection ended: %r" % (e,))
    finally:
        if transport is not None:
            transport.close()
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("scenario", choices=["names", "symlink", "growing", "huge", "huge-batch"])
    p.add_argument("--user", default="lyra")
    p.add_argument("--authorized-key", help="public key file (OpenSSH one-line format) accepted for --user")
    p.add_argument("--password")
    p.add_argument("--host-key", help="private key file; default: a fresh ECDSA P-256 key")
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()

    bound_lifetime(args.lifetime)

    if args.scenario == "huge-batch":
        # One SSH_FXP_NAME reply with every entry, instead of paramiko's 16 per reply.
        def all_at_once(self):
            files = self._SFTPHandle__files
            self._SFTPHandle__files = []
            return files

        paramiko.SFTPHandle._get_next_files = all_at_once

    tree = Tree(args.scenario)
    host_key = load_host_key(args.host_key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    sys.stdout.write("HOSTKEY %s %s\n" % (host_key.get_name(), host_key.get_base64()))
    sys.stdout.write("PORT %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    # Wake up twice a second: a signal delivered to another thread is handled by this one.
    listener.settimeout(0.5)
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, host_key, args, tree), daemon=True).start()


if __name__ == "__main__":
    main()
