#!/usr/bin/env bash
# Everything a short loan of a GPU machine is for, in one go, into one
# folder: NVIDIA's OpenCL made visible, a build, the device suites on the
# GPU, `clcnn tune` within a budget, then `clcnn bench` next to PyTorch
# (tools/torch_bench.py, before and after tuning). It also runs on any
# other OpenCL device (POCL here), which is how ctest keeps it working
# (test gpu_report_script, with --quick).
#
# Usage: scripts/gpu_report.sh [--out DIR] [--device SPEC] [--budget MINUTES]
#                              [--debs DIR] [--build-dir DIR] [--quick]
#   --out DIR        where everything goes (default gpu-report/): devices.txt,
#                    build.log, tests.log, tune.log, tuning/ (the database),
#                    bench.txt, torch_bench.txt, ratios.svg, summary.txt
#   --device SPEC    clcnn's device (default gpu; POCL: cpu)
#   --budget M       clcnn tune's budget in minutes (default 3)
#   --debs DIR       .deb files unpacked into / first, for a machine that
#                    reaches no package registry (ocl-icd-libopencl1,
#                    ocl-icd-opencl-dev, opencl-c-headers, check, ...;
#                    `apt-get download` them on a machine that has them)
#   --build-dir DIR  build there (default build-gpu/)
#   --no-build       use the build in --build-dir as it is
#   --quick          one small layer per step, a budget of 1 minute and no test
#                    suites: the ctest entry's run (it passes --no-build)
# PYTHON names the interpreter with PyTorch (default python3).
# Each step's time is bounded so that the whole fits a loan of 8 minutes:
# build, tests and bench about a minute each, tune the budget, PyTorch two.
set -uo pipefail
cd "$(dirname "$0")/.."
out=gpu-report device=gpu budget=3 debs="" build=build-gpu quick=0 no_build=0 python=${PYTHON:-python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --debs) debs=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --quick) quick=1; budget=1; shift ;;
    *) echo "gpu_report.sh: unknown argument $1 (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
# step NAME SECONDS COMMAND...: runs it with its output in $out/NAME.log, notes how it went.
step() {
  local name=$1 seconds=$2 start=$SECONDS
  shift 2
  timeout "$seconds" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  note "$name: exit $rc after $((SECONDS - start)) s ($*)"
  [ $rc = 0 ] || failed=1
  return $rc
}
failed=0

if [ -n "$debs" ]; then
  for f in "$debs"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi

# NVIDIA's driver brings libnvidia-opencl.so.1 but not always the ICD file
# that makes the loader see it: give the loader one of our own.
if ! grep -qs nvidia /etc/OpenCL/vendors/*.icd && { ldconfig -p | grep -q libnvidia-opencl.so.1 ||
  ls /usr/local/nvidia/lib64/libnvidia-opencl.so.1 >/dev/null 2>&1; }; then
  mkdir -p "$out/icd"
  lib=libnvidia-opencl.so.1
  [ -e /usr/local/nvidia/lib64/$lib ] && lib=/usr/local/nvidia/lib64/$lib
  echo "$lib" >"$out/icd/nvidia.icd"
  export OCL_ICD_VENDORS=$out/icd
  note "icd: $lib through OCL_ICD_VENDORS=$out/icd"
fi

testing=ON
pkg-config --exists check 2>/dev/null || testing=OFF
if [ "$no_build" = 0 ]; then
  step build 300 bash -c "cmake -S . -B '$build' -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$testing &&
    cmake --build '$build' -j$(nproc)" || { note "the build failed: $out/build.log"; exit 1; }
fi
clcnn=$build/tools/clcnn
[ -x "$clcnn" ] || { note "no $clcnn: build first, or leave out --no-build"; exit 1; }
"$clcnn" devices >"$out/devices.txt" 2>&1
export CLCNN_DEVICE=$device CLCNN_REQUIRE_DEVICE=1

if [ "$quick" = 1 ]; then
  note "tests: skipped (--quick)"
elif [ "$testing" = ON ]; then
  step tests 240 ctest --test-dir "$build" -R 'test_conv$|test_pool$|test_train_ops$|test_zero_pad$|quick' \
    --output-on-failure -j4
else
  note "tests: skipped (no Check library: pass its .deb with --debs)"
fi

layers=(--suite networks)
[ "$quick" = 1 ] && layers=(--layer fc_train --op conv_forward)
export CLCNN_TUNING_DIR=$out/tuning
step tune "$(awk "BEGIN { print int($budget * 60 + 60) }")" "$clcnn" tune "${layers[@]}" --budget "$budget"
step bench 240 "$clcnn" bench "${layers[@]}" --no-reference --repeat 5
cp "$out/bench.log" "$out/bench.txt"

torch_device=cpu
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && torch_device=cuda
plot=()
"$python" -c 'import matplotlib' 2>/dev/null && plot=(--plot "$out/ratios.svg")
if "$python" -c 'import torch' 2>/dev/null; then
  step torch_bench 240 "$python" tools/torch_bench.py --clcnn "$clcnn" --clcnn-device "$device" --device "$torch_device" \
    "${layers[@]}" --untuned --rounds 1 --repeat 5 "${plot[@]}"
  cp "$out/torch_bench.log" "$out/torch_bench.txt"
else
  note "torch_bench: skipped (no PyTorch)"
fi
note "done: $out$([ $failed = 0 ] || echo ', with failures (see the logs)')"
exit $failed
