#!/usr/bin/python3
"""An SFTP server whose answers the tests control (Debian's python3-paramiko, /usr/bin/python3).

OpenSSH will not serve file names with '/' or control characters, nor lie about a file's size:
this one does, so the tests can show that expcards refuses them and writes nothing outside its
archive. Loopback only.

    /usr/bin/python3 hostile_sftp_server.py SCENARIO --user NAME --authorized-key KEY.pub
        [--password PW] [--host-key FILE] [--lifetime SECONDS]

Prints, flushed, `HOSTKEY <algorithm> <base64>` then `PORT <n>` once it listens on 127.0.0.1
(the quirks scenario first prints `FILE <path> <size> <sha256>` for each file it serves).
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
  quirks      a well-behaved platform tree (QUIRKS_FILES: a company file in /ROOT/expired, a
              file in each of the shops QUIRK_SHOPS) that the knobs below make quirky, as
              standards-following servers may legally be:
                --omit-permissions   no permissions attribute anywhere (SFTP v3 makes it optional)
                --long-name KIND     ls (an `ls -l` line), empty, or name (just the file name)
                --deny-dir SHOP:N    that shop's directory answers status N (3 denied, 4 failure)
                --deny-file NAME:N   opening that file answers status N
                --mtime-now          every listing and stat reports mtime = now
                --read-cap N         each READ reply carries at most N bytes
                --order KIND         name, reverse or shuffled listing order
                --banner TEXT        a login banner (SSH_MSG_USERAUTH_BANNER)
                --kbd-interactive    keyboard-interactive as the only method (answer: --password)
              Every request is logged on stderr (`open '/path'`, `opendir`, `stat`, `lstat`, `read`).
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


QUIRK_SHOPS = ["12345678", "23456789", "34567890"]


def shop_file(month, shop, aliases):
    q = lambda v: '"%s"' % v
    lines = [";".join(map(q, ["00", "EXP_CARDS", "P", shop, month + "01", "040000"]))]
    for alias in aliases:
        lines.append(";".join(map(q, [
            "02", alias, "Zoé Martin", "zoe@example.fr", "20261231", "REC_" + alias, "0/12",
            "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15", "20260101", "2000", "", "0"])))
    lines.append(";".join(map(q, ["01", str(len(aliases)), str(len(aliases)), month + "01", "040000"])))
    return ("\n".join(lines) + "\n").encode("utf-8")


# Path -> content. The company file is ~300 kB, so that capped reads need many replies.
QUIRKS_FILES = {"/ROOT/expired/202611.EXP_CARDS.QUIRK.P.csv": company("202611", ["alias-%05d" % i for i in range(6000)])}
for _shop in QUIRK_SHOPS:
    QUIRKS_FILES["/%s/expired/202611.%s.EXP_CARDS.SHOP.P.csv" % (_shop, _shop)] = shop_file("202611", _shop, ["a%s-%d" % (_shop, i) for i in range(20)])


class Knobs:
    omit_permissions = False
    long_name = "ls"
    deny_dirs = {}
    deny_files = {}
    mtime_now = False
    read_cap = 0
    order = "name"


class QuirkyAttributes(paramiko.SFTPAttributes):
    """Attributes whose long name (sent in SSH_FXP_NAME) the knobs choose."""

    def asbytes(self):
        return self._as_text().encode("utf-8")

    def _as_text(self):
        if Knobs.long_name == "empty":
            return ""
        if Knobs.long_name == "name":
            return self.filename or ""
        mode = self.st_mode if self.st_mode is not None else self._real_mode
        kind = "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else "-"
        return "%s%s 1 lyra lyra %8d Nov 17 04:00 %s" % (kind, "rw-r--r--", self.st_size or 0, self.filename)


def quirky(a):
    q = QuirkyAttributes()
    q.__dict__.update(a.__dict__)
    q._real_mode = a.st_mode
    if Knobs.omit_permissions:
        q.st_mode = None
    if Knobs.mtime_now:
        q.st_mtime = int(time.time())
        q.st_atime = q.st_mtime
    return q


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
        elif scenario == "quirks":
            for path, data in QUIRKS_FILES.items():
                parent, base = path.rsplit("/", 1)
                self.listings.setdefault(parent, []).append(regular(base, len(data)))
            self.listings["/"] = [directory("ROOT")] + [directory(shop) for shop in QUIRK_SHOPS]
            for shop in QUIRK_SHOPS:
                self.listings["/" + shop] = [directory("expired")]
            entries = self.listings["/ROOT/expired"]
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
        if self.scenario != "quirks":
            if path == "/":
                # Shop auto-discovery lists `.`: nothing 8-digit here.
                return []
            return self.listings.get(path)
        entries = self.listings.get(path)
        if entries is None:
            return None
        entries = [quirky(e) for e in entries]
        if Knobs.order == "reverse":
            entries.reverse()
        elif Knobs.order == "shuffled":
            import random
            random.shuffle(entries)
        return entries

    def lookup(self, path, follow):
        a = self._lookup(path, follow)
        return quirky(a) if a is not None and self.scenario == "quirks" else a

    def _lookup(self, path, follow):
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
        if self.scenario == "quirks":
            data = QUIRKS_FILES.get(path, INTRUDER_CONTENT)
            return data, len(data)
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
            if Knobs.read_cap:
                length = min(length, Knobs.read_cap)
            return self.data[offset:offset + length]

        def write(self, offset, data):
            return paramiko.SFTP_PERMISSION_DENIED

        def stat(self):
            a = regular("", self.size)
            return quirky(a) if tree.scenario == "quirks" else a

        def close(self):
            pass

    class Interface(paramiko.SFTPServerInterface):
        def canonicalize(self, path):
            return Tree.normalise(path)

        def list_folder(self, path):
            Log.say("opendir %r" % path)
            for shop, status in Knobs.deny_dirs.items():
                if Tree.normalise(path) == "/%s/expired" % shop:
                    return status
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
            status = Knobs.deny_files.get(Tree.normalise(path).rsplit("/", 1)[-1])
            if status is not None:
                return status
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
    def __init__(self, user, authorized, password, banner=None, kbd_interactive=False):
        self.user = user
        self.authorized = authorized  # (algorithm, base64) or None
        self.password = password
        self.banner = banner
        self.kbd_interactive = kbd_interactive

    def get_banner(self):
        return (self.banner + "\r\n", "en-US") if self.banner else (None, None)

    def check_auth_interactive(self, username, submethods):
        if not self.kbd_interactive:
            return paramiko.AUTH_FAILED
        self.kbd_user = username
        return paramiko.InteractiveQuery("", "", ("Password: ", False))

    def check_auth_interactive_response(self, responses):
        if self.kbd_user == self.user and len(responses) == 1 and responses[0] == self.password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        if self.kbd_interactive:
            return "keyboard-interactive"
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
        transport.start_server(server=Server(args.user, authorized, args.password, args.banner, args.kbd_interactive))
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
    p.add_argument("scenario", choices=["names", "symlink", "growing", "huge", "huge-batch", "quirks"])
    p.add_argument("--omit-permissions", action="store_true")
    p.add_argument("--long-name", choices=["ls", "empty", "name"], default="ls")
    p.add_argument("--deny-dir", action="append", default=[], metavar="SHOP:STATUS")
    p.add_argument("--deny-file", action="append", default=[], metavar="NAME:STATUS")
    p.add_argument("--mtime-now", action="store_true")
    p.add_argument("--read-cap", type=int, default=0)
    p.add_argument("--order", choices=["name", "reverse", "shuffled"], default="name")
    p.add_argument("--banner")
    p.add_argument("--kbd-interactive", action="store_true")
    p.add_argument("--user", default="lyra")
    p.add_argument("--authorized-key", help="public key file (OpenSSH one-line format) accepted for --user")
    p.add_argument("--password")
    p.add_argument("--host-key", help="private key file; default: a fresh ECDSA P-256 key")
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()

    bound_lifetime(args.lifetime)
    Knobs.omit_permissions = args.omit_permissions
    Knobs.long_name = args.long_name
    Knobs.deny_dirs = {k: int(v) for k, v in (d.split(":") for d in args.deny_dir)}
    Knobs.deny_files = {k: int(v) for k, v in (d.split(":") for d in args.deny_file)}
    Knobs.mtime_now = args.mtime_now
    Knobs.read_cap = args.read_cap
    Knobs.order = args.order

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
    if args.scenario == "quirks":
        import hashlib
        for path, data in sorted(QUIRKS_FILES.items()):
            sys.stdout.write("FILE %s %d %s\n" % (path, len(data), hashlib.sha256(data).hexdigest()))
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
