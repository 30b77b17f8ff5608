#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then builds the README's
# examples against it twice: with pkg-config and with find_package(clcnn):
# conv_layer.c (clcnn.h) and own_queue.c (clcnn_cl.h, OpenCL objects of its
# own). Then runs the installed Python package from a clean directory, with
# no build tree and no CLCNN_LIBRARY to lean on.
# Usage: test_install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(dirname "$(find "$tmp/prefix" -name clcnn.pc)")
libdir=$(dirname "$pcdir")
for header in clcnn.h clcnn_cl.h clcnn_reference.h; do
  [ -f "$tmp/prefix/include/$header" ] || { echo "$header was not installed"; exit 1; }
done

# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$src/examples/conv_layer.c" \
   $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs clcnn) -o "$tmp/conv_layer_pc"
LD_LIBRARY_PATH="$libdir" "$tmp/conv_layer_pc"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$src/examples/own_queue.c" \
   $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs clcnn OpenCL) -o "$tmp/own_queue_pc"
LD_LIBRARY_PATH="$libdir" "$tmp/own_queue_pc"

cmake -S "$src/examples/find_package" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/conv_layer"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/own_queue"

# Only the API's clcnn_ symbols are exported.
bad=$(nm -D --defined-only "$libdir/libclcnn.so" | awk '{print $3}' | grep -v '^clcnn_' || true)
if [ -n "$bad" ]; then echo "non-clcnn exports: $bad"; exit 1; fi

# The Python package: installed under the prefix where the configured python3
# (CLCNN_PYTHON_INTERPRETER, default /usr/bin/python3) looks for packages.
python=$(sed -n 's/^CLCNN_PYTHON_INTERPRETER:FILEPATH=//p' "$build/CMakeCache.txt")
site_rel=$(sed -n 's/^CLCNN_PYTHON_INSTALL_DIR:PATH=//p' "$build/CMakeCache.txt")
if [ -z "$python" ]; then
  echo "install, pkg-config, find_package and exports: ok; no python3 configured: Python package not checked"
  exit 0
fi
site="$tmp/prefix/$site_rel"
[ -f "$site/clcnn/__init__.py" ] && [ -f "$site/clcnn/_installed.py" ] ||
  { echo "the Python package is not in $site"; exit 1; }
# That directory is on the interpreter's sys.path when the prefix is its own
# (for Debian's python3, /usr/local).
"$python" - "$site_rel" <<'EOF'
import os, sys, sysconfig
prefix = sysconfig.get_paths()["data"]
want = os.path.join(prefix, sys.argv[1])
assert want in sys.path, f"{want} is not on {sys.executable}'s sys.path {sys.path}"
EOF
mkdir "$tmp/clean"
cd "$tmp/clean"
env -u CLCNN_LIBRARY -u LD_LIBRARY_PATH PYTHONPATH="$site" PYTHONDONTWRITEBYTECODE=1 \
  "$python" - "$tmp/prefix" <<'EOF'
import os, sys
import clcnn
from clcnn import _library
prefix = os.path.realpath(sys.argv[1])
assert os.path.realpath(clcnn.__file__).startswith(prefix), clcnn.__file__
path = _library.load().path
assert os.path.realpath(path).startswith(prefix), f"loaded {path}, not the library under {prefix}"
print("python: clcnn", clcnn.version(), "from", path)
try:
    import numpy as np
except ImportError:
    print("python: no numpy here, ops not run")
    sys.exit(0)
import clcnn.walkthrough
from clcnn.walkthrough import conv_forward, conv_backward
np.random.seed(1)
A_prev = np.random.randn(10, 4, 4, 3)
W = np.random.randn(2, 2, 3, 8)
b = np.random.randn(1, 1, 1, 8)
Z, cache = conv_forward(A_prev, W, b, {"pad": 2, "stride": 2})
dA, dW, db = conv_backward(Z, cache)
print("python: Z's mean =", np.mean(Z), "dA_mean =", np.mean(dA))
if clcnn.walkthrough.context().supports("float64"):
    assert abs(np.mean(Z) - 0.0489952035289) < 1e-12 and abs(np.mean(dA) - 1.45243777754) < 1e-11
EOF
echo "install, pkg-config, find_package, exports and the Python package: ok"
