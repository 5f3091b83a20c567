# Deterministic benchmark data, sourced by the bench/ scripts: English-like text and
# pseudo-random bytes that are the same on every machine. Needs awk, openssl and sha256sum.

# Word list for the text files: frequent words first, so that the skewed draw below gives a
# word-frequency curve like real prose.
readonly vocabulary="the of and to a in is that for it as with be on by this are or from at
which an not can you all will if one has more when use file they their was also other
each these may new only into its data version component installer repository package update
server client archive user system directory install path network release default value
option build support should any time must before after first then been such over some
where there would about under between through without during while because both most
application library runtime configuration license manual documentation service settings
source target download mirror checksum signature metadata index entry folder binary script
module interface platform network proxy timeout retry cache local remote online offline
program feature error warning message report result request response connection security
key certificate trusted provider vendor customer machine device storage memory process
thread queue schedule window screen language translation format encoding character number
size limit range list table record field name label title description note example section
chapter page step task action event state status change history log output input command
line argument parameter variable function method class object type instance reference
pointer buffer stream block chunk frame layer level mode phase stage order sequence group
set map tree graph node edge link route address host port protocol session token account
role permission policy rule check test case suite run job"

# Writes BYTES of deterministic English-like text, wrapped at 72 columns, drawn with a
# Park-Miller generator (exact in any awk's doubles, so every awk gives the same bytes).
text_file() {
    local path=$1 bytes=$2 seed=$3
    awk -v bytes="$bytes" -v seed="$seed" -v vocab="$vocabulary" '
        function rnd() { x = (x * 16807) % 2147483647; return x / 2147483647 }
        function emit(s,   left) {
            s = s "\n"
            left = bytes - written
            if (length(s) >= left) { printf "%s", substr(s, 1, left); exit }
            printf "%s", s
            written += length(s)
        }
        BEGIN {
            n = split(vocab, V, /[ \n]+/)
            x = seed
            line = ""
            while (1) {
                words = 5 + int(rnd() * 15)
                for (i = 1; i <= words; i++) {
                    r = rnd()
                    w = V[1 + int(n * r * r)]
                    if (i == 1) w = toupper(substr(w, 1, 1)) substr(w, 2)
                    if (i == words) w = w "."
                    else if (rnd() < 0.08) w = w ","
                    if (line != "" && length(line) + 1 + length(w) > 72) { emit(line); line = w }
                    else line = (line == "" ? w : line " " w)
                }
                if (rnd() < 0.15) { emit(line); emit(""); line = "" }
            }
        }' >"$path"
}

# Writes BYTES of deterministic pseudo-random (incompressible) data: AES-256-CTR keystream
# under a key derived from SEED.
random_file() {
    local path=$1 bytes=$2 seed=$3 key
    key=$(printf '%s' "$seed" | sha256sum | cut -c1-64)
    head -c "$bytes" /dev/zero |
        openssl enc -aes-256-ctr -K "$key" -iv 00000000000000000000000000000000 >"$path"
}

# The packages tree of bench/repogen, also installed by bench/installer.
# make_tree DIR COMPONENTS RANDOM_BYTES TEXT_FILES TEXT_BYTES: DIR/com.bench.cNN/{meta,data}.
make_tree() {
    local dir=$1 count=$2 random_bytes=$3 text_files=$4 text_bytes=$5 i j name
    mkdir -p "$dir"
    for ((i = 1; i <= count; i++)); do
        name=$(printf 'com.bench.c%02d' "$i")
        mkdir -p "$dir/$name/meta" "$dir/$name/data/docs"
        cat >"$dir/$name/meta/package.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<Package>
    <DisplayName>Bench component $i</DisplayName>
    <Description>Benchmark component $i: a binary payload and its text documentation.</Description>
    <Version>1.0.0</Version>
    <ReleaseDate>2026-01-01</ReleaseDate>
</Package>
EOT
        random_file "$dir/$name/data/payload.bin" "$random_bytes" "ferry-bench/$name/payload"
        for ((j = 1; j <= text_files; j++)); do
            text_file "$dir/$name/data/docs/manual-$j.txt" "$text_bytes" $((1000 * i + j))
        done
    done
}

# repogen_tree WORK: sets tree to WORK/tree/packages, bench/repogen's full tree (20 components,
# each a 5 MiB random file and five 1 MiB text files, about 200 MB), generated there once and
# reused while WORK/tree/complete matches.
repogen_tree() {
    local work=$1 spec="ferry bench tree v1: 20 components, 5 MiB random + 5 x 1 MiB text"
    # shellcheck disable=SC2034  # the caller reads it
    tree="$work/tree/packages"
    if [[ "$(cat "$work/tree/complete" 2>/dev/null)" != "$spec" ]]; then
        echo "Generating the packages tree in bench/work/tree (once; about 200 MB) ..."
        rm -rf "$work/tree" "$work/tree.partial"
        make_tree "$work/tree.partial/packages" 20 $((5 * 1024 * 1024)) 5 $((1024 * 1024))
        echo "$spec" >"$work/tree.partial/complete"
        mv "$work/tree.partial" "$work/tree"
    fi
}


# Container images for the services and bundle benchmarks; they work in $work and date their
# files at $source_date_epoch, which the sourcing script sets.

# make_image OUT TAG FILE:BYTES...: writes the docker-save archive OUT of an image tagged TAG
# whose layers each hold one file of pseudo-random bytes, /FILE (seeded by its name: the same
# FILE and BYTES make the same layer in every image); sets image_bytes (the layers and config).
make_image() {
    local out=$1 tag=$2 dir spec file bytes hex config config_hex diff_ids="" layer_paths=""
    shift 2
    dir=$(mktemp -d "$work/image.XXXXXX")
    mkdir "$dir/image"
    image_bytes=0
    for spec in "$@"; do
        file=${spec%%:*} bytes=${spec#*:}
        mkdir -m 755 "$dir/root"
        random_file "$dir/root/$file" "$bytes" "ferry-bench-services/$file"
        chmod 644 "$dir/root/$file"
        tar --sort=name --mtime=@$source_date_epoch --owner=0 --group=0 --numeric-owner \
            -cf "$dir/layer.tar" -C "$dir/root" .
        rm -r "$dir/root"
        hex=$(sha256sum "$dir/layer.tar" | cut -c1-64)
        mkdir "$dir/image/$hex"
        mv "$dir/layer.tar" "$dir/image/$hex/layer.tar"
        printf '1.0' >"$dir/image/$hex/VERSION"
        printf '{}' >"$dir/image/$hex/json"
        image_bytes=$((image_bytes + $(stat -c %s "$dir/image/$hex/layer.tar")))
        diff_ids+="${diff_ids:+,}\"sha256:$hex\""
        layer_paths+="${layer_paths:+,}\"$hex/layer.tar\""
    done
    config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]}}"
    config_hex=$(printf '%s' "$config" | sha256sum | cut -c1-64)
    printf '%s' "$config" >"$dir/image/$config_hex.json"
    image_bytes=$((image_bytes + ${#config}))
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' \
        "$config_hex" "$tag" "$layer_paths" >"$dir/image/manifest.json"
    printf '{}' >"$dir/image/repositories"
    mkdir -p "$(dirname "$out")"
    tar -cf "$out" -C "$dir/image" .
    rm -r "$dir"
}

package_xml() {  # package_xml DIR TITLE DESCRIPTION VERSION
    mkdir -p "$1/meta" "$1/data"
    cat >"$1/meta/package.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<Package>
    <DisplayName>$2</DisplayName>
    <Description>$3</Description>
    <Version>$4</Version>
    <ReleaseDate>2026-01-01</ReleaseDate>
</Package>
EOT
}

# service_component DIR NAME TITLE FILE:BYTES...: a service component whose image is
# bench/NAME:1.0.0 made of those layers; sets image_bytes.
service_component() {
    local dir=$1 name=$2 title=$3
    shift 3
    package_xml "$dir" "$title" "A container image of random layers for the services benchmark." 1.0.0
    cat >"$dir/meta/service.yaml" <<EOT
image: bench/$name:1.0.0
command: [/bin/sh]
EOT
    make_image "$dir/data/image.tar" "bench/$name:1.0.0" "$@"
}

# write_section RESULTS_MD NAME SECTION_FILE: prints RESULTS_MD with the section NAME (from its
# "<!-- bench/NAME:" line up to the next "<!-- bench/" line or the end) replaced by the contents
# of SECTION_FILE, or with SECTION_FILE appended when it has no such section. What comes before
# the first marker (bench/repogen's part) and the other scripts' sections stay as they are, one
# blank line between sections.
write_section() {
    local md=$1 name=$2 new=$3
    [[ -f "$md" ]] || md=/dev/null
    awk -v name="$name" -v new="$new" '
        BEGIN { k = 0 }
        function out(t) {
            sub(/\n+$/, "\n", t)
            if (t == "" || t == "\n") return
            if (printed) printf "\n"
            printf "%s", t
            printed = 1
        }
        /^<!-- bench\/[A-Za-z0-9_-]+:/ {
            k++
            key[k] = $0
            sub(/^<!-- bench\//, "", key[k])
            sub(/:.*/, "", key[k])
        }
        { text[k] = text[k] $0 "\n" }
        END {
            while ((getline line < new) > 0) replacement = replacement line "\n"
            for (i = 0; i <= k; i++) {
                if (i > 0 && key[i] == name) { out(replacement); found = 1 }
                else out(text[i])
            }
            if (!found) out(replacement)
        }' "$md"
}
