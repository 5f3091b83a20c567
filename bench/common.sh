# shellcheck shell=bash
# Helpers of the bench/ scripts that run servers, sourced after the script has set bench_name
# (for messages) and, before the first server starts, logs (a directory) and ferry (a binary).

die() {
    echo "bench/$bench_name: $*" >&2
    exit 1
}

need_tool() {  # need_tool COMMAND PACKAGE
    command -v "$1" >/dev/null || [[ -x "$1" ]] ||
        die "$1 is missing (Debian package $2; scripts/install-deps.sh --test installs it)"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() {  # two decimals, or three significant digits below 0.1
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else if (a / b < 0.1) printf "%.3g", a / b
        else printf "%.2f", a / b }'
}
less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
rate() {  # rate BYTES MS: MB/s (10^6 bytes)
    awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", b / 1e6 / (ms / 1000) }'
}

# run LOG COMMAND...: runs COMMAND with its output in LOG; on failure prints LOG and exits.
run() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "bench/$bench_name: failed: $*" >&2
        tail -30 "$log" | sed 's/^/    /' >&2
        exit 1
    fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {  # sets port to a loopback port nobody listens on
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 20000))
        port_open "$port" || return 0
    done
    die "found no free loopback port"
}

# wait_port PORT PID WHAT: waits up to 10 s for PORT to accept connections while PID lives.
wait_port() {
    local i
    for ((i = 0; i < 200; i++)); do
        port_open "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

# cpu_ticks PID...: user + system clock ticks of these processes.
cpu_ticks() {
    local pid sum=0 stat
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        stat=${stat##*) }  # the fields after the command name
        sum=$((sum + $(awk '{ print $12 + $13 }' <<<"$stat")))
    done
    echo "$sum"
}

ferry_pid=""
stop_ferry() {
    if [[ -n "$ferry_pid" ]]; then
        kill -TERM "$ferry_pid" 2>/dev/null || true
        wait "$ferry_pid" 2>/dev/null || true
        ferry_pid=""
    fi
}

start_ferry() {  # start_ferry DATA: sets ferry_port, ferry_url
    free_port
    ferry_port=$port
    "$ferry" serve --data "$1" --listen "127.0.0.1:$ferry_port" -q >>"$logs/serve.log" 2>&1 &
    ferry_pid=$!
    if ! wait_port "$ferry_port" "$ferry_pid"; then
        cat "$logs/serve.log" >&2
        die "ferry serve did not start on 127.0.0.1:$ferry_port"
    fi
    ferry_url="http://127.0.0.1:$ferry_port"
}

# publish_token DATA: prints a new publish token of the market in DATA.
publish_token() {
    local token
    token=$("$ferry" token create --data "$1" --role publish 2>"$logs/token.log" | tail -1)
    [[ $token == ferry_* ]] || die "ferry token create printed no token: $token $(cat "$logs/token.log")"
    echo "$token"
}

# machine_facts: sets cpu, os and memory for the results' header.
machine_facts() {
    cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
    # shellcheck disable=SC1091
    os=$(. /etc/os-release && echo "$PRETTY_NAME")
    memory=$(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }')
}

# disk_facts DIR: sets disk to the device and file system holding DIR, with the disk's model and
# whether it is rotational when lsblk knows them.
disk_facts() {
    local device model
    disk=$(findmnt -no SOURCE,FSTYPE -T "$1" 2>/dev/null | awk '{ print $1 " (" $2 ")" }')
    device=$(df --output=source "$1" 2>/dev/null | tail -1)
    if model=$(lsblk -dno MODEL,ROTA "$(lsblk -no PKNAME "$device" 2>/dev/null | head -1 | sed 's|^|/dev/|')" \
        2>/dev/null) && [[ -n "$model" ]]; then
        disk+=", $(awk '{ r = $NF; $NF = ""; printf "%s%s", $0, (r == 1 ? "rotational" : "non-rotational") }' <<<"$model")"
    fi
    disk=${disk:-unknown}
}

# source_commit: the short commit of the source tree, saying when files outside bench/ differ.
source_commit() {
    local commit
    commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n "$(git -C "$repo_root" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null)" ]]; then
        commit+=" with uncommitted changes outside bench/"
    fi
    echo "$commit"
}

# release_ferry: sets ferry (and ferry_origin) to the --ferry binary given, or builds the
# Release binary in build/release when none was.
release_ferry() {
    if [[ -z "$ferry" ]]; then
        "$repo_root/scripts/install-deps.sh" --test
        cmake -S "$repo_root" -B "$repo_root/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DFERRY_TESTS=OFF >/dev/null
        ninja -C "$repo_root/build/release" -j1 ferry
        ferry="$repo_root/build/release/ferry"
        ferry_origin="built from the source tree (Release)"
    else
        ferry_origin="the binary given with --ferry ($(realpath "$ferry"))"
    fi
    [[ -x "$ferry" ]] || die "$ferry: not an executable ferry binary"
    ferry=$(realpath "$ferry")
}

# The targets of a run: target NAME PASSED MEASURED adds a row (PASSED: true or false, e.g. from
# passes COMMAND...), targets_table prints them with the verdict.
target_rows=()
failed_targets=0
target() {  # target NAME PASSED MEASURED
    local verdict=PASS
    if [[ "$2" != true ]]; then
        verdict=FAIL
        failed_targets=$((failed_targets + 1))
    fi
    target_rows+=("| $1 | $verdict | $3 |")
}
passes() { "$@" && echo true || echo false; }
targets_table() {
    echo "| Target | Result | Measured |"
    echo "|--------|--------|----------|"
    printf '%s\n' "${target_rows[@]}"
    echo
    if ((failed_targets == 0)); then
        echo "All ${#target_rows[@]} targets met."
    else
        echo "$failed_targets of the ${#target_rows[@]} targets missed (FAIL above, with the measured numbers)."
    fi
}
