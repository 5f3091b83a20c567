#!/usr/bin/env bash
# Installs the Debian packages ferry needs. Idempotent: installs only what is missing and
# refreshes the package lists only when something has to be installed.
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   build + test dependencies
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build pkg-config
    libarchive-dev libssl-dev libpugixml-dev nlohmann-json3-dev libcli11-dev libfmt-dev
)
test_packages=(libgtest-dev libgmock-dev p7zip-full libarchive-tools)

wanted=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
    wanted+=("${test_packages[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
