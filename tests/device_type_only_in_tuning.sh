#!/usr/bin/env bash
# The device type picks the tuning table's default column and nothing else
# (docs/tuning.md): every planner under host/ops, and the runtime's launch
# helpers, read the tuning, so that CLCNN_TUNE=table=gpu on a CPU plans what
# a GPU gets. Only the runtime files that query the device (context.c,
# device.c), hold its facts (internal.h) and pick the column (tuning.c)
# may name the device type.
# Usage: device_type_only_in_tuning.sh SOURCE_DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
cd "$1"
allowed='^host/runtime/(tuning\.c|context\.c|device\.c|internal\.h):'
files=$(find host/ops host/runtime -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "no sources under host/ops or host/runtime" >&2; exit 2; }
bad=$(grep -nE 'device_type|CL_DEVICE_TYPE' $files | grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
  echo "these lines read the device type; make the choice a key of host/runtime/tuning_table.h instead:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "$(echo "$files" | wc -l) sources under host/ops and host/runtime, the device type only in the allowed ones"
