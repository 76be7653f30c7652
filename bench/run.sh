#!/bin/bash
# make bench: expcards side by side with the tools ops would use instead (issue 7).
#
#   bench/run.sh              (make bench builds the release binary first)
#
# Generates its data with bench/gen.py (seeded) into a temporary directory, runs every case
# REPEATS times in interleaved rounds (tool A, B, C, A, B, C, ...: a shared machine's noise hits
# every tool alike), keeps the median, and prints one table of figures and ratios. Only
# loopback traffic: a throwaway sshd on 127.0.0.1 (scripts/sshd-sandbox.sh) and, for the
# latency cases, bench/delay_proxy.py in front of it. Everything is removed at the end.
#
# Knobs (environment):
#   BENCH_REPEATS=3            runs per tool and case (median kept)
#   BENCH_LATENCY_REPEATS=     runs per tool for the slow latency cases (default: REPEATS)
#   BENCH_CASES="parse rules itn big many latency"   subset of the cases
#   BENCH_ITN_LINES=1000000    notifications in the itn import case
#   BENCH_RULE_LINES=20000     subscriptions in each file of the rules case
#   BENCH_SHOP_LINES=1000000 BENCH_COMPANY_LINES=2000000 BENCH_BIG_BYTES=268435456
#   BENCH_SHOPS=200 BENCH_SHOP_FILE_LINES=1000 BENCH_DELAY_MS=10
#   BENCH_BUDGET=840           seconds; a case that would start later is skipped (and said so)
#   BENCH_TABLE=FILE           also write the table (Markdown) there
#   BENCH_KEEP=1               keep the work directory (for profiling)
#   BENCH_BIN2=FILE            a second expcards binary (e.g. make release LIBSSH2=1.11's), run in
#                              the same rounds of the one-big-file cases, labelled with its libssh2
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(dirname "$HERE")
PY=/usr/bin/python3
REPEATS=${BENCH_REPEATS:-3}
LREPEATS=${BENCH_LATENCY_REPEATS:-$REPEATS}
CASES=${BENCH_CASES:-parse rules itn big many latency}
RULE_LINES=${BENCH_RULE_LINES:-20000}
SHOP_LINES=${BENCH_SHOP_LINES:-1000000}
COMPANY_LINES=${BENCH_COMPANY_LINES:-2000000}
BIG_BYTES=${BENCH_BIG_BYTES:-268435456}
SHOPS=${BENCH_SHOPS:-200}
SHOP_FILE_LINES=${BENCH_SHOP_FILE_LINES:-1000}
DELAY_MS=${BENCH_DELAY_MS:-10}
BUDGET=${BENCH_BUDGET:-840}
AS_OF=2025-11-15
MONTH=202511
CMD_TIMEOUT=${BENCH_CMD_TIMEOUT:-240}
# The report cases take about 2 s each on 2 cores; BENCH_REPORT_REPEATS=1 keeps a slow (or debug)
# binary within the budget.
REPORT_REPEATS=${BENCH_REPORT_REPEATS:-$REPEATS}
START=$(date +%s)

say() { printf '%s [%4ds] %s\n' "bench:" "$(( $(date +%s) - START ))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- tools -------------------------------------------------------------------------------
[ -x "$PY" ] || die "$PY missing: apt-get install -y python3"
need_pkg=()
[ -x /usr/bin/time ] || need_pkg+=(time)
command -v lftp >/dev/null || need_pkg+=(lftp)
command -v curl >/dev/null || need_pkg+=(curl)
command -v sftp >/dev/null || need_pkg+=(openssh-client)
if [ ${#need_pkg[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        say "installing ${need_pkg[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkg[@]}" >/dev/null \
            || say "apt-get install failed: the cases needing ${need_pkg[*]} are skipped"
    else
        say "missing tools; run as root: apt-get install -y ${need_pkg[*]} (cases using them are skipped)"
    fi
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is needed for peak RSS: apt-get install -y time"
HAVE_LFTP=1; command -v lftp >/dev/null || HAVE_LFTP=0
HAVE_CURL=1; { command -v curl >/dev/null && curl -V | grep -qw sftp; } || HAVE_CURL=0

BIN=${EXPCARDS_BIN:-$(cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null)/expcards}
[ -x "$BIN" ] || die "no release binary at $BIN: run make bench (or swift build -c release)"
BIN2=${BENCH_BIN2:-}
if [ -n "$BIN2" ]; then
    BIN2_LIBSSH2=$("$BIN2" --version 2>/dev/null | sed -n 's/.*(libssh2 \([0-9.]*\)).*/\1/p')
    [ -n "$BIN2_LIBSSH2" ] || die "BENCH_BIN2=$BIN2 does not name its libssh2 in --version"
fi

# --- work directory and cleanup ----------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/expcards-bench.XXXXXX") || die "mktemp failed"
SANDBOX=$WORK/sandbox
PROXY_PID=""
SANDBOX_STARTED=0
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; fi
    if [ "$SANDBOX_STARTED" = 1 ]; then "$ROOT/scripts/sshd-sandbox.sh" stop "$SANDBOX" >/dev/null 2>&1; fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf -- "$WORK"; fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

RESULTS=$WORK/results.tsv
: >"$RESULTS"
NOTES=$WORK/notes.txt
: >"$NOTES"
note() { echo "$*" >>"$NOTES"; say "$*"; }

over_budget() { [ $(( $(date +%s) - START )) -ge "$BUDGET" ]; }

# measure CASE BYTES ROUNDS "label|command|allowed-exit-codes|prep|verify|max-rounds" ...
# Interleaved rounds; wall time from date +%s%N, peak RSS and CPU time (user + system, of the
# command and its children; not of sshd or the proxy) from /usr/bin/time -v.
measure() {
    local case=$1 bytes=$2 rounds=$3; shift 3
    local r spec label cmd ok prep verify maxr t0 t1 rc rss cpu
    for ((r = 1; r <= rounds; r++)); do
        for spec in "$@"; do
            IFS='|' read -r label cmd ok prep verify maxr <<<"$spec"
            [ -n "$maxr" ] && [ "$r" -gt "$maxr" ] && continue
            [ -n "$prep" ] && { bash -c "$prep" >/dev/null 2>&1 || note "$case/$label: prep failed"; }
            sync
            t0=$(date +%s%N)
            timeout -k 5 "$CMD_TIMEOUT" /usr/bin/time -v -o "$WORK/time.txt" bash -c "$cmd" >"$WORK/out.txt" 2>"$WORK/err.txt"
            rc=$?
            t1=$(date +%s%N)
            rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
            cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { print s + 0 }' "$WORK/time.txt")
            rc=$(sed -n 's/.*Exit status: //p' "$WORK/time.txt" | grep . || echo "$rc")
            if ! [[ ",${ok:-0}," == *",$rc,"* ]]; then
                note "$case/$label run $r: exit $rc (not counted): $(tail -c 300 "$WORK/err.txt" | tr '\n' ' ')"
                continue
            fi
            if [ -n "$verify" ] && ! bash -c "$verify" >"$WORK/verify.txt" 2>&1; then
                note "$case/$label run $r: verification failed (not counted): $(head -c 300 "$WORK/verify.txt" | tr '\n' ' ')"
                continue
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$label" "$bytes" "$(( (t1 - t0) / 1000 ))" "${rss:-0}" "$rc" "${cpu:-0}" >>"$RESULTS"
        done
    done
}

export BIN BIN2 PY WORK AS_OF HERE

# --- 1. parse and report -----------------------------------------------------------------
DATA=$WORK/data
mkdir -p "$DATA"
SHOP_FILE=$DATA/$MONTH.87654321.EXP_CARDS.BIGSHOP.P.csv
COMPANY_FILE=$DATA/$MONTH.EXP_CARDS.ACME.P.csv
export SHOP_FILE COMPANY_FILE

case " $CASES " in *" parse "*)
    say "generating the shop file ($SHOP_LINES lines) and the company file ($COMPANY_LINES lines)"
    "$PY" "$HERE/gen.py" shop --lines "$SHOP_LINES" --seed 1 --month $MONTH --out "$SHOP_FILE" &
    g1=$!
    "$PY" "$HERE/gen.py" company --lines "$COMPANY_LINES" --seed 2 --month $MONTH --out "$COMPANY_FILE"
    wait $g1 || die "generator failed"
    AWK='mawk'; command -v mawk >/dev/null || AWK=awk
    # awk: the same count as the Python script (status x expiry month), splitting on ; blindly
    # (fine for field 5; it would not be for the RRULE field).
    AWK_PROG='$1=="\"02\""||$1=="02"{e=$5; gsub(/"/,"",e); s=(e<a)?"expired":((e<=l)?"expiring":"later"); c[s" "substr(e,1,6)]++} END{for(k in c) print k, c[k]}'
    export AWK AWK_PROG
    for f in SHOP COMPANY; do
        file=${f}_FILE; file=${!file}
        bytes=$(stat -c %s "$file")
        lines=$(wc -l <"$file")
        note "parse/$f: $(basename "$file"): $bytes bytes, $lines lines"
        # Page cache warm for everyone: read once before timing.
        cat "$file" >/dev/null
        measure "parse $f" "$bytes" "$REPEATS" \
            "expcards check|\"\$BIN\" check \"\$${f}_FILE\"|0,65||" \
            "expcards report --format json|\"\$BIN\" report --format json --as-of \$AS_OF \"\$${f}_FILE\" >\$WORK/report-$f.json|0,65|||$REPORT_REPEATS" \
            "expcards report (text)|\"\$BIN\" report --as-of \$AS_OF \"\$${f}_FILE\" >/dev/null|0,65|||$REPORT_REPEATS" \
            "python3 csv (python_report.py)|\"\$PY\" \"\$HERE/python_report.py\" --as-of \$AS_OF \"\$${f}_FILE\" >\$WORK/py-$f.json|0||" \
            "awk -F';' (mawk)|\$AWK -F';' -v a=20251115 -v l=20260115 \"\$AWK_PROG\" \"\$${f}_FILE\" >/dev/null|0||" \
            "wc -l (floor)|wc -l \"\$${f}_FILE\" >/dev/null|0||"
        # The same figures from both (outside the timings).
        "$PY" - "$WORK/report-$f.json" "$WORK/py-$f.json" "$f" <<'EOF2' >>"$NOTES" 2>&1 || note "parse/$f: reports not compared"
import json, sys
r = json.load(open(sys.argv[1]))["summary"]; p = list(json.load(open(sys.argv[2])).values())[0]
py = {k: sum(v.values()) for k, v in p["byStatusAndMonth"].items()}
key = "subscriptions" if sys.argv[3] == "SHOP" else "aliases"
ex = {k: v[key] for k, v in r.items() if v[key]}
print("parse/%s: details per status: python csv %s, expcards report (%s) %s: %s" % (sys.argv[3], py, key, ex, "same" if py == ex else "DIFFERENT"))
EOF2
        # What writing the report's output costs by itself: its bytes copied to a new file.
        out_bytes=$(stat -c %s "$WORK/report-$f.json" 2>/dev/null || echo 0)
        note "parse/$f: expcards report --format json writes $out_bytes bytes ($(awk -v o="$out_bytes" -v i="$bytes" 'BEGIN { printf "%.1f", o / i }') times the input): one record per alias and per subscription; python_report.py writes the counts only"
        measure "parse $f" "$bytes" "$REPEATS" \
            "cat of the report's JSON (write floor)|cat \$WORK/report-$f.json >\$WORK/copy-$f.json|0|rm -f \$WORK/copy-$f.json|"
        rm -f "$WORK/report-$f.json" "$WORK/copy-$f.json"
    done
    # The same company file with lone-CR line ends (the format allows them): the line-end
    # search must stay linear.
    mkdir -p "$DATA/cr"
    CR_FILE=$DATA/cr/$(basename "$COMPANY_FILE")
    tr '\n' '\r' <"$COMPANY_FILE" >"$CR_FILE"
    export CR_FILE
    measure "parse COMPANY, lone CR line ends" "$(stat -c %s "$CR_FILE")" "$REPEATS" \
        "expcards check|\"\$BIN\" check \"\$CR_FILE\"|0,65||" \
        "wc -l (floor)|wc -l \"\$CR_FILE\" >/dev/null|0||"
    # Free the disk before the download cases.
    rm -f "$SHOP_FILE" "$COMPANY_FILE" "$CR_FILE"
;; esac

# --- 1b. crafted recurrence rules against plain monthly ones (issue 13) ---------------------
# Each file holds RULE_LINES subscriptions with (rule, effect date) pairs all different, so no
# schedule is shared; the crafted ones are the rules that cost a naive evaluation the most (see
# gen.py). Target: crafted within 5 times plain.
case " $CASES " in *" rules "*)
    if over_budget; then note "budget spent: rules case skipped"; else
        mkdir -p "$DATA/rules-plain" "$DATA/rules-crafted"
        PLAIN_RULES=$DATA/rules-plain/$MONTH.87654321.EXP_CARDS.PLAIN.P.csv
        CRAFTED_RULES=$DATA/rules-crafted/$MONTH.87654321.EXP_CARDS.CRAFTED.P.csv
        "$PY" "$HERE/gen.py" rules --rules plain --lines $(( RULE_LINES + 2 )) --seed 5 --month $MONTH --out "$PLAIN_RULES" || die "generator failed"
        "$PY" "$HERE/gen.py" rules --rules crafted --lines $(( RULE_LINES + 2 )) --seed 5 --month $MONTH --out "$CRAFTED_RULES" || die "generator failed"
        export PLAIN_RULES CRAFTED_RULES
        cat "$PLAIN_RULES" "$CRAFTED_RULES" >/dev/null
        measure "rules ($RULE_LINES subscriptions)" "$(stat -c %s "$CRAFTED_RULES")" "$REPEATS" \
            "expcards report, plain monthly rules|\"\$BIN\" report --as-of \$AS_OF \"\$PLAIN_RULES\" >/dev/null|0,65||" \
            "expcards report, crafted rules|\"\$BIN\" report --as-of \$AS_OF \"\$CRAFTED_RULES\" >/dev/null|0,65||"
        rm -rf "$DATA/rules-plain" "$DATA/rules-crafted"
    fi
;; esac

# --- 1c. importing ITN notifications (issue 16) -------------------------------------------
# One file of ITN_LINES notifications (one JSON document per line, all different aliases, as a
# merchant's own endpoint would have logged them) into a fresh archive each round: validation,
# duplicate index, one fsync per batch of 4096. Beside it, the floor a script would give: Python
# reading each line with json.loads and appending it to a file, with no validation.
ITN_LINES=${BENCH_ITN_LINES:-1000000}
case " $CASES " in *" itn "*)
    if over_budget; then note "budget spent: itn case skipped"; else
        ITN_FILE=$DATA/itn-notifications.jsonl
        "$PY" - "$ITN_FILE" "$ITN_LINES" <<'PY' || die "generator failed"
import json, sys
statuses = ["ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED", "DELETED"]
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        n = {"merchantLegalId": "45251785700028", "paymentMethodToken": "%032x" % (i * 2654435761 % (1 << 128)),
             "mode": "PRODUCTION", "paymentMethodTokenStatus": "ACTIVE",
             "meansOfPayment": {"status": statuses[i % 5], "method": "VISA" if i % 2 else "MASTERCARD"},
             "card": {"lastFour": "%04d" % (i % 10000), "expiryMonth": "%02d" % (i % 12 + 1), "expiryYear": str(2026 + i % 5)},
             "source": "ISSUER"}
        out.write(json.dumps(n) + "\n")
PY
        export ITN_FILE ITN_ARCHIVE=$DATA/itn-archive ITN_COPY=$DATA/itn-copy.jsonl
        measure "itn import ($ITN_LINES notifications)" "$(stat -c %s "$ITN_FILE")" "$REPEATS" \
            "expcards itn import|\"\$BIN\" itn import --archive \"\$ITN_ARCHIVE\" \"\$ITN_FILE\" 2>/dev/null|0|rm -rf \"\$ITN_ARCHIVE\"; mkdir -m 700 \"\$ITN_ARCHIVE\"|test \$(wc -l < \"\$ITN_ARCHIVE/itn/notifications.jsonl\") -eq $ITN_LINES" \
            "python3 json.loads + append (bench/itn_floor.py, no validation)|\"\$PY\" \"\$HERE/itn_floor.py\" \"\$ITN_FILE\" \"\$ITN_COPY\"|0|rm -f \"\$ITN_COPY\"|"
        rm -rf "$ITN_FILE" "$DATA/itn-archive" "$DATA/itn-copy.jsonl"
    fi
;; esac

# --- sandbox for the download cases ------------------------------------------------------
want_downloads=0
case " $CASES " in *" big "*|*" many "*|*" latency "*) want_downloads=1 ;; esac
if [ "$want_downloads" = 1 ]; then
    over_budget && { note "budget of $BUDGET s spent: download cases skipped"; want_downloads=0; }
fi
if [ "$want_downloads" = 1 ]; then
    [ -x "$ROOT/scripts/sshd-sandbox.sh" ] || die "scripts/sshd-sandbox.sh is missing"
    "$ROOT/scripts/sshd-sandbox.sh" start "$SANDBOX" >/dev/null || die "the sandbox sshd did not start"
    SANDBOX_STARTED=1
    # shellcheck disable=SC1091
    . "$SANDBOX/sandbox.env"
    export PORT SSH_USER KEY KNOWN_HOSTS TREE REMOTE_TREE
    mkdir -p "$TREE/ROOT/expired"
    BIG_SHOP=99000001
    BIG_NAME=$MONTH.$BIG_SHOP.EXP_CARDS.BIG.P.csv
    mkdir -p "$TREE/$BIG_SHOP/expired"
    say "generating the big file (~$BIG_BYTES bytes) and $SHOPS shop files of $SHOP_FILE_LINES lines"
    "$PY" "$HERE/gen.py" shop --bytes "$BIG_BYTES" --shop $BIG_SHOP --seed 3 --month $MONTH --out "$TREE/$BIG_SHOP/expired/$BIG_NAME" &
    g1=$!
    "$PY" "$HERE/gen.py" many --root "$TREE" --shops "$SHOPS" --lines "$SHOP_FILE_LINES" --seed 4 --month $MONTH
    wait $g1 || die "generator failed"
    BIG_SIZE=$(stat -c %s "$TREE/$BIG_SHOP/expired/$BIG_NAME")
    MANY_SHOPS=$(cd "$TREE" && ls -d 1[0-9]*[0-9] | grep -E '^[0-9]{8}$' | grep -v "^$BIG_SHOP$" | sort)
    MANY_BYTES=$(cat "$TREE"/1*/expired/*.csv | wc -c)
    note "download data: expcards fetch exits 65 on the big file (over 999,999 details: the trailer's n..6 count cannot hold it), after storing it: counted, the bytes are verified with cmp"
    note "download data: one file of $BIG_SIZE bytes; $SHOPS files of $SHOP_FILE_LINES lines, $MANY_BYTES bytes in all"
    export BIG_SHOP BIG_NAME BIG_SIZE MANY_BYTES SHOPS
    # The server reads from the page cache in every run.
    cat "$TREE"/*/expired/* >/dev/null

    # expcards configurations (own archive per case); PORTVAR / KH switch to the proxy.
    write_config() { # FILE PORT KNOWN_HOSTS ARCHIVE SHOPS...
        local file=$1 port=$2 kh=$3 archive=$4; shift 4
        {
            echo "host: 127.0.0.1"
            echo "port: $port"
            echo "user: '$SSH_USER'"
            echo "identityFile: '$KEY'"
            echo "knownHostsFile: '$kh'"
            echo "companyDirectory: '$REMOTE_TREE/ROOT/expired'"
            echo "shopDirectory: '$REMOTE_TREE/%s/expired'"
            echo "archive: '$archive'"
            echo "timeout: 60"
            echo "retries: 0"
            echo "shops:"
            local s
            for s in "$@"; do echo "  - '$s'"; done
        } >"$file"
    }
    # shellcheck disable=SC2086
    write_config "$WORK/big.yaml" "$PORT" "$KNOWN_HOSTS" "$WORK/archive-big" $BIG_SHOP
    # shellcheck disable=SC2086
    write_config "$WORK/many.yaml" "$PORT" "$KNOWN_HOSTS" "$WORK/archive-many" $MANY_SHOPS
    # sftp batch: one get per shop directory (a glob: the directory is listed, as expcards does).
    : >"$WORK/many.sftp"
    for s in $MANY_SHOPS; do
        echo "-lmkdir $WORK/out-many/$s" >>"$WORK/many.sftp"
        echo "get $REMOTE_TREE/$s/expired/* $WORK/out-many/$s/" >>"$WORK/many.sftp"
    done
    echo "get $REMOTE_TREE/$BIG_SHOP/expired/$BIG_NAME $WORK/out-big/$BIG_NAME" >"$WORK/big.sftp"
    # lftp: one session, one mirror per shop directory (the same directories expcards lists).
    : >"$WORK/many.lftp"
    for s in $MANY_SHOPS; do echo "mirror $REMOTE_TREE/$s/expired $WORK/out-many/$s" >>"$WORK/many.lftp"; done
    # Verification of a many-files download: every file there, every byte.
    cat >"$WORK/count-many.sh" <<EOF3
#!/bin/bash
set -e
n=\$(find "\$1" -type f -name '*.EXP_CARDS.*.csv' | wc -l)
b=\$(find "\$1" -type f -name '*.EXP_CARDS.*.csv' -exec cat {} + | wc -c)
[ "\$n" = $SHOPS ] && [ "\$b" = $MANY_BYTES ] || { echo "\$n files, \$b bytes"; exit 1; }
EOF3
    chmod +x "$WORK/count-many.sh"
    HOSTFP=$(ssh-keygen -lf "$SANDBOX/ssh_host_ed25519_key.pub" | awk '{print $2}' | sed 's/^SHA256://')
    export HOSTFP

    # Command specs for one target (port + known_hosts), used loopback and through the proxy.
    set_specs() { # PORT KNOWN_HOSTS SUFFIX
        local p=$1 kh=$2 sfx=$3
        local sshopts="-o UserKnownHostsFile=$kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o GlobalKnownHostsFile=/dev/null"
        BIG_SPECS=(
            "expcards fetch|\"\$BIN\" fetch --config $WORK/big$sfx.yaml|0,65|rm -rf $WORK/archive-big|test \"\$(stat -c %s \$(find $WORK/archive-big -name $BIG_NAME))\" = $BIG_SIZE && cmp -s \$(find $WORK/archive-big -name $BIG_NAME) $TREE/$BIG_SHOP/expired/$BIG_NAME"
            "sftp -c aes128-ctr|sftp -q -c aes128-ctr -i $KEY $sshopts -P $p -b $WORK/big.sftp $SSH_USER@127.0.0.1|0|rm -rf $WORK/out-big; mkdir -p $WORK/out-big|cmp -s $WORK/out-big/$BIG_NAME $TREE/$BIG_SHOP/expired/$BIG_NAME"
        )
        if [ -n "$BIN2" ]; then
            BIG_SPECS+=("expcards fetch (libssh2 $BIN2_LIBSSH2)|\"\$BIN2\" fetch --config $WORK/big$sfx.yaml|0,65|rm -rf $WORK/archive-big|test \"\$(stat -c %s \$(find $WORK/archive-big -name $BIG_NAME))\" = $BIG_SIZE && cmp -s \$(find $WORK/archive-big -name $BIG_NAME) $TREE/$BIG_SHOP/expired/$BIG_NAME")
        fi
        if [ "$HAVE_CURL" = 1 ]; then
            BIG_SPECS+=("curl sftp://|curl -sS --fail -u $SSH_USER: --key $KEY --pubkey $KEY.pub --hostpubsha256 $HOSTFP -o $WORK/out-big/$BIG_NAME sftp://127.0.0.1:$p$REMOTE_TREE/$BIG_SHOP/expired/$BIG_NAME|0|rm -rf $WORK/out-big; mkdir -p $WORK/out-big|cmp -s $WORK/out-big/$BIG_NAME $TREE/$BIG_SHOP/expired/$BIG_NAME")
        fi
        # (No | in a spec: it is the field separator.)
        local count_many="$WORK/count-many.sh"
        MANY_SPECS=(
            "expcards fetch|\"\$BIN\" fetch --config $WORK/many$sfx.yaml|0|rm -rf $WORK/archive-many|$count_many $WORK/archive-many"
            "sftp -b (-c aes128-ctr)|sftp -q -c aes128-ctr -i $KEY $sshopts -P $p -b $WORK/many.sftp $SSH_USER@127.0.0.1|0|rm -rf $WORK/out-many; mkdir -p $WORK/out-many|$count_many $WORK/out-many"
        )
        if [ "$HAVE_LFTP" = 1 ]; then
            MANY_SPECS+=("lftp mirror|lftp -c \"set sftp:connect-program 'ssh -a -x -c aes128-ctr -i $KEY $sshopts'; set net:max-retries 1; set net:timeout 60; set cmd:fail-exit yes; open -u $SSH_USER,x -p $p sftp://127.0.0.1; source $WORK/many.lftp\"|0|rm -rf $WORK/out-many; mkdir -p $WORK/out-many|$count_many $WORK/out-many")
        fi
        # Nothing new: run right after the many-files case, on what its last round left (expcards'
        # archive; lftp's copy, lftp running last in each round). No preparation, no deletion.
        NOOP_SPECS=(
            "expcards fetch|\"\$BIN\" fetch --config $WORK/many$sfx.yaml|0||grep -q '^0 files fetched, $SHOPS already archived' $WORK/out.txt"
        )
        if [ "$HAVE_LFTP" = 1 ]; then
            NOOP_SPECS+=("lftp mirror|lftp -c \"set sftp:connect-program 'ssh -a -x -c aes128-ctr -i $KEY $sshopts'; set net:max-retries 1; set net:timeout 60; set cmd:fail-exit yes; open -u $SSH_USER,x -p $p sftp://127.0.0.1; source $WORK/many.lftp\"|0||$count_many $WORK/out-many")
        fi
    }
    [ "$HAVE_CURL" = 1 ] || note "curl without sftp support: curl cases skipped"
    [ "$HAVE_LFTP" = 1 ] || note "lftp missing (apt-get install -y lftp): lftp cases skipped"

    case " $CASES " in *" big "*)
        set_specs "$PORT" "$KNOWN_HOSTS" ""
        say "case 2: one big file, loopback"
        measure "download 1 file, loopback" "$BIG_SIZE" "$REPEATS" "${BIG_SPECS[@]}"
    ;; esac
    case " $CASES " in *" many "*)
        if over_budget; then note "budget spent: many-files case skipped"; else
            set_specs "$PORT" "$KNOWN_HOSTS" ""
            say "case 3: $SHOPS files, loopback"
            measure "download $SHOPS files, loopback" "$MANY_BYTES" "$REPEATS" "${MANY_SPECS[@]}"
            measure "nothing new ($SHOPS shops), loopback" 0 "$REPEATS" "${NOOP_SPECS[@]}"
        fi
    ;; esac
    case " $CASES " in *" latency "*)
        if over_budget; then note "budget spent: latency cases skipped"; else
            "$PY" "$HERE/delay_proxy.py" --target-port "$PORT" --delay-ms "$DELAY_MS" --port-file "$WORK/proxy.port" \
                --lifetime $(( BUDGET + 120 )) >/dev/null 2>"$WORK/proxy.log" &
            PROXY_PID=$!
            for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
            PPORT=$(cat "$WORK/proxy.port" 2>/dev/null) || die "the delay proxy did not start"
            # known_hosts entry for the proxy's port: the same host key.
            awk -v p="$PPORT" '{ $1 = "[127.0.0.1]:" p; print }' "$KNOWN_HOSTS" >"$WORK/known_hosts.proxy"
            # shellcheck disable=SC2086
            write_config "$WORK/big-proxy.yaml" "$PPORT" "$WORK/known_hosts.proxy" "$WORK/archive-big" $BIG_SHOP
            # shellcheck disable=SC2086
            write_config "$WORK/many-proxy.yaml" "$PPORT" "$WORK/known_hosts.proxy" "$WORK/archive-many" $MANY_SHOPS
            set_specs "$PPORT" "$WORK/known_hosts.proxy" "-proxy"
            say "case 4: one big file through the ${DELAY_MS} ms proxy"
            measure "download 1 file, +${DELAY_MS} ms each way" "$BIG_SIZE" "$LREPEATS" "${BIG_SPECS[@]}"
            if [[ " $CASES " != *" many "* ]]; then :; elif over_budget; then note "budget spent: many files through the proxy skipped"; else
                say "case 4: $SHOPS files through the ${DELAY_MS} ms proxy"
                measure "download $SHOPS files, +${DELAY_MS} ms each way" "$MANY_BYTES" "$LREPEATS" "${MANY_SPECS[@]}"
                measure "nothing new ($SHOPS shops), +${DELAY_MS} ms each way" 0 "$LREPEATS" "${NOOP_SPECS[@]}"
            fi
            kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=""
        fi
    ;; esac
fi

# --- table -------------------------------------------------------------------------------
say "done in $(( $(date +%s) - START )) s"
"$PY" - "$RESULTS" "$NOTES" "$(( $(date +%s) - START ))" <<'EOF' | tee "${BENCH_TABLE:-/dev/null}"
import collections, statistics, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    case, tool, size, us, rss, rc, cpu = line.rstrip("\n").split("\t")
    rows.setdefault(case, collections.OrderedDict()).setdefault(tool, []).append((int(us) / 1e6, int(rss) / 1024, int(size), rc, float(cpu)))
print("| case | tool | median s | runs (s) | MB/s | CPU s | peak RSS MB | time / expcards' |")
print("|---|---|---:|---|---:|---:|---:|---:|")
for case, tools in rows.items():
    ref = {}
    for tool, runs in tools.items():
        ref[tool] = statistics.median(r[0] for r in runs)
    base = {"check": ref.get("expcards check"), "report": ref.get("expcards report --format json"), "fetch": ref.get("expcards fetch")}
    for tool, runs in tools.items():
        t = ref[tool]
        size = runs[0][2]
        rss = max(r[1] for r in runs)
        allruns = ", ".join("%.2f" % r[0] for r in runs)
        if case.startswith("rules"):
            b = ref.get("expcards report, plain monthly rules")
            ratio = "%.2f× plain" % (t / b) if b else "n/a"
        elif case.startswith("parse"):
            b = base["check"]
            ratio = "%.2f× check" % (t / b if b else float("nan"))
            if base["report"]:
                ratio += ", %.2f× report" % (t / base["report"])
        elif case.startswith("itn"):
            b = ref.get("expcards itn import")
            ratio = "%.2f×" % (t / b) if b else "n/a"
        else:
            b = base["fetch"]
            ratio = "%.2f×" % (t / b) if b else "n/a"
        codes = sorted(set(r[3] for r in runs) - {"0"})
        flag = " (exit %s)" % ",".join(codes) if codes else ""
        cpu = statistics.median(r[4] for r in runs)
        print("| %s | %s%s | %.3f | %s | %.0f | %.2f | %.0f | %s |" % (case, tool, flag, t, allruns, size / 1e6 / t if t else 0, cpu, rss, ratio))
print()
for case, tools in rows.items():
    if not case.startswith("parse") or "wc -l (floor)" not in tools:
        continue
    floor = statistics.median(r[0] for r in tools["wc -l (floor)"])
    py = statistics.median(r[0] for r in tools["python3 csv (python_report.py)"]) if "python3 csv (python_report.py)" in tools else None
    for tool in ("expcards check", "expcards report --format json", "expcards report (text)"):
        if tool in tools:
            t = statistics.median(r[0] for r in tools[tool])
            print("%s: %s at %.1f %% of wc -l's throughput%s." % (case, tool, 100 * floor / t, ", %.1f times Python's csv" % (py / t) if py else ""))
print()
print("Ratios: a tool's median time divided by expcards' (above 1: expcards is faster). MB = 10^6 bytes.")
print("Rules case: each report's median time divided by the plain file's (target: crafted within 5×).")
print("CPU s: median user + system time of the command and its children (sshd's and the proxy's are not counted).")
print("Whole run: %s s." % sys.argv[3])
notes = open(sys.argv[2]).read().strip()
if notes:
    print()
    print("Notes:")
    for n in notes.splitlines():
        print("- " + n)
EOF
