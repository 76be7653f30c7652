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
