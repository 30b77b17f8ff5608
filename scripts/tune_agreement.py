#!/usr/bin/env python3
"""How many layers two `clcnn tune` runs tuned alike (issue 21's stability
goal: 90%). Reads the stdout of each run, where each searched layer's key
line is followed, once its row is recorded, by `  tuned: SPEC`: the keys
of the layer's plan that differ from the column, its class row's included
(docs/tuning.md, "Tuning a device"). Layers searched in one run only are
counted apart.

usage: tune_agreement.py RUN1.txt RUN2.txt
"""
import re
import sys


def tuned_layers(path):
    """{layer key: its tuned spec} from one run's stdout."""
    layers, key = {}, None
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if re.match(r"^[a-z_]+/f(32|64)/", line):
                key = line.split()[0]
            elif line.startswith("  tuned: ") and key:
                layers[key] = line[len("  tuned: "):].strip()
    return layers


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    first, second = tuned_layers(argv[1]), tuned_layers(argv[2])
    common = sorted(set(first) & set(second))
    alike = [key for key in common if first[key] == second[key]]
    for key in common:
        if first[key] != second[key]:
            print(f"differs: {key}\n  run 1: {first[key]}\n  run 2: {second[key]}")
    only = len(set(first) ^ set(second))
    share = 100.0 * len(alike) / len(common) if common else 0.0
    print(f"{len(alike)}/{len(common)} layers tuned alike ({share:.0f}%); {only} searched in one run only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
