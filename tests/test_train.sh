#!/bin/bash
# `clcnn train` end to end on a small subset of Fashion-MNIST: one epoch on
# 2,000 images must lower the loss and beat chance (10%) by a wide margin;
# saved weights must load back to the same test accuracy; two runs with the
# same seed must save identical files; truncated, corrupted and foreign
# weights files must be refused with a clear message; a missing data set
# must name the package to install.
#
# usage: test_train.sh CLCNN_BINARY [DATA_DIR]
# Exit 77 (skip) when there is no OpenCL device or no data set, unless
# CLCNN_REQUIRE_DEVICE=1, which makes both a failure.
set -u
clcnn=$1
data=${2:-/usr/share/datasets/fashion-mnist}
required=${CLCNN_REQUIRE_DEVICE:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if [ ! -r "$data/train-images-idx3-ubyte.gz" ] || [ ! -r "$data/t10k-images-idx3-ubyte.gz" ]; then
    echo "no Fashion-MNIST in $data (Debian package dataset-fashion-mnist)" >&2
    [ "$required" = 1 ] && fail "CLCNN_REQUIRE_DEVICE=1 but the data set is missing"
    exit 77
fi

# run NAME ARGS...: runs `clcnn train ARGS`, keeping stdout, stderr and the exit status.
run() {
    local name=$1
    shift
    "$clcnn" train --data "$data" "$@" >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.rc"
}
rc_of() { cat "$work/$1.rc"; }

# ---- one epoch on 2,000 images ----
run small --limit 2000 --epochs 1 --test-limit 1000 --seed 7 --save "$work/w.bin"
case $(rc_of small) in
0) ;;
77) echo "no OpenCL device: skipped" >&2; exit 77 ;;
*) cat "$work/small.out" "$work/small.err" >&2; fail "training on 2,000 images exited $(rc_of small)" ;;
esac
cat "$work/small.out"
# Progress lines (stderr, no terminal): "epoch 1/1: N/2000 images, loss X, ..."
first_loss=$(grep -m1 -o 'images, loss [0-9.]*' "$work/small.err" | awk '{print $3}')
last_loss=$(grep -o 'images, loss [0-9.]*' "$work/small.err" | tail -n1 | awk '{print $3}')
summary=$(grep '^epoch 1/1' "$work/small.out") || fail "no epoch summary in the output"
test_loss=$(echo "$summary" | sed -E 's/.*test loss ([0-9.]+).*/\1/')
accuracy=$(echo "$summary" | sed -E 's/.*test accuracy ([0-9.]+)%.*/\1/')
echo "running loss $first_loss -> $last_loss, test loss $test_loss, test accuracy $accuracy%"
[ -n "$first_loss" ] && [ -n "$last_loss" ] || fail "no progress lines on stderr"
awk -v a="$first_loss" -v b="$last_loss" 'BEGIN { exit !(b < a) }' ||
    fail "the running training loss did not fall ($first_loss -> $last_loss)"
# ln(10) = 2.303 is the loss of a uniform guess.
awk -v l="$test_loss" 'BEGIN { exit !(l < 1.5) }' || fail "test loss $test_loss is not well below chance (2.30)"
awk -v a="$accuracy" 'BEGIN { exit !(a > 50) }' || fail "test accuracy $accuracy% does not beat chance (10%) widely"

# ---- save / load round trip ----
[ -s "$work/w.bin" ] || fail "--save wrote no file"
run eval --eval-only --load "$work/w.bin" --test-limit 1000
[ "$(rc_of eval)" = 0 ] || { cat "$work/eval.err" >&2; fail "--eval-only --load exited $(rc_of eval)"; }
want=$(echo "$summary" | grep -o 'test loss [0-9.]*  test accuracy [0-9.]*% ([0-9/]*)')
got=$(grep -o 'test loss [0-9.]*  test accuracy [0-9.]*% ([0-9/]*)' "$work/eval.out")
[ -n "$want" ] && [ "$want" = "$got" ] || fail "loaded weights give \"$got\", training ended with \"$want\""
echo "round trip: $got"

# ---- same seed, same device: the same weights, bit for bit ----
run det1 --limit 320 --epochs 1 --test-limit 250 --seed 11 --save "$work/d1.bin"
# The same options spelled --opt=VALUE.
run det2 --limit=320 --epochs=1 --test-limit=250 --seed=11 --save="$work/d2.bin"
[ "$(rc_of det1)" = 0 ] && [ "$(rc_of det2)" = 0 ] || fail "the determinism runs failed"
cmp -s "$work/d1.bin" "$work/d2.bin" || fail "two runs with --seed 11 saved different weights"
run det3 --limit 320 --epochs 1 --test-limit 250 --seed 12 --save "$work/d3.bin"
cmp -s "$work/d1.bin" "$work/d3.bin" && fail "--seed 11 and --seed 12 saved identical weights"
echo "determinism: same seed, same bits"

# ---- damaged files are refused ----
# expect_refused NAME FILE PATTERN: --load FILE must exit 1 with PATTERN in its message.
expect_refused() {
    run "$1" --eval-only --load "$2" --test-limit 250
    [ "$(rc_of "$1")" = 1 ] || fail "$1: --load exited $(rc_of "$1"), expected 1"
    grep -q -- "$3" "$work/$1.err" || { cat "$work/$1.err" >&2; fail "$1: the message does not say \"$3\""; }
    echo "$1: $(head -n1 "$work/$1.err")"
}
size=$(stat -c %s "$work/w.bin")
head -c $((size - 100)) "$work/w.bin" >"$work/truncated.bin"
expect_refused truncated "$work/truncated.bin" "truncated"
head -c 20 "$work/w.bin" >"$work/header_only.bin"
expect_refused header_only "$work/header_only.bin" "truncated"
cp "$work/w.bin" "$work/flipped.bin"
# One byte in the middle of the weights, changed.
offset=$((size / 2))
byte=$(od -An -tu1 -j $offset -N1 "$work/w.bin" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$work/flipped.bin" bs=1 seek=$offset conv=notrunc status=none
expect_refused corrupted "$work/flipped.bin" "corrupted"
echo "this is not a weights file" >"$work/foreign.bin"
expect_refused foreign "$work/foreign.bin" "not a clcnn weights file"
expect_refused missing "$work/does-not-exist.bin" "cannot open"

# ---- usage and data errors ----
# expect_usage NAME TEXT ARGS...: `clcnn train ARGS` must exit 2 with TEXT in its message.
expect_usage() {
    local name=$1 text=$2
    shift 2
    run "$name" "$@"
    [ "$(rc_of "$name")" = 2 ] || fail "$name: exited $(rc_of "$name"), expected 2"
    grep -qF -- "$text" "$work/$name.err" || { cat "$work/$name.err" >&2; fail "$name: the message does not say \"$text\""; }
}
expect_usage no_load "--eval-only needs --load FILE" --eval-only
expect_usage bad_value '--lr wants a number from 0 to 100, not "fast"' --lr=fast
expect_usage no_value "--epochs needs a value" --limit 10 --epochs
expect_usage unknown 'unknown argument "extra"' --limit 10 extra
echo "usage errors: exit 2 with the option and the value named"
"$clcnn" train --data "$work/empty" --limit 10 >/dev/null 2>"$work/nodata.err"
rc=$?
[ $rc = 1 ] || fail "a missing data directory exited $rc, expected 1"
grep -q "dataset-fashion-mnist" "$work/nodata.err" || fail "the missing-data message does not name the package"
echo "missing data: $(head -n1 "$work/nodata.err")"
echo "PASS"
