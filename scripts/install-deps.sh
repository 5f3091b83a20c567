#!/usr/bin/env bash
# Installs the Debian packages ferry needs. Idempotent: installs only what is missing and
# refreshes the package lists only when something has to be installed.
#   scripts/install-deps.sh            build dependencies
#   scripts/install-deps.sh --static   build dependencies + the static build's (scripts/build-static)
#   scripts/install-deps.sh --test     all of them + test dependencies
set -euo pipefail

# help2man writes the man pages from the commands' help (packaging/).
build_packages=(
    build-essential cmake ninja-build pkg-config
    libarchive-dev libssl-dev libcurl4-openssl-dev libpugixml-dev nlohmann-json3-dev
    libcli11-dev libfmt-dev libsqlite3-dev zlib1g-dev liblzma-dev libboost-dev libyaml-cpp-dev
    help2man
)
# The static build (docs/STATIC.md): clang, as CI builds, and the static libraries that
# libarchive and libcurl need which the packages above do not bring. dpkg-dev unpacks the source
# package scripts/static-libcurl.sh builds libcurl from, and computes the .deb's Depends.
static_packages=(clang libzstd-dev liblz4-dev libacl1-dev libnghttp2-dev dpkg-dev)
# nginx serves repositories to the end-to-end tests and bench/client; they start their own
# instances. bench/client also compares against bsdtar (libarchive-tools) and measures peak RSS
# with /usr/bin/time (time). bench/market loads ferry serve and nginx with wrk, fills a market's
# catalog with sqlite3 and checks responses with curl. The tests' HTTP clients and stand-in
# servers are cpp-httplib's. The fuzz targets are built with clang and its libFuzzer runtime
# (libclang-rt-dev). The docker tests start their own dockerd (docker.io) and build their images
# from busybox-static, so nothing is pulled; docker-compose, skopeo, podman and docker-registry
# are the outside witnesses of images and compose projects; shellcheck checks the shell scripts.
# mmdebstrap makes the minimal Debian root the static build's tests run ferry in (tests/system/).
test_packages=(libgtest-dev libgmock-dev libcpp-httplib-dev p7zip-full libarchive-tools nginx util-linux openssl time
               wrk sqlite3 curl clang libclang-rt-dev
               docker.io docker-compose skopeo podman docker-registry busybox-static shellcheck
               iproute2 mmdebstrap)

wanted=("${build_packages[@]}")
case "${1:-}" in
    --static) wanted+=("${static_packages[@]}") ;;
    --test) wanted+=("${static_packages[@]}" "${test_packages[@]}") ;;
esac

missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

# Root installs directly; anyone else needs sudo, and is told so when it is missing.
as_root=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps.sh: missing packages (${missing[*]}); run as root or install sudo" >&2
        exit 1
    fi
    as_root=(sudo)
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# Packages such as nginx would start a system service on installation; the tests start their
# own, so services stay down while installing (policy-rc.d exit 101: "action forbidden"). The
# policy is removed on every exit, an interrupted one included: left behind, it would forbid
# every service start on the machine.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    trap '"${as_root[@]}" rm -f "$policy"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod +x "$policy"
fi
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
