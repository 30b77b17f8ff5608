#!/usr/bin/env bash
# Builds the libFuzzer target over argument validation (fuzz/fuzz_validation.c,
# the library's sources compiled in with clang's fuzzer, ASan and UBSan) in
# build-fuzz/ and runs it for a bounded time from the seeds in fuzz/corpus/.
# Exits non-zero on any finding: a crash, a sanitizer report, a status the
# harness disagrees with, a refused call that enqueued or wrote something, an
# input slower than 60 s, or a leak at exit. The input that caused it is
# written to build-fuzz/artifacts/; replay it with
#   build-fuzz/fuzz_validation build-fuzz/artifacts/crash-...
#
# Leaks are checked once, at exit (ASAN_OPTIONS=detect_leaks=1), not after
# each input (-detect_leaks=0): POCL compiles kernels lazily, so many inputs
# look like leaks to libFuzzer's per-input check, and LeakSanitizer's
# stop-the-world tracer has crashed on POCL's threads while doing so.
#
# Usage: scripts/fuzz.sh [seconds, default 60] [more libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
bash scripts/deps.sh clang libclang-rt-14-dev
CC=clang cmake -S . -B build-fuzz -DCLCNN_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-fuzz --target fuzz_validation -j"$(nproc)"

# New inputs go to build-fuzz/corpus; the seeds in the repository stay as they are.
mkdir -p build-fuzz/corpus build-fuzz/artifacts
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:use_tls=0 # use_tls: see scripts/sanitize.sh
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export CLCNN_FUZZ_STATS=1 # calls by op and outcome, at exit
build-fuzz/fuzz_validation build-fuzz/corpus fuzz/corpus \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -detect_leaks=0 \
  -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 "$@"
