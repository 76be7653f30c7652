#!/bin/bash
# `make demo`: the monthly job end to end, with no credentials and no internet.
#
# Generates a sample data set (scripts/demo-data.py: a company and three shops, test and
# production files of the last three months, one damaged on purpose), serves it from a
# throwaway OpenSSH server on 127.0.0.1 (scripts/sshd-sandbox.sh: fresh keys, its host key in a
# demo known_hosts, so strict host key checking stays on), runs `expcards run` against it,
# prints the report, shows `expcards list`, writes the report as a mail (`--format mail`) and,
# where Chromium is installed, a screenshot of its HTML, into DEMO_OUT and prints both paths,
# then stops the server and removes everything else it made (a temporary directory; nothing is
# left running).
#
# The report goes to stdout, the progress lines to stderr. Exit status: 0 when expcards exits 0
# or 65 (65 means "a file has problems": the demo damages one file on purpose, so 65 is the
# expected outcome and the last line on stderr says so); any other status of expcards is
# passed on (e.g. 69 server unreachable, 76 host key, 77 authentication).
#
# Environment: EXPCARDS_BIN (default .build/debug/expcards), TMPDIR, DEMO_SEED, DEMO_TODAY
# (YYYY-MM-DD, default today in UTC), DEMO_OUT (where the mail and its screenshot are kept,
# default .build/demo).
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/.." && pwd -P)
bin=${EXPCARDS_BIN:-$top/.build/debug/expcards}
python=/usr/bin/python3
out=${DEMO_OUT:-$top/.build/demo}

say() { echo "demo: $*" >&2; }

[ -x "$bin" ] || { say "$bin is missing: run 'make demo' (or 'swift build') first"; exit 1; }
[ -x "$python" ] || { say "$python is missing: apt-get install -y python3"; exit 1; }
[ -x /usr/sbin/sshd ] || { say "/usr/sbin/sshd is missing: apt-get install -y openssh-server"; exit 1; }

work=""
sandbox=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$sandbox" ] && [ -e "$sandbox" ]; then
        "$here/sshd-sandbox.sh" stop "$sandbox" || status=1
    fi
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work=$(mktemp -d "${TMPDIR:-/tmp}/expcards-demo.XXXXXX")
sandbox=$work/sandbox

say "starting a throwaway OpenSSH server (fresh host and user keys) in $work"
"$here/sshd-sandbox.sh" start "$sandbox" >/dev/null
# shellcheck disable=SC1091
. "$sandbox/sandbox.env"

generator_args=("$TREE" --seed "${DEMO_SEED:-20181022}")
[ -n "${DEMO_TODAY:-}" ] && generator_args+=(--today "$DEMO_TODAY")
"$python" "$here/demo-data.py" "${generator_args[@]}" >"$work/generated.txt"
damaged=$(sed -n 's/^damaged: //p' "$work/generated.txt")
files=$(grep -vc '^damaged: ' "$work/generated.txt")
say "serving $files sample files on sftp://$SSH_USER@127.0.0.1:$PORT (damaged on purpose: $(basename -- "$damaged"))"
say "configuration: $CONFIG"
say "running: expcards run --config $CONFIG"
echo >&2

# The report is buffered so that expcards' stderr can be shown first, shortened: by the calendar
# the sample files of past months (and this month's after the 22nd) are past the platform's
# 21-day purge, so each gets a "deletes it in 0 days" warning that says nothing about the demo.
color=never
[ -t 1 ] && color=always
set +e
"$bin" run --config "$CONFIG" --color "$color" >"$work/report.txt" 2>"$work/run.err"
status=$?
set -e
purge=$(grep -c 'is not archived yet and the platform deletes it in' "$work/run.err" || true)
grep -v 'is not archived yet and the platform deletes it in' "$work/run.err" >&2 || true
if [ "$purge" -gt 0 ]; then
    say "($purge warnings 'not archived yet and the platform deletes it in N days' left out: by the calendar,"
    say " the sample files are past or near the platform's 21-day purge; a real server keeps only the newest)"
fi
echo >&2
cat "$work/report.txt"

if [ "$status" -eq 0 ] || [ "$status" -eq 65 ]; then
    echo
    echo "── expcards list (the server's files against the archive) ──"
    "$bin" list --config "$CONFIG" || say "expcards list exited $?"
fi
echo >&2

# The network's notifications (ITN): `itn serve` on a free loopback port, four notifications
# posted with curl (a renewal, a suspension, a cancelled alias with subscriptions, and a closed
# account not in the month's files), then the report's network section.
if { [ "$status" -eq 0 ] || [ "$status" -eq 65 ]; } && command -v curl >/dev/null 2>&1; then
    "$bin" itn serve --config "$CONFIG" --listen 127.0.0.1:0 2>"$work/itn.err" &
    itn_pid=$!
    itn_port=""
    for _ in $(seq 1 100); do
        itn_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/itn.err")
        [ -n "$itn_port" ] && break
        sleep 0.1
    done
    if [ -n "$itn_port" ]; then
        say "expcards itn serve listens on 127.0.0.1:$itn_port; posting four notifications with curl"
        # Aliases of the report: the first two expiring ones and the first one with subscriptions.
        "$bin" report --config "$CONFIG" --no-itn --format json 2>/dev/null >"$work/plain.json" || true
        "$python" - "$work/plain.json" "$work/itn" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
aliases = [a for a in report["aliases"] if a["status"] in ("expired", "expiring")]
with_subs = [a for a in aliases if a["subscriptions"] > 0]
picks = {"renewed": aliases[0], "suspended": aliases[1], "cancelled": with_subs[-1]}
def notification(alias, token="ACTIVE", status="ACTIVE", year="2030", **extra):
    n = {"merchantLegalId": "45251785700028", "paymentMethodToken": alias, "mode": "PRODUCTION",
         "paymentMethodTokenStatus": status, "meansOfPayment": {"status": token, "method": "VISA"},
         "card": {"lastFour": "0114", "expiryMonth": "09", "expiryYear": year}, "source": "ISSUER"}
    n.update(extra)
    return n
bodies = [notification(picks["renewed"]["alias"]),
          notification(picks["suspended"]["alias"], token="SUSPENDED", year="2026"),
          notification(picks["cancelled"]["alias"], status="CANCELLED", cancellationDate="2026-11-20T10:00:00+01:00"),
          notification("demo0closed0account0alias00001", token="DELETED", year="2027")]
for i, body in enumerate(bodies):
    open("%s-%d.json" % (sys.argv[2], i), "w").write(json.dumps(body))
PY
        for f in "$work"/itn-*.json; do
            curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "@$f" \
                "http://127.0.0.1:$itn_port/itn" >/dev/null || say "curl failed for $f"
        done
    else
        say "expcards itn serve did not start:"; sed 's/^/  /' "$work/itn.err" >&2
    fi
    kill -TERM "$itn_pid" 2>/dev/null || true
    wait "$itn_pid" 2>/dev/null || true
    echo
    echo "── expcards report, with the network's notifications (verdict, summary, network section) ──"
    "$bin" report --config "$CONFIG" --color never 2>/dev/null | sed -n '1,/^EXPIRED/p' | sed '$d' || true
    echo "── expcards report --format csv: the first rows (closed, suspended, absent first; renewed last) ──"
    "$bin" report --config "$CONFIG" --format csv 2>/dev/null | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
pick = rows[:6] + [r for r in rows if r["action"] == "renewed"][:2]
for r in pick:
    print("  %-9s %-34s %-8s %-10s %s" % (r["status"] or "-", r["alias"], r["action"], r["networkTokenStatus"] or "-", r["networkCardExpiry"] or ""))
' || true
fi

# The same report as the mail `run --format mail | sendmail -t` would send, and its HTML as a
# browser draws it, kept (outside the temporary directory) for a person to look at.
if [ "$status" -eq 0 ] || [ "$status" -eq 65 ]; then
    # Cardholder data (made up here, but the habit matters): readable by its owner only.
    (umask 077 && mkdir -p -- "$out")
    chmod 700 "$out"
    rm -f -- "$out/expiring-cards.eml" "$out/expiring-cards.png"
    umask 077
    set +e
    "$bin" report --config "$CONFIG" --format mail --mail-to ops@example.com >"$out/expiring-cards.eml" 2>/dev/null
    mail_status=$?
    set -e
    if [ "$mail_status" -eq 0 ] || [ "$mail_status" -eq 65 ]; then
        say "the report as a mail (expcards report --format mail): $out/expiring-cards.eml"
        if command -v chromium >/dev/null 2>&1; then
            if "$python" "$here/mail-screenshot.py" "$out/expiring-cards.eml" "$out/expiring-cards.png" >/dev/null; then
                say "its HTML drawn by headless Chromium, no request gone out: $out/expiring-cards.png"
            else
                say "the screenshot failed (see above)"
            fi
        else
            say "no chromium here (apt-get install -y chromium): no screenshot"
        fi
    else
        say "expcards report --format mail exited $mail_status"
    fi
fi

case "$status" in
    0) say "expcards exited 0: every file read cleanly (the damaged file should have made it 65)"; exit 0 ;;
    65) say "expcards exited 65 (a file has problems): expected, the demo damages $(basename -- "$damaged") on purpose; the demo exits 0"; exit 0 ;;
    *) say "expcards exited $status: the demo failed; the end of the server's log:"
       [ -f "$LOG" ] && sed 's/^/  sshd: /' "$LOG" | tail -n 20 >&2
       exit "$status" ;;
esac
