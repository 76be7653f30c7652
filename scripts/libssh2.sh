#!/bin/bash
# `make libssh2`: libssh2 1.11 for a build with LIBSSH2=1.11.
#
#   scripts/libssh2.sh build    make sure a libssh2 >= 1.11 is there to build against
#   scripts/libssh2.sh prefix   print the private prefix to build against, or nothing when the
#                               system's libssh2-1-dev is already >= 1.11 (Debian 13)
#
# On Debian 12 (libssh2 1.10), `build` downloads Debian 13 (trixie)'s `libssh2` source package
# with apt, through a private configuration under .build/libssh2-1.11/apt (its own sources.list,
# lists and cache: nothing outside the build tree changes). apt checks the download as it checks
# any package: the trixie Release file's signature against /usr/share/keyrings/
# debian-archive-keyring.gpg (Debian 12's debian-archive-keyring carries the trixie keys), then
# each file's SHA-256 against the signed Sources index. It then builds a static library (OpenSSL
# backend) into .build/libssh2-1.11/prefix, so a binary linked against it runs without the build
# tree. Nothing is done when that prefix already holds 1.11, or when the system's is >= 1.11.
#
# Needs: apt, dpkg-dev (dpkg-source), a C toolchain, libssl-dev, zlib1g-dev, pkg-config
# (`make deps` installs them).
set -euo pipefail

top=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
base=$top/.build/libssh2-1.11
prefix=$base/prefix
suite=trixie
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "libssh2: $*" >&2; }
die() { say "$*"; exit 1; }

system_is_recent() { PKG_CONFIG_PATH= pkg-config --atleast-version=1.11 libssh2 2>/dev/null; }
# The private build's version, from its .pc file (its Requires are the system's libcrypto and zlib).
built_version() { sed -n 's/^Version: *//p' "$prefix/lib/pkgconfig/libssh2.pc" 2>/dev/null; }
built() { [ -f "$prefix/lib/libssh2.a" ] && dpkg --compare-versions "$(built_version)" ge 1.11; }

case ${1:-} in
prefix)
    system_is_recent || echo "$prefix"
    exit 0 ;;
build) ;;
*) die "usage: $0 build|prefix" ;;
esac

if system_is_recent; then
    say "the system's libssh2 is $(pkg-config --modversion libssh2): nothing to build"
    exit 0
fi
# SwiftPM reads .pc files itself and, unlike pkg-config, keeps their -L of system directories:
# zlib.pc's -L/usr/lib/<multiarch>, placed ahead of this prefix's -L in some links (the test
# bundle's), made `-lssh2` find the system's libssh2.so. These copies of the system's zlib,
# libcrypto and libssl .pc files, as pkg-config prints them (without those -L), shadow the
# originals in LIBSSH2=1.11 builds; the linker still finds those libraries in its default path.
shadow_system_pc_files() {
    local name
    for name in zlib libcrypto libssl; do
        PKG_CONFIG_PATH= pkg-config --exists "$name" || die "no $name.pc (apt-get install zlib1g-dev libssl-dev)"
        cat >"$prefix/lib/pkgconfig/$name.pc" <<PC
Name: $name
Description: the system's $name, as pkg-config reads it (see scripts/libssh2.sh)
Version: $(PKG_CONFIG_PATH= pkg-config --modversion "$name")
Libs: $(PKG_CONFIG_PATH= pkg-config --libs "$name")
Cflags: $(PKG_CONFIG_PATH= pkg-config --cflags "$name")
PC
    done
}

if built; then
    shadow_system_pc_files
    say "$(built_version) already built in $prefix"
    exit 0
fi

# Without the trixie keys apt refuses the Release file ("NO_PUBKEY"): name the fix up front.
# (Only where gpg is installed; apt's own check stays the one that counts.)
no_key="$keyring has no Debian 13 (trixie) key: upgrade debian-archive-keyring (bookworm's 2023.3+deb12u2 or later has it)"
if command -v gpg >/dev/null; then
    gpg --batch --no-default-keyring --keyring "$keyring" --with-colons --list-keys 2>/dev/null \
        | awk -F: '$1 == "uid" { print $10 }' | grep -q "13/trixie" || die "$no_key"
fi

apt_dir=$base/apt
rm -rf -- "$base/src"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$base/src"
echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main" >"$apt_dir/sources.list"
apt_options=(
    -o Dir::Etc::sourcelist="$apt_dir/sources.list"
    -o Dir::Etc::sourceparts=-
    -o Dir::State::Lists="$apt_dir/lists"
    -o Dir::Cache="$apt_dir/cache"
    -o APT::Sandbox::User=root
)
say "apt-get update ($suite sources, private lists in $apt_dir)"
apt-get "${apt_options[@]}" update -qq \
    || die "apt-get update failed: is deb.debian.org reachable? (a NO_PUBKEY error: $no_key)"
say "apt-get source libssh2/$suite"
(cd "$base/src" && apt-get "${apt_options[@]}" source -qq "libssh2/$suite") \
    || die "apt-get source libssh2/$suite failed"

src=$(find "$base/src" -mindepth 1 -maxdepth 1 -type d -name 'libssh2-*' | head -n 1)
[ -n "$src" ] || die "no libssh2-* directory in $base/src after apt-get source"
say "building $(basename "$src") into $prefix"
cd "$src"
./configure --with-crypto=openssl --disable-shared --enable-static \
    --disable-examples-build \
    --prefix="$prefix" >"$base/configure.log" 2>&1 \
    || { tail -n 30 "$base/configure.log" >&2; die "configure failed (log: $base/configure.log)"; }
make -j"$(nproc)" >"$base/make.log" 2>&1 \
    || { tail -n 30 "$base/make.log" >&2; die "make failed (log: $base/make.log)"; }
make install >>"$base/make.log" 2>&1 \
    || { tail -n 30 "$base/make.log" >&2; die "make install failed (log: $base/make.log)"; }
built || die "the build did not leave libssh2 >= 1.11 in $prefix"
shadow_system_pc_files
say "built $(built_version) in $prefix"
