#!/usr/bin/env bash
# The CPU reference (host/reference) is the oracle of every device test and
# must run where no OpenCL exists: its objects may not refer to any OpenCL
# symbol (clSomething).
# Usage: reference_no_opencl.sh OBJECT...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }
bad=$(nm -u "$@" | awk '$1 == "U" && $2 ~ /^cl[A-Z]/ {print $2}' | sort -u)
if [ -n "$bad" ]; then
  echo "the CPU reference refers to OpenCL symbols:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "$# reference objects, no OpenCL symbol"
