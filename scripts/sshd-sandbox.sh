#!/bin/bash
# A throwaway OpenSSH SFTP server on 127.0.0.1, for the demo and the benchmarks.
#
#   scripts/sshd-sandbox.sh start DIR   start it; prints DIR/sandbox.env's contents
#   scripts/sshd-sandbox.sh stop DIR    kill it and its sessions, remove DIR
#
# start: Debian's /usr/sbin/sshd -D, in the background (own session), on a free port of
# 127.0.0.1, with fresh host keys and a fresh ed25519 user key made in DIR. It serves DIR/tree
# (created; fill it with ROOT/expired/... and <shopId>/expired/...) through internal-sftp only
# (ForceCommand internal-sftp -d DIR/tree: the login directory is the tree, no chroot, so
# nothing is created outside DIR). Clients name the tree's directories relative to the login
# directory (ROOT/expired, <shopId>/expired), or absolutely under REMOTE_TREE (= DIR/tree). The login is the calling user (root included: key only,
# PermitRootLogin prohibit-password). It writes:
#   DIR/expcards.yaml  a ready expcards configuration (strict host key checking stays on:
#                      knownHostsFile is DIR/known_hosts, made from the fresh host key)
#   DIR/sandbox.env    shell-sourceable: PORT SSH_USER KEY KNOWN_HOSTS TREE REMOTE_TREE PID LOG
#   DIR/sshd.log       sshd's log (printed when it does not start)
# DIR may exist (then it must be empty, e.g. from mktemp -d) or not.
#
# stop: only acts on a directory this script made (it has a .sshd-sandbox marker), and only
# kills a process whose command line names DIR/sshd_config. Idempotent.
#
# Needs: openssh-server (/usr/sbin/sshd, /usr/bin/ssh-keygen). sshd needs /run/sshd: created
# when running as root; otherwise run once: sudo install -d -m 0755 /run/sshd
set -euo pipefail

SSHD=/usr/sbin/sshd
KEYGEN=/usr/bin/ssh-keygen
HOST=127.0.0.1

die() { echo "sshd-sandbox: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 start DIR | stop DIR" >&2
    exit 2
}

# Every process below $1 (children first, deepest last in the list is irrelevant: we SIGKILL).
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$child"
        echo "$child"
    done
}

# True when $1 is a live sshd started with $2 as its config.
is_our_sshd() {
    local cmdline
    [ -r "/proc/$1/cmdline" ] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    case "$cmdline" in *"-f $2 "*|*"-f $2") return 0 ;; esac
    return 1
}

port_in_use() {
    # A connect that succeeds means someone listens there.
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

yaml_quote() {
    # Single-quoted YAML scalar: '' stands for '.
    printf "'%s'" "${1//\'/\'\'}"
}

start() {
    local dir=$1
    [ -x "$SSHD" ] || die "$SSHD is missing: apt-get install -y openssh-server"
    [ -x "$KEYGEN" ] || die "$KEYGEN is missing: apt-get install -y openssh-client"
    if [ ! -d /run/sshd ]; then
        if [ "$(id -u)" = 0 ]; then
            install -d -m 0755 /run/sshd
        else
            die "sshd needs its privilege separation directory /run/sshd; run once: sudo install -d -m 0755 /run/sshd"
        fi
    fi

    mkdir -p -- "$dir"
    dir=$(cd -- "$dir" && pwd -P)
    case "$dir" in /) die "refusing to use / as the sandbox directory" ;; esac
    if [ -n "$(ls -A -- "$dir")" ]; then
        die "$dir is not empty (a sandbox already there? stop it with: $0 stop $dir)"
    fi
    : >"$dir/.sshd-sandbox"
    # The session reads authorized_keys from here and serves the tree below it.
    chmod 0755 "$dir"
    local tree=$dir/tree
    mkdir -m 0755 "$tree" "$dir/archive"
    chmod 0700 "$dir/archive"

    local user
    user=$(id -un)
    "$KEYGEN" -q -t ed25519 -N '' -C "expcards-sandbox-host" -f "$dir/ssh_host_ed25519_key"
    "$KEYGEN" -q -t ed25519 -N '' -C "expcards-sandbox-user" -f "$dir/user_ed25519"
    cp "$dir/user_ed25519.pub" "$dir/authorized_keys"
    chmod 0644 "$dir/authorized_keys"

    local config=$dir/sshd_config log=$dir/sshd.log port pid="" attempt ready=""
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_in_use "$port" && continue
        cat >"$config" <<EOF
ListenAddress $HOST:$port
PidFile $dir/sshd.pid
HostKey $dir/ssh_host_ed25519_key
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 100
MaxSessions 50
LogLevel VERBOSE
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d $tree
EOF
        rm -f "$log"
        # Own session: a ^C in the caller's terminal does not reach it; no inherited stdio, so
        # callers that capture our output through a pipe are not kept waiting by sshd.
        setsid "$SSHD" -D -f "$config" -E "$log" </dev/null >/dev/null 2>&1 &
        pid=$!
        local waited=0
        while [ "$waited" -lt 200 ]; do   # 10 s
            if ! kill -0 "$pid" 2>/dev/null; then break; fi
            if grep -q "Server listening on $HOST port $port\." "$log" 2>/dev/null && port_in_use "$port"; then
                ready=1; break
            fi
            sleep 0.05
            waited=$((waited + 1))
        done
        [ -n "$ready" ] && break
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # Lost a race for the port: try another one; anything else is fatal.
        grep -q "Address already in use" "$log" 2>/dev/null && continue
        echo "sshd-sandbox: sshd did not start on $HOST:$port; its log ($log):" >&2
        sed 's/^/  /' "$log" >&2 2>/dev/null || true
        exit 1
    done
    [ -n "$ready" ] || { echo "sshd-sandbox: no free port after 8 attempts; last log:" >&2; sed 's/^/  /' "$log" >&2 || true; exit 1; }

    # known_hosts from the fresh host key: strict checking stays on.
    local keytype keybody
    read -r keytype keybody _ <"$dir/ssh_host_ed25519_key.pub"
    echo "[$HOST]:$port $keytype $keybody" >"$dir/known_hosts"

    {
        echo "# expcards configuration for the local sandbox server ($0)"
        echo "host: $HOST"
        echo "port: $port"
        echo "user: $(yaml_quote "$user")"
        echo "identityFile: $(yaml_quote "$dir/user_ed25519")"
        echo "knownHostsFile: $(yaml_quote "$dir/known_hosts")"
        # Relative to the login directory (the tree), as on the platform, so the archive gets
        # ROOT/expired/... and <shopId>/expired/... (it mirrors the remote paths).
        echo "companyDirectory: ROOT/expired"
        echo "shopDirectory: '%s/expired'"
        echo "archive: $(yaml_quote "$dir/archive")"
        echo "timeout: 15"
        echo "retries: 1"
    } >"$dir/expcards.yaml"

    {
        printf 'PORT=%q\n' "$port"
        printf 'SSH_USER=%q\n' "$user"
        printf 'KEY=%q\n' "$dir/user_ed25519"
        printf 'KNOWN_HOSTS=%q\n' "$dir/known_hosts"
        printf 'TREE=%q\n' "$tree"
        printf 'REMOTE_TREE=%q\n' "$tree"
        printf 'PID=%q\n' "$pid"
        printf 'LOG=%q\n' "$log"
        printf 'CONFIG=%q\n' "$dir/expcards.yaml"
    } >"$dir/sandbox.env"
    cat "$dir/sandbox.env"
}

stop() {
    local dir=$1
    [ -e "$dir" ] || return 0
    dir=$(cd -- "$dir" && pwd -P)
    [ -e "$dir/.sshd-sandbox" ] || die "$dir was not made by $0 start (no .sshd-sandbox): not touching it"
    local config=$dir/sshd_config pid=""
    if [ -f "$dir/sandbox.env" ]; then
        pid=$(sed -n 's/^PID=//p' "$dir/sandbox.env")
    elif [ -f "$dir/sshd.pid" ]; then
        pid=$(cat "$dir/sshd.pid")
    fi
    if [ -n "$pid" ] && is_our_sshd "$pid" "$config"; then
        local session
        # Sessions first (stopped ones too), then the listener.
        for session in $(descendants "$pid"); do
            kill -CONT "$session" 2>/dev/null || true
            kill -KILL "$session" 2>/dev/null || true
        done
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 60 ]; do
            # Not our child: poll until it is gone (its parent, or init, reaps it).
            is_our_sshd "$pid" "$config" || break
            sleep 0.05
            waited=$((waited + 1))
        done
        if is_our_sshd "$pid" "$config"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Sessions that outlived the listener would still name our config only through their
    # parent; any sshd still running on our config is ours.
    local other
    for other in $(pgrep -x sshd 2>/dev/null || true); do
        is_our_sshd "$other" "$config" && kill -KILL "$other" 2>/dev/null || true
    done
    chmod -R u+rwX -- "$dir" 2>/dev/null || true
    rm -rf -- "$dir"
}

[ $# -eq 2 ] || usage
case "$1" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
