#!/usr/bin/env bash
# Runs a test program under Oclgrind with GPU-like limits (256 work-items per
# group, 48 KiB of local memory; CLCNN_OCLGRIND_MAX_WGSIZE and
# CLCNN_OCLGRIND_LOCAL_MEM set others), race and uninitialised-value detection.
# Fails if the program fails or Oclgrind reports anything (out-of-bounds
# access, data race, uninitialised read, barrier divergence, API misuse).
# Usage: oclgrind_run.sh PROGRAM [ARGS...]
set -uo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
log=$dir/log
# Oclgrind's --log file is opened (and truncated) again by every OpenCL
# context a program creates, which erases what earlier contexts reported
# (a program that creates one after a report would pass). Oclgrind writes
# into a pipe instead, where truncating does nothing, and `cat` keeps it
# all; fd 3 holds the pipe open for writing so that `cat` does not stop
# when one context closes it.
mkfifo "$dir/pipe"
cat "$dir/pipe" >"$log" &
reader=$!
exec 3>"$dir/pipe"
# -cl-opt-disable: the uninitialised-value plugin cannot follow the LLVM
# `freeze` instructions that optimisation introduces (Oclgrind 21 aborts).
# CLCNN_OCLGRIND_NO_UNINIT=1 leaves that plugin out, for programs that run
# many shapes in one process: the plugin keeps a released buffer's record
# of defined bytes for the next buffer in its slot, and so reports loads of
# workspaces and outputs that were written (and, for host writes at an
# offset, of sub-buffers); tests/oclgrind_uninit_repro.c shows both
# without clcnn, and test oclgrind_uninit_repro fails once Oclgrind is
# fixed. tests/oclgrind_check.sh gives every op the plugin, one shape per
# process.
# CLCNN_OCLGRIND_OPTIMIZE=1 (with CLCNN_OCLGRIND_NO_UNINIT=1) builds the
# kernels optimised, as devices do: local-memory GEMMs then simulate many
# times faster.
uninit=--uninitialized
[ "${CLCNN_OCLGRIND_NO_UNINIT:-0}" = 1 ] && uninit=
build_options=-cl-opt-disable
[ -z "$uninit" ] && [ "${CLCNN_OCLGRIND_OPTIMIZE:-0}" = 1 ] && build_options=
CLCNN_DEVICE=oclgrind oclgrind --data-races $uninit --check-api \
    ${build_options:+--build-options "$build_options"} \
    --max-wgsize "${CLCNN_OCLGRIND_MAX_WGSIZE:-256}" --local-mem-size "${CLCNN_OCLGRIND_LOCAL_MEM:-49152}" \
    --log "$dir/pipe" "$@" 3>&-
rc=$?
exec 3>&-
wait "$reader"
if [ -s "$log" ]; then
  echo "Oclgrind reported:"
  head -c 20000 "$log"
  exit 1
fi
exit $rc
