# shellcheck shell=bash
# Sourced by the system tests (tests/system/*_test.sh): a minimal Debian root file system
# (mmdebstrap --variant=minbase, nothing added) to run ferry in with chroot, and nginx serving a
# directory on loopback. The root is built once, from Debian's registry through the machine's own
# apt sources, and cached as a tarball under ${FERRY_ROOT_CACHE:-/var/cache/ferry-tests}, keyed
# by the suite, the architecture, the apt sources and mmdebstrap's version; each test extracts
# its own copy and removes it on every exit.
#
# A test calls `system_test_begin NAME` first (which sets $work, its scratch directory), then
# `enter_root "$root"`.

die() {
    echo "$test_name: FAIL: $*" >&2
    exit 1
}

note() {
    echo "$test_name: $*"
}

# system_test_begin NAME: the test's name for messages, a scratch directory in $work, and the
# cleanup of everything below on exit. Exits 77 (CTest's skip code) where chroot cannot be used.
# option_value OPTION "$@": the real path given after OPTION (the tests' one argument).
option_value() {
    local option=$1 value=""
    shift
    while (($# > 0)); do
        case "$1" in
            "$option") value=$(realpath "$2"); shift ;;
            *) echo "unknown argument: $1" >&2; exit 2 ;;
        esac
        shift
    done
    printf '%s\n' "$value"
}

system_test_begin() {
    test_name=$1
    if [[ $(id -u) -ne 0 ]]; then
        echo "$test_name: skipped: chroot and mounts need root" >&2
        exit 77
    fi
    for tool in mmdebstrap chroot unshare nginx; do
        command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
            die "$tool is not installed (scripts/install-deps.sh --test)"
    done
    work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-$test_name.XXXXXX")
    nginx_pid=""
    trap system_test_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

system_test_cleanup() {
    local status=$?
    stop_nginx
    # --one-file-system: never into something mounted (in_root mounts nothing that outlives it).
    rm -rf --one-file-system "$work"
    if ((status == 0)); then
        note "OK"
    fi
    exit "$status"
}

# minimal_root_tarball: the path of the cached tarball of the minimal root, built if missing.
minimal_root_tarball() {
    local cache=${FERRY_ROOT_CACHE:-/var/cache/ferry-tests}
    local suite arch sources key
    suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    arch=$(dpkg --print-architecture)
    # The machine's own apt sources: one-line lists and deb822 files.
    sources=()
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -s $f ]] && grep -q '^[^#]' "$f" && sources+=("$f")
    done
    ((${#sources[@]} > 0)) || die "no apt sources in /etc/apt"
    key=$( { echo "$suite $arch minbase"; dpkg-query -W mmdebstrap; cat "${sources[@]}"; } |
        sha256sum | cut -c1-12)
    local tarball="$cache/minbase-$suite-$arch-$key.tar"
    if [[ ! -f $tarball ]]; then
        mkdir -p "$cache"
        # One build at a time: tests running side by side wait for the first.
        exec 8>"$cache/.minbase.lock"
        flock 8
        if [[ ! -f $tarball ]]; then
            note "building the minimal root (mmdebstrap --variant=minbase $suite), once: $tarball" >&2
            mmdebstrap --quiet --variant=minbase --format=tar "$suite" "$tarball.part" \
                "${sources[@]}" >&2 ||
                die "mmdebstrap failed"
            mv "$tarball.part" "$tarball"
        fi
        exec 8>&-
    fi
    echo "$tarball"
}

# enter_root DIR: DIR becomes a fresh minimal root, removed again by the test's cleanup.
enter_root() {
    local root=$1 tarball
    tarball=$(minimal_root_tarball)
    mkdir -p "$root"
    tar -xf "$tarball" -C "$root"
}

# in_root COMMAND...: runs COMMAND inside the test's root ($root) with chroot, with the
# environment of a fresh login and /proc mounted (ferry reads /proc/self/exe). The mount is made
# in a mount namespace of the command's own, so it goes when the command ends, however the test
# ends: nothing is ever left mounted below the test's directory.
in_root() {
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LANG=C.UTF-8 \
        unshare --mount --propagation private \
        /bin/sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
}

# wait_for_port PORT PID: until something accepts on 127.0.0.1:PORT (false if PID exits first
# or after 10 s).
wait_for_port() {
    local port=$1 pid=$2 deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        # A retry interval while the server starts, not a wait for it: the loop ends at the
        # first accepted connection.
        sleep 0.05
    done
    return 1
}

# start_nginx DIR: nginx serves DIR on a free loopback port; sets port.
start_nginx() {
    local root=$1 prefix="$work/nginx" attempt
    mkdir -p "$prefix"
    for attempt in 1 2 3 4 5; do
        # A port nothing accepts on; something may take it before nginx binds it, and then
        # nginx exits and the next attempt takes another.
        port=$((20000 + RANDOM % 30000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        cat >"$prefix/nginx.conf" <<EOT
worker_processes 1;
user root;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 64; }
http {
  access_log $prefix/access.log;
  client_body_temp_path $prefix/body;
  proxy_temp_path $prefix/proxy;
  fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi;
  scgi_temp_path $prefix/scgi;
  types { text/xml xml; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    root $root;
  }
}
EOT
        /usr/sbin/nginx -e "$prefix/error.log" -p "$prefix" -c "$prefix/nginx.conf" \
            -g 'daemon off;' &
        nginx_pid=$!
        if wait_for_port "$port" "$nginx_pid"; then
            return 0
        fi
        stop_nginx
        note "nginx did not start on port $port (attempt $attempt)"
    done
    die "nginx did not start on a loopback port: $(cat "$prefix/error.log" 2>/dev/null)"
}

stop_nginx() {
    if [[ -n ${nginx_pid:-} ]]; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
    fi
}

# same_tree A B: the files under A and B have the same paths and contents.
same_tree() {
    diff -r "$1" "$2" >/dev/null || die "$2 differs from $1: $(diff -rq "$1" "$2" | head -5)"
}
