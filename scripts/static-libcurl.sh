#!/usr/bin/env bash
# Builds the static libcurl the static ferry links (docs/STATIC.md) and prints its prefix.
#
# Debian's libcurl.a (libcurl4-openssl-dev) cannot be linked statically: it needs GSSAPI
# (Kerberos) and LDAP, which Debian ships only as shared libraries. So this builds the same
# library from Debian's own source package, at the version of the installed
# libcurl4-openssl-dev, with Debian's patches for the OpenSSL flavour (every patch of the series
# but the GnuTLS and NSS ones, as debian/rules does), configured with only what ferry uses:
# http, https and file, OpenSSL, zlib and nghttp2 (all linked from Debian's static libraries).
#
# The source comes through a private list of deb-src entries derived from the machine's own apt
# sources (its own Dir::State::Lists; the system's apt configuration is not touched). The result
# is cached under ${FERRY_STATIC_CACHE:-/var/cache/ferry-static}, keyed by the installed
# libcurl4-openssl-dev's version and a digest of this script, so it is built once per machine
# (its source-version file names the source package it was built from: the installed version's,
# or the archive's newest when the archive no longer has that one).
#
#   scripts/static-libcurl.sh     prints the prefix (include/, lib/libcurl.a, lib/cmake/CURL)
set -euo pipefail
script=$(realpath "$0")
cache=${FERRY_STATIC_CACHE:-/var/cache/ferry-static}

die() {
    echo "static-libcurl.sh: $*" >&2
    exit 1
}

version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null) ||
    die "libcurl4-openssl-dev is not installed (scripts/install-deps.sh)"
key=$(sha256sum "$script" | cut -c1-12)
prefix="$cache/curl-$version-$key"
if [[ -f $prefix/.complete ]]; then
    echo "$prefix"
    exit 0
fi

mkdir -p "$cache"
# One build at a time; whoever waited finds the finished prefix.
exec 9>"$cache/.curl.lock"
flock 9
if [[ -f $prefix/.complete ]]; then
    echo "$prefix"
    exit 0
fi

work=$(mktemp -d "$cache/.curl-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "static-libcurl.sh: building a static libcurl for libcurl4-openssl-dev $version in $work" >&2

# deb-src entries for the machine's deb entries: one-line lists and deb822 files alike.
mkdir -p "$work/apt/sources.list.d" "$work/apt/lists/partial"
shopt -s nullglob
n=0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    n=$((n + 1))
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >"$work/apt/sources.list.d/$n.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
    n=$((n + 1))
    sed 's/^Types:.*/Types: deb-src/' "$f" >"$work/apt/sources.list.d/$n.sources"
done
shopt -u nullglob
apt_options=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
             -o "Dir::State::Lists=$work/apt/lists" -o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" -qq update >&2
# The installed version's source; if the archive no longer has it, its newest (a security update).
if ! (cd "$work" && apt-get "${apt_options[@]}" -qq source --download-only "curl=$version" >&2); then
    echo "static-libcurl.sh: no source of curl $version in the archive; building its newest" >&2
    (cd "$work" && apt-get "${apt_options[@]}" -qq source --download-only curl >&2)
fi
dsc=("$work"/curl_*.dsc)
(cd "$work" && dpkg-source --skip-patches -x "${dsc[0]}" src >&2)
source_version=$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Version)

# The OpenSSL flavour: the series without the two patches that make the GnuTLS and NSS ones.
src="$work/src"
while read -r patch _; do
    [[ -z $patch || $patch == \#* ]] && continue
    [[ $patch == 90_gnutls.patch || $patch == 99_nss.patch ]] && continue
    patch -d "$src" -p1 -s --no-backup-if-mismatch <"$src/debian/patches/$patch"
done <"$src/debian/patches/series"

lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
disabled=()
for feature in DICT FTP GOPHER IMAP LDAP LDAPS MQTT POP3 RTSP SMB SMTP TELNET TFTP NTLM; do
    disabled+=("-DCURL_DISABLE_$feature=ON")
done
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_C_FLAGS="-ffunction-sections -fdata-sections -DCURL_PATCHSTAMP=\\\"$source_version\\\"" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
    -DCURL_USE_OPENSSL=ON -DOPENSSL_USE_STATIC_LIBS=ON -DCURL_ZLIB=ON -DZLIB_LIBRARY="$lib/libz.a" \
    -DUSE_NGHTTP2=ON -DNGHTTP2_LIBRARY="$lib/libnghttp2.a" \
    -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DUSE_LIBIDN2=OFF -DCURL_USE_GSSAPI=OFF \
    -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DENABLE_THREADED_RESOLVER=ON \
    "${disabled[@]}" \
    -DCURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt -DCURL_CA_PATH=/etc/ssl/certs >&2
cmake --build "$work/build" >&2
cmake --install "$work/build" >&2
echo "$source_version" >"$prefix/source-version"
touch "$prefix/.complete"
echo "$prefix"
