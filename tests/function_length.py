#!/usr/bin/env python3
"""No function in a .c or .cl file outside tests/ runs past 100 lines (the
house rule of the README's "Layout"). The code is clang-formatted: a function
opens with a signature starting in column 0 and a `{` alone in column 0, and
closes with `}` in column 0. Its length counts from the signature's first line
to the closing brace. Usage: function_length.py ROOT [LIMIT]"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 100
skip = {"tests", "build", ".git"}
too_long = []
count = 0
for path in sorted(root.rglob("*")):
    rel = path.relative_to(root)
    if path.suffix not in (".c", ".cl") or rel.parts[0] in skip or rel.parts[0].startswith("build"):
        continue
    lines = path.read_text(errors="replace").splitlines()
    start = None
    for i, line in enumerate(lines):
        if line == "{" and i > 0:
            # walk back over the signature's continuation lines
            j = i - 1
            while j > 0 and lines[j - 1] and not re.match(r"^(\s*$|[}#/]|\s*\*)", lines[j - 1]) \
                    and not lines[j - 1].rstrip().endswith((";", "}")) and lines[j][:1].isspace():
                j -= 1
            start = j
        elif line.startswith("}") and start is not None:
            count += 1
            length = i - start + 1
            if length > limit:
                too_long.append(f"{rel}:{start + 1}: {lines[start].strip()[:70]} ... is {length} lines")
            start = None
for entry in too_long:
    print(entry)
print(f"{count} functions read, {len(too_long)} over {limit} lines")
sys.exit(1 if too_long or count == 0 else 0)
