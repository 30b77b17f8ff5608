#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then builds the README's
# examples against it twice: with pkg-config and with find_package(clcnn):
# conv_layer.c (clcnn.h) and own_queue.c (clcnn_cl.h, OpenCL objects of its
# own).
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

echo "install, pkg-config, find_package and exports: ok"
