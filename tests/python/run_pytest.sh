#!/usr/bin/env bash
# Runs the Python package's tests with pytest.
# Usage: run_pytest.sh PYTHON PACKAGE_PARENT TEST_DIR [pytest arguments]
# PYTHON empty: no interpreter with numpy and pytest was found at configure
# time; that is a skip (77), or a failure with CLCNN_REQUIRE_DEVICE=1 (CI).
set -euo pipefail
python=$1 package_parent=$2 test_dir=$3
shift 3
if [ -z "$python" ]; then
  echo "no python3 with numpy and pytest (apt-get install python3-numpy python3-pytest, or set CLCNN_PYTHON)"
  [ "${CLCNN_REQUIRE_DEVICE:-0}" = 1 ] && exit 1
  exit 77
fi
# The tests must see this source tree's package, and write no bytecode or
# cache into it.
export PYTHONPATH="$package_parent${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
cd "$test_dir"
exec "$python" -m pytest -p no:cacheprovider -q -rs "$@" .
