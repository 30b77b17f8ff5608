#!/usr/bin/env python3
"""`clcnn train` and tools/torch_train.py side by side, alternated.

A shared machine drifts by 20% to 2x over minutes, so each round runs both
(the order flips every round) and the comparison is of the medians over the
rounds of each side's training time (the sum of its epoch times, test
evaluation excluded, as both print it). Prints every run, the medians, the
ratio clcnn / PyTorch (below 1: clcnn is faster) and the test accuracies.

usage: tools/train_ab.py ROUNDS [options of both...]
  e.g. tools/train_ab.py 3 --epochs 1               # the issue's goal: ratio <= 0.7
       tools/train_ab.py 3 --epochs 1 --limit 2000 --test-limit 500
The options (default --epochs 1) go to both commands, which take the same
ones. CLCNN (default build/tools/clcnn) and TORCH_TRAIN (default
tools/torch_train.py, run through its #!/usr/bin/python3) name the two.
Run clcnn train once first: its first run includes POCL's kernel compiles.
Time on a quiet machine: PyTorch's OpenMP threads lose far more than POCL's
when other jobs share the cores.
"""
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(command):
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    total = re.search(r"^training: ([0-9.]+) s in all", out, re.M)
    accuracy = re.findall(r"test accuracy ([0-9.]+)%", out)
    if total is None or not accuracy:
        sys.exit("train_ab: %s printed no training time:\n%s" % (" ".join(command), out))
    return float(total.group(1)), float(accuracy[-1])


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit(__doc__)
    rounds, args = int(sys.argv[1]), sys.argv[2:] or ["--epochs", "1"]
    sides = {"clcnn": [os.environ.get("CLCNN", os.path.join(HERE, "..", "build", "tools", "clcnn")), "train"],
             "torch": [os.environ.get("TORCH_TRAIN", os.path.join(HERE, "torch_train.py"))]}
    results = {side: [] for side in sides}
    start = time.time()
    for i in range(rounds):
        for side in (("clcnn", "torch") if i % 2 == 0 else ("torch", "clcnn")):
            seconds, accuracy = run(sides[side] + args)
            results[side].append(seconds)
            print("round %d/%d  %-5s %8.1f s  test accuracy %.2f%%  (at %.0f s)" % (
                i + 1, rounds, side, seconds, accuracy, time.time() - start), flush=True)
    clcnn, torch = statistics.median(results["clcnn"]), statistics.median(results["torch"])
    print("medians over %d rounds: clcnn %.1f s, PyTorch %.1f s; clcnn / PyTorch %.2f (%s)" % (
        rounds, clcnn, torch, clcnn / torch, " ".join(args)))


if __name__ == "__main__":
    main()
