#!/usr/bin/env bash
# The shared libraries an installer made with the static ferry needs are all in a minimal Debian
# root (mmdebstrap --variant=minbase, nothing added): `ldd` of the installer lists only glibc's
# libraries, each of them present in that root, and ldd inside the root finds every one.
# docs/STATIC.md.
#
#   tests/system/installer_ldd_test.sh --ferry FERRY   (as root; CTest runs it, exit 77 skips)
set -euo pipefail
# shellcheck source=tests/system/minimal_root.sh
source "$(dirname "$0")/minimal_root.sh"
source_dir=$(realpath "$(dirname "$0")/../..")

ferry=$(option_value --ferry "$@")
[[ -x $ferry ]] || { echo "--ferry FERRY: the static ferry" >&2; exit 2; }

system_test_begin installer_ldd
root="$work/root"
enter_root "$root"

"$ferry" installer create -q --name Demo --product-version 1.0 -p "$source_dir/examples/packages" \
    "$root/tmp/demo.run"

# What the installer needs, by soname, as the machine's ldd resolves it.
ldd "$root/tmp/demo.run" >"$work/ldd" || die "ldd failed: $(cat "$work/ldd")"
mapfile -t needed < <(awk '$1 != "linux-vdso.so.1" { print $1 }' "$work/ldd" | sed 's|.*/||')
((${#needed[@]} > 0)) || die "ldd lists nothing: $(cat "$work/ldd")"

# Each is in the root, and is glibc's: the base set that minbase has and ferry may rely on.
glibc='^(libc|libm|libdl|libpthread|librt|libresolv|ld-linux-[a-z0-9_-]+)\.so(\.[0-9]+)*$'
for soname in "${needed[@]}"; do
    [[ $soname =~ $glibc ]] || die "the installer needs $soname, which is not glibc's: $(cat "$work/ldd")"
    found=$(find "$root/lib" "$root/lib64" "$root/usr/lib" -name "$soname" -print -quit 2>/dev/null)
    [[ -n $found ]] || die "the installer needs $soname, which the minimal root lacks"
done

# And the root's own loader finds every one of them.
in_root ldd /tmp/demo.run >"$work/ldd-root" 2>&1 || die "ldd in the root failed: $(cat "$work/ldd-root")"
if grep -q 'not found' "$work/ldd-root"; then
    die "in the minimal root: $(grep 'not found' "$work/ldd-root")"
fi
note "needs only ${needed[*]}"
