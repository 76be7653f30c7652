#!/usr/bin/python3
"""Renders the HTML alternative of a mail (an .eml file, read with Python's email package) to a
PNG with headless Chromium, with the network shut: every host name resolves to nothing, a dead
proxy takes anything else, and Chromium's net log is read back to check that the page asked for
no URL but its own file. Exit status 0: the PNG is written and no request went out; 1: a
request was made (printed); 2: Chromium is missing or failed.

usage: mail-screenshot.py MESSAGE.eml OUT.png
"""
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile

ALLOWED = ("file:", "data:", "about:", "chrome:", "chrome-extension:", "devtools:")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name, path="/usr/bin:/bin:/usr/local/bin")
        if path:
            return path
    return None


def requests(log):
    """(url, initiator) of every URL request in the net log. Chromium's own background requests
    (updates, accounts) carry the initiator "not an origin"; the page's carry its origin
    ("null" for a file)."""
    names = {v: k for k, v in log.get("constants", {}).get("logEventTypes", {}).items()}
    found = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) == "URL_REQUEST_START_JOB" and "url" in params:
            found.append((params["url"], params.get("initiator", "")))
    return found


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    browser = chromium()
    if browser is None:
        print("no chromium (apt-get install -y chromium)", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    body = msg.get_body(preferencelist=("html",))
    if body is None:
        print("the message has no text/html part", file=sys.stderr)
        return 2
    out = os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="expcards-shot.") as work:
        page = os.path.join(work, "report.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(body.get_content())
        netlog = os.path.join(work, "netlog.json")
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=" + os.path.join(work, "profile"), "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
            "--log-net-log=" + netlog, "--net-log-capture-mode=Default",
            "--window-size=1100,1600", "--screenshot=" + out, "file://" + page,
        ]
        try:
            run = subprocess.run(command, capture_output=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": work})
        except subprocess.TimeoutExpired:
            print("chromium did not finish in 120 s", file=sys.stderr)
            return 2
        if run.returncode != 0 or not os.path.exists(out):
            print("chromium failed (exit %d): %s" % (run.returncode, run.stderr.decode(errors="replace")[-2000:]), file=sys.stderr)
            return 2
        with open(netlog, encoding="utf-8", errors="replace") as f:
            text = f.read().rstrip().rstrip(",")
        try:
            log = json.loads(text)
        except json.JSONDecodeError:
            log = json.loads(text + "]}")  # a log cut at exit: close its event list
        found = requests(log)
        page_requests = sorted({u for u, initiator in found if initiator != "not an origin"})
        outside = [u for u in page_requests if not u.startswith(ALLOWED)]
        if outside:
            print("the page asked for:\n  " + "\n  ".join(outside), file=sys.stderr)
            return 1
        # Chromium's own requests are listed too: with every host name resolving to nothing and
        # a dead proxy, none of them reached the network either.
        browser_requests = sorted({u.split("?")[0] for u, initiator in found if initiator == "not an origin"})
        print(json.dumps({"png": out, "bytes": os.path.getsize(out), "pageRequests": page_requests,
                          "browserRequestsBlocked": browser_requests}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
