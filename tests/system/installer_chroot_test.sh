#!/usr/bin/env bash
# An offline and an online installer made with the static ferry run inside a minimal Debian
# root (mmdebstrap --variant=minbase, nothing added) with chroot, as on a machine where none of
# ferry's build dependencies are installed; their maintenance tools list, check for updates,
# update and take a repository there. The online installer reads a repository that nginx serves
# on 127.0.0.1 (the chroot shares the network). docs/STATIC.md.
#
#   tests/system/installer_chroot_test.sh --ferry FERRY   (as root; CTest runs it, exit 77 skips)
set -euo pipefail
# shellcheck source=tests/system/minimal_root.sh
source "$(dirname "$0")/minimal_root.sh"
source_dir=$(realpath "$(dirname "$0")/../..")

ferry=$(option_value --ferry "$@")
[[ -x $ferry ]] || { echo "--ferry FERRY: the static ferry" >&2; exit 2; }

system_test_begin installer_chroot
root="$work/root"
enter_root "$root"

# check_installed DIR PACKAGES: every file of every component's data is in DIR with its content.
check_installed() {
    local dir=$1 packages=$2 data file
    for data in "$packages"/*/data; do
        while IFS= read -r -d '' file; do
            cmp -s "$data/$file" "$dir/$file" || die "$dir/$file is missing or differs from $data/$file"
        done < <(cd "$data" && find . -type f -print0)
    done
}

# The release after 1.0: com.example.app 1.0.1 with another README.txt.
cp -r "$source_dir/examples/packages" "$work/packages"
cp -r "$work/packages" "$work/packages-2"
sed -i 's|<Version>1.0.0</Version>|<Version>1.0.1</Version>|' \
    "$work/packages-2/com.example.app/meta/package.xml"
echo "Example App 1.0.1" >"$work/packages-2/com.example.app/data/README.txt"

note "offline installer"
"$ferry" installer create -q --name Demo --product-version 1.0 -p "$work/packages" \
    "$root/tmp/demo.run"
in_root /tmp/demo.run --root /opt/demo --accept-licenses install >"$work/offline.log" 2>&1 ||
    die "the offline installer failed in the minimal root: $(cat "$work/offline.log")"
check_installed "$root/opt/demo" "$work/packages"
[[ -x $root/opt/demo/maintenancetool ]] || die "no maintenancetool in /opt/demo"
in_root /opt/demo/maintenancetool list >"$work/list" || die "maintenancetool list failed"
grep -q '^com.example.app 1.0.0' "$work/list" || die "maintenancetool list: $(cat "$work/list")"
in_root /opt/demo/maintenancetool verify -q || die "maintenancetool verify failed"
# Without /proc the packed ferry finds its file by the path it was started by.
env -i PATH=/usr/bin:/bin /usr/sbin/chroot "$root" /opt/demo/maintenancetool list >"$work/list-noproc" 2>&1 ||
    die "maintenancetool list without /proc failed: $(cat "$work/list-noproc")"
grep -q '^com.example.app 1.0.0' "$work/list-noproc" ||
    die "maintenancetool list without /proc: $(cat "$work/list-noproc")"

note "online installer, repository on nginx"
mkdir -p "$work/www"
"$ferry" repogen -q -p "$work/packages" "$work/www/repo"
start_nginx "$work/www"
url="http://127.0.0.1:$port/repo"
"$ferry" installer create -q --name Demo --product-version 1.0 --repo "$url" -n \
    "$work/online.run"
# An online installer is the packed ferry beside the static one and its configuration, nothing
# more, and no larger than IFW's (about 5 MB).
installerbase="$(dirname "$ferry")/ferry-installerbase"
online_size=$(stat -c %s "$work/online.run")
base_size=$(stat -c %s "$installerbase")
note "online installer: $online_size bytes (packed ferry: $base_size, ferry: $(stat -c %s "$ferry"))"
((online_size - base_size < 64 * 1024)) ||
    die "the online installer carries $((online_size - base_size)) bytes besides the packed ferry"
((online_size <= 5000000)) || die "the online installer is $online_size bytes, more than 5 MB"
cp "$work/online.run" "$root/tmp/online.run"
in_root /tmp/online.run --root /opt/online --al install >"$work/online.log" 2>&1 ||
    die "the online installer failed in the minimal root: $(cat "$work/online.log")"
check_installed "$root/opt/online" "$work/packages"
grep -q 'GET /repo/Updates.xml' "$work/nginx/access.log" ||
    die "nginx served no Updates.xml to the online installer"

note "an update on the repository reaches both installations"
"$ferry" repogen -q --update -p "$work/packages-2" "$work/www/repo"
in_root /opt/online/maintenancetool check-updates >"$work/updates.xml" ||
    die "maintenancetool check-updates failed: $(cat "$work/updates.xml")"
# IFW's answer: <updates><update name="Example App" version="1.0.1" ... id="com.example.app"/>
grep -q '<update .*version="1.0.1".* id="com.example.app"' "$work/updates.xml" ||
    die "check-updates does not offer com.example.app 1.0.1: $(cat "$work/updates.xml")"
in_root /opt/online/maintenancetool update >"$work/update.log" 2>&1 ||
    die "maintenancetool update failed: $(cat "$work/update.log")"
check_installed "$root/opt/online" "$work/packages-2"
# The offline installation has no repository until it is given one.
in_root /opt/demo/maintenancetool repos add "$url" >/dev/null 2>&1 ||
    die "maintenancetool repos add failed"
in_root /opt/demo/maintenancetool update >"$work/update-offline.log" 2>&1 ||
    die "maintenancetool update (offline installation) failed: $(cat "$work/update-offline.log")"
check_installed "$root/opt/demo" "$work/packages-2"
in_root /opt/demo/maintenancetool list | grep -q '^com.example.app 1.0.1' ||
    die "the offline installation does not list com.example.app 1.0.1"
