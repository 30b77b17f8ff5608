#!/bin/sh
# A planner's host-only test, then gcov's branch count of its planner files:
# fails when the test fails or when any branch of a planner file was never
# taken (a rule no case reaches is untested, or dead).
#   planner_branches.sh TEST_BINARY OBJECT_DIR PLANNER.c...
# OBJECT_DIR holds the planner objects compiled with --coverage; their
# .gcda counts are removed first, so that only this run counts.
set -eu
binary=$1 objects=$(cd "$2" && pwd)
shift 2
find "$objects" -name '*.gcda' -delete
"$binary"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for source in "$@"; do
  name=$(basename "$source")
  gcda=$(find "$objects" -name "$name.gcda" | head -n 1)
  if [ -z "$gcda" ]; then
    echo "planner_branches: no coverage data for $source under $objects" >&2
    exit 1
  fi
  (cd "$work" && gcov -b -o "$gcda" "$source" >report.txt 2>&1) || { cat "$work/report.txt" >&2; exit 1; }
  # The report's section for this file: "Taken at least once:P% of N".
  taken=$(awk -v f="File '$source'" '$0 == f {on = 1; next} /^File / {on = 0}
                                     on && /^Taken at least once:/ {print; exit}' "$work/report.txt")
  echo "$name: $taken"
  case "$taken" in
  *"100.00% of"*) ;;
  *)
    status=1
    gcov_file="$work/$name.gcov"
    if [ -f "$gcov_file" ]; then
      echo "  branches never taken (line: source):" >&2
      awk '/^branch +[0-9]+ never executed|^branch +[0-9]+ taken 0%/ {print "  " last} /^ +[0-9#-]+:/ {last = $0}' \
        "$gcov_file" | uniq >&2
    fi
    ;;
  esac
done
exit $status
