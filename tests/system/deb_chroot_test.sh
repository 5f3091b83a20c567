#!/usr/bin/env bash
# The .deb of the static build (CPack) installs with `apt-get install ./ferry_*.deb` in a
# minimal Debian root (mmdebstrap --variant=minbase, nothing added, no package lists) and works
# there: ferry --version, repogen (the name installed beside ferry) and an install from a
# file:// repository, and an installer made there starts with the packed ferry the package
# installs; its man pages and bash completion are where Debian keeps them. docs/STATIC.md.
#
#   tests/system/deb_chroot_test.sh --build BUILD_DIR   (as root; CTest runs it, exit 77 skips)
set -euo pipefail
# shellcheck source=tests/system/minimal_root.sh
source "$(dirname "$0")/minimal_root.sh"
source_dir=$(realpath "$(dirname "$0")/../..")

build=$(option_value --build "$@")
[[ -f $build/CPackConfig.cmake ]] || { echo "--build BUILD_DIR: the static build" >&2; exit 2; }

system_test_begin deb_chroot
root="$work/root"
enter_root "$root"

cpack --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1 ||
    die "cpack failed: $(cat "$work/cpack.log")"
debs=("$work"/deb/ferry_*.deb)
[[ -f ${debs[0]} ]] || die "cpack made no ferry_*.deb: $(ls "$work/deb")"
deb=${debs[0]}
depends=$(dpkg-deb -f "$deb" Depends)
note "$(basename "$deb"): Depends: $depends"
# Only glibc is shared in the static build.
[[ $depends =~ ^libc6(\ \(\>=\ [0-9.]+\))?$ ]] || die "the static build's .deb depends on: $depends"

cp "$deb" "$root/tmp/"
in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" \
    >"$work/apt.log" 2>&1 || die "apt-get install failed: $(cat "$work/apt.log")"

version=$(in_root ferry --version) || die "ferry --version failed"
[[ $version == "ferry "[0-9]* ]] || die "ferry --version printed: $version"
[[ -L $root/usr/bin/repogen && $(readlink "$root/usr/bin/repogen") == ferry ]] ||
    die "/usr/bin/repogen is not a link to ferry"
for file in usr/share/man/man1/ferry.1.gz usr/share/man/man1/repogen.1.gz \
    usr/share/man/man1/ferry-install.1.gz usr/share/bash-completion/completions/ferry \
    usr/share/bash-completion/completions/repogen usr/share/zsh/vendor-completions/_ferry; do
    [[ -e $root/$file ]] || die "the package installed no /$file"
done

cp -r "$source_dir/examples/packages" "$root/tmp/packages"
in_root repogen -q -p /tmp/packages /tmp/repo || die "repogen failed in the minimal root"
[[ -f $root/tmp/repo/Updates.xml ]] || die "repogen wrote no Updates.xml"
in_root ferry install -q --root /opt/example --repo file:///tmp/repo --accept-licenses ||
    die "ferry install from file:///tmp/repo failed"
while IFS= read -r -d '' file; do
    cmp -s "$root/tmp/packages/com.example.app/data/$file" "$root/opt/example/$file" ||
        die "/opt/example/$file is missing or differs"
done < <(cd "$root/tmp/packages/com.example.app/data" && find . -type f -print0)
in_root ferry verify -q --root /opt/example || die "ferry verify failed"
in_root dpkg -s ferry >/dev/null || die "dpkg does not know ferry"

# Installers made there start with the packed ferry the package installs in /usr/lib/ferry.
[[ -x $root/usr/lib/ferry/ferry-installerbase && -x $root/usr/lib/ferry/ferry-stub ]] ||
    die "the package installed no /usr/lib/ferry/ferry-installerbase and ferry-stub"
in_root ferry installer create -q --name Demo -p /tmp/packages /tmp/demo.run ||
    die "ferry installer create failed in the minimal root"
demo_size=$(stat -c %s "$root/tmp/demo.run")
((demo_size < $(stat -c %s "$root/usr/bin/ferry"))) ||
    die "the installer ($demo_size bytes) does not start with the packed ferry"
in_root /tmp/demo.run --root /opt/demo --al install >"$work/demo.log" 2>&1 ||
    die "the installer made in the root failed: $(cat "$work/demo.log")"
[[ -x $root/opt/demo/maintenancetool ]] || die "the installer left no maintenancetool"
