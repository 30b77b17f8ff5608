#!/usr/bin/env bash
# Oclgrind's false uninitialised-value reports (tests/oclgrind_uninit_repro.c
# explains them), checked both ways so that the exclusions that rest on
# them stay checkable, and that oclgrind_run.sh keeps reports made before a
# program's next OpenCL context:
# `fresh` must be clean; `reuse` and `offset` must compute the right values
# and still be reported. The day Oclgrind stops reporting one of them, this
# test fails: the uninitialised-value plugin can then go on where it is off
# for that report (reuse: the conv suites under Oclgrind; offset:
# oclgrind_embed; docs/testing.md, "Oclgrind").
# Usage: oclgrind_uninit_repro.sh PROGRAM KERNEL_FILE
set -uo pipefail
here=$(dirname "$0")
program=$1
kernel=$2

if ! out=$(bash "$here/oclgrind_run.sh" "$program" fresh "$kernel" 2>&1); then
  echo "FAILED: fill and copy on fresh buffers are not clean under Oclgrind:"
  echo "$out" | head -40
  exit 1
fi
summary="fresh clean"
for mode in reuse offset; do
  out=$(bash "$here/oclgrind_run.sh" "$program" "$mode" "$kernel" 2>&1)
  if ! grep -q '^values right' <<<"$out"; then
    echo "FAILED: $mode computed wrong values:"
    echo "$out" | head -40
    exit 1
  fi
  reports=$(grep -c 'Uninitialized value written to global memory' <<<"$out")
  if [ "$reports" = 0 ]; then
    echo "Oclgrind no longer makes the false reports of mode $mode"
    echo "(tests/oclgrind_uninit_repro.c): turn the uninitialised-value plugin"
    echo "on where docs/testing.md (\"Oclgrind\") says it is off for them, and"
    echo "drop that mode here."
    echo "$out" | head -40
    exit 1
  fi
  summary="$summary; $mode right and reported ($reports false reports)"
done
echo "oclgrind_uninit_repro: $summary"
exit 0
