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
# The installer starts with the packed ferry (its stub's libraries), which runs ferry itself.
cp "$ferry" "$root/tmp/ferry"

# Each soname a program needs is in the root, and is glibc's: the base set that minbase has and
# ferry may rely on; the root's own loader finds every one of them.
glibc='^(libc|libm|libdl|libpthread|librt|libresolv|ld-linux-[a-z0-9_-]+)\.so(\.[0-9]+)*$'
for program in /tmp/demo.run /tmp/ferry; do
    ldd "$root$program" >"$work/ldd" || die "ldd $program failed: $(cat "$work/ldd")"
    mapfile -t needed < <(awk '$1 != "linux-vdso.so.1" { print $1 }' "$work/ldd" | sed 's|.*/||')
    ((${#needed[@]} > 0)) || die "ldd $program lists nothing: $(cat "$work/ldd")"
    for soname in "${needed[@]}"; do
        [[ $soname =~ $glibc ]] ||
            die "$program needs $soname, which is not glibc's: $(cat "$work/ldd")"
        found=$(find "$root/lib" "$root/lib64" "$root/usr/lib" -name "$soname" -print -quit 2>/dev/null)
        [[ -n $found ]] || die "$program needs $soname, which the minimal root lacks"
    done
    in_root ldd "$program" >"$work/ldd-root" 2>&1 ||
        die "ldd $program in the root failed: $(cat "$work/ldd-root")"
    if grep -q 'not found' "$work/ldd-root"; then
        die "$program in the minimal root: $(grep 'not found' "$work/ldd-root")"
    fi
    note "$program needs only ${needed[*]}"
done
