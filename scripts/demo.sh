#!/usr/bin/env bash
# Installs what is missing, builds clcnn in build/, runs the walkthrough demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
./build/tools/clcnn demo "$@"
