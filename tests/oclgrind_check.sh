#!/usr/bin/env bash
# Every op of a family under Oclgrind with all its checks, the
# uninitialised-value plugin included: `clcnn check --cases 1` with a
# single --op per process, over seeds FIRST..LAST, so that each process
# launches kernels for one random shape (both pool modes on one shape for
# pooling backward). One shape per process keeps the plugin clear of its
# false reports on buffers that take a released buffer's slot, which every
# later shape in a process meets (tests/oclgrind_uninit_repro.c); the conv
# suites under Oclgrind run with the plugin off for that reason, so this is
# where the conv kernels get it. Odd seeds run the CPU column of the tuning
# table (CLCNN_TUNE=table=cpu: the register-tiled conv kernels, dW by whole
# rows), which Oclgrind gets unset (it calls itself every device type, CPU
# included), even seeds the GPU column (the local-memory GEMMs where a
# blocking fits).
# FAMILY picks the ops from `clcnn check --help`: conv (conv_* but the
# _ex ones), conv_ex (conv_*_ex), pool (pool_*) or other (every other op).
# (Every eighth seed draws large shapes, clcnn check's LARGE_EVERY.)
# Usage: oclgrind_check.sh CLCNN_BINARY f32|f64 FIRST LAST conv|conv_ex|pool|other
set -uo pipefail
here=$(dirname "$0")
clcnn=$1
dtype=$2
first=$3
last=$4
family=$5

# The op names, one a line, as `clcnn check --help` lists them.
all_ops=$("$clcnn" check --help | sed -n '/--op OP/,/--verbose/p' | grep -oE '^ +[a-z0-9_]+,?$' | tr -d ' ,')
case $family in
  conv) ops=$(grep -E '^conv_' <<<"$all_ops" | grep -vE '_ex$') ;;
  conv_ex) ops=$(grep -E '^conv_.*_ex$' <<<"$all_ops") ;;
  pool) ops=$(grep -E '^pool_' <<<"$all_ops") ;;
  other) ops=$(grep -vE '^(conv|pool)_' <<<"$all_ops") ;;
  *) echo "oclgrind_check.sh: no family $family (conv, conv_ex, pool, other)"; exit 2 ;;
esac
if [ -z "$ops" ]; then
  echo "oclgrind_check.sh: no $family ops in \`$clcnn check --help\`"
  exit 1
fi

failed=0
runs=0
for seed in $(seq "$first" "$last"); do
  table=gpu
  [ $((seed % 2)) = 1 ] && table=cpu
  for op in $ops; do
    runs=$((runs + 1))
    if ! out=$(CLCNN_TUNE=table=$table bash "$here/oclgrind_run.sh" "$clcnn" check --cases 1 --seed "$seed" \
                --dtype "$dtype" --op "$op" --verbose 2>&1); then
      echo "FAILED: CLCNN_TUNE=table=$table clcnn check --cases 1 --seed $seed --dtype $dtype --op $op under Oclgrind"
      echo "$out" | head -60
      failed=1
    fi
  done
done
[ $failed = 0 ] && echo "oclgrind_check $family $dtype: $runs runs clean ($(echo $ops | tr ' ' ',') over seeds $first-$last)"
exit $failed
