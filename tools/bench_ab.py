#!/usr/bin/env python3
"""Two clcnn builds side by side on clcnn bench's rows, alternated.

Shared machines drift by 20% to 2x over minutes, so a change is judged by
running the old and the new `clcnn` in turn, several rounds (the order
flips every round), and comparing per row the median over the rounds of
each side's median_ms. Prints new/old per row and their geometric mean.

usage: tools/bench_ab.py OLD_CLCNN NEW_CLCNN ROUNDS [clcnn bench arguments...]
  e.g. tools/bench_ab.py /tmp/old/build/tools/clcnn build/tools/clcnn 5 --suite networks
The bench arguments default to --suite networks; --json and --no-reference
are always added. Run each build once first: the first run of a kernel
includes POCL's compile.
"""
import json
import math
import statistics
import subprocess
import sys
import time


def run(binary, args):
    out = subprocess.run([binary, "bench", "--json", "--no-reference", *args], capture_output=True, text=True,
                         check=True).stdout
    d = json.loads(out[out.index("{\"device\""):])
    return {(r["layer"], r["op"], r["mode"] or "-"): r["median_ms"] for r in d["rows"] if r["median_ms"]}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    old, new, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:] or ["--suite", "networks"]
    times = {"old": [], "new": []}
    start = time.time()
    for i in range(rounds):
        order = [("old", old), ("new", new)] if i % 2 == 0 else [("new", new), ("old", old)]
        for side, binary in order:
            times[side].append(run(binary, args))
        print(f"round {i + 1}/{rounds} done at {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    ratios = []
    for key in times["old"][0]:
        o = statistics.median(r[key] for r in times["old"] if key in r)
        n = statistics.median(r[key] for r in times["new"] if key in r)
        ratios.append(n / o)
        print(f"{key[0]:13s} {key[1]:32s} {key[2]:8s} old {o:9.3f} ms  new {n:9.3f} ms  new/old {n / o:5.2f}")
    geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"rows {len(ratios)}  geomean new/old {geomean:.3f}  min {min(ratios):.2f}  max {max(ratios):.2f}")


if __name__ == "__main__":
    main()
