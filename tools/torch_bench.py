#!/usr/bin/env python3
"""clcnn next to PyTorch on the same layers, in the same run.

A tool, not a test (timings never go into ctest). It runs `clcnn bench
--json` for a suite, then times PyTorch on every row's layer (the shapes and
params come from clcnn's JSON, so both time the same thing) and prints per
row clcnn's ms, PyTorch's ms and the ratio PyTorch ms / clcnn ms (above 1:
clcnn is faster), then the geometric mean of the ratio per op.

  python3 tools/torch_bench.py --suite networks             # CPU (oneDNN), all cores
  python3 tools/torch_bench.py --suite table --repeat 20
  python3 tools/torch_bench.py --device cuda --clcnn-device nvidia   # cuDNN, TF32 off
  python3 tools/torch_bench.py --suite all --op relu_forward --op relu_backward \
      --op zero_pad --op sgd_update --c-loop build/tools/c_loop_bench

--untuned also runs clcnn with CLCNN_TUNING=off in every round (the
built-in columns, no tuning database) and adds its ms and ratio, so that a
table shows before and after `clcnn tune` from one run. --plot FILE.svg
draws each row's ratio (and the untuned one, with --untuned) as bars
around the line at 1.0; it needs Debian's python3-matplotlib.

--back-to-back N makes each timed run N calls with one wait at the end, on
both sides: what an op costs inside a network's step, where the wait for the
device comes once per step. clcnn on POCL pays tens of microseconds per
wait (waking its worker threads), which a call on a small tensor otherwise
is mostly made of; PyTorch on the CPU runs each call to its end anyway.

--c-loop adds, for the element-wise rows, the same op as a plain C loop over
the same buffers (tools/c_loop_bench.c: -O2, OpenMP on every core) and the
column `of C`: the C loop's ms / clcnn's ms, the share of the machine's
plain-loop speed that clcnn reaches.

On a shared machine a layer's time drifts by 2x over minutes, so the
whole comparison runs --rounds times (clcnn's suite, then PyTorch on every
row), and each side's time per row is the median over the rounds; the
last column is the range of the row's ratio over the rounds.

PyTorch runs each layer in NCHW and in channels_last (NHWC) and counts the
faster; convolutions with asymmetric padding get an explicit F.pad first,
as a PyTorch user would write them. Needs Debian's python3-torch (CPU) or a
CUDA build of PyTorch; numpy is not needed.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def timer(device, repeat, calls=1):
    """A function that times fn() repeat times after a warm-up: median ms.
    Each timed run makes `calls` calls and waits once (CUDA), ms per call."""
    def run(fn):
        for _ in range(3):
            fn()
        times = []
        for _ in range(repeat):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(1e3 * (time.perf_counter() - start) / calls)
        return median(times)
    return run


def nchw(dims):
    m, h, w, c = dims
    return (m, c, h, w)


def conv_fns(row, device, layout):
    p = row["conv"]
    x = torch.randn(nchw(row["input"]), device=device)
    f_h, f_w, in_group, c_out = row["weights"]
    w = torch.randn(c_out, in_group, f_h, f_w, device=device)
    b = torch.randn(c_out, device=device)
    if layout == "nhwc":
        x = x.contiguous(memory_format=torch.channels_last)
        w = w.contiguous(memory_format=torch.channels_last)
    symmetric = p["pad_top"] == p["pad_bottom"] and p["pad_left"] == p["pad_right"]
    padding = (p["pad_top"], p["pad_left"]) if symmetric else 0
    pads = (p["pad_left"], p["pad_right"], p["pad_top"], p["pad_bottom"])

    def forward(x, w, b):
        if not symmetric:
            x = F.pad(x, pads)
        return F.conv2d(x, w, b, stride=(p["stride_h"], p["stride_w"]), padding=padding,
                        dilation=(p["dilation_h"], p["dilation_w"]), groups=p["groups"])

    if row["op"] == "conv_forward":
        with torch.no_grad():
            return lambda: forward(x, w, b)
    x.requires_grad_(True)
    w.requires_grad_(True)
    b.requires_grad_(True)
    z = forward(x, w, b)
    g = torch.randn_like(z)
    wanted = {"conv_backward": (x, w, b), "conv_backward_data": (x,),
              "conv_backward_filter": (w,), "conv_backward_bias": (b,)}[row["op"]]
    return lambda: torch.autograd.grad(z, wanted, g, retain_graph=True)


def pool_fns(row, device, layout):
    p = row["pool"]
    x = torch.randn(nchw(row["input"]), device=device)
    if layout == "nhwc":
        x = x.contiguous(memory_format=torch.channels_last)
    if p["pad_top"] != p["pad_bottom"] or p["pad_left"] != p["pad_right"]:
        raise ValueError("PyTorch pools pad symmetrically only")
    kernel, stride = (p["f_h"], p["f_w"]), (p["stride_h"], p["stride_w"])
    padding = (p["pad_top"], p["pad_left"])
    if row["mode"] == "max":
        forward = lambda x: F.max_pool2d(x, kernel, stride, padding)
    else:
        forward = lambda x: F.avg_pool2d(x, kernel, stride, padding,
                                         count_include_pad=bool(p["count_include_pad"]))
    if row["op"] == "pool_forward":
        with torch.no_grad():
            return lambda: forward(x)
    x.requires_grad_(True)
    a = forward(x)
    g = torch.randn_like(a)
    return lambda: torch.autograd.grad(a, (x,), g, retain_graph=True)


def other_fns(row, device, layout):
    dims = row["input"]
    op = row["op"]
    if op == "zero_pad":
        x = torch.randn(dims, device=device)  # NHWC: pad H and W
        pad = row["pad"]
        return lambda: F.pad(x, (0, 0, pad, pad, pad, pad))
    if op in ("relu_forward", "relu_backward"):
        x = torch.randn(dims, device=device, requires_grad=op == "relu_backward")
        if op == "relu_forward":
            return lambda: F.relu(x)
        y = F.relu(x)
        g = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, (x,), g, retain_graph=True)
    if op.startswith("softmax_cross_entropy"):
        rows, classes = dims[0] * dims[1] * dims[2], dims[3]
        logits = torch.randn(rows, classes, device=device, requires_grad=op.endswith("backward"))
        labels = torch.randint(0, classes, (rows,), device=device)
        if op.endswith("forward"):
            return lambda: F.cross_entropy(logits, labels)
        loss = F.cross_entropy(logits, labels)
        return lambda: torch.autograd.grad(loss, (logits,), retain_graph=True)
    if op == "sgd_update":
        param = torch.nn.Parameter(torch.randn(dims, device=device))
        param.grad = torch.randn(dims, device=device)
        sgd = torch.optim.SGD([param], lr=0.01, momentum=0.9)
        return sgd.step
    raise ValueError("no PyTorch counterpart for " + op)


C_LOOP_OPS = ("relu_forward", "relu_backward", "zero_pad", "sgd_update")


def c_loop_ms(program, row, repeat):
    """The row's op as tools/c_loop_bench's plain C loop: median ms."""
    command = [program, row["op"]] + [str(d) for d in row["input"]]
    if row["op"] == "zero_pad":
        command.append(str(row["pad"]))
    command += ["--repeat", str(repeat)]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return float(result.stdout)


def torch_ms(row, device, time_fn):
    """The faster of NCHW and channels_last (one layout for the others)."""
    if "conv" in row:
        make = conv_fns
    elif "pool" in row:
        make = pool_fns
    else:
        return time_fn(other_fns(row, device, "nchw"))
    return min(time_fn(make(row, device, layout)) for layout in ("nchw", "nhwc"))


def run_bench(command, env=None):
    """clcnn bench --json's result, with env's variables set."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, **(env or {})))
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit("torch_bench: %s failed (exit %d)" % (" ".join(command), result.returncode))
    return json.loads(result.stdout)


def new_entry(row):
    return {"row": row, "clcnn": [], "torch": [], "c": [], "untuned": [], "note": None}


def plot(path, title, bars, untuned):
    """Horizontal bars of each row's ratio (label, ratio, untuned ratio or
    None), the line at 1.0, into the SVG file path."""
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    height = 0.8 / (2 if untuned else 1)
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(bars) + 1.5))
    ys = range(len(bars))
    if untuned:
        ax.barh([y + height for y in ys], [b[2] or 0 for b in bars], height, color="#bbbbbb",
                label="untuned (CLCNN_TUNING=off)")
    ax.barh(list(ys), [b[1] for b in bars], height,
            color=["#1f77b4" if "forward" in b[0] else "#d62728" for b in bars],
            label="clcnn (blue: forward, red: backward)")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([y + (height / 2 if untuned else 0) for y in ys])
    ax.set_yticklabels([b[0] for b in bars], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("PyTorch ms / clcnn ms (above 1: clcnn is faster)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clcnn", default=os.path.join(here, "..", "build", "tools", "clcnn"),
                        help="the clcnn command (default: build/tools/clcnn)")
    parser.add_argument("--suite", default="table", help="table, networks or all")
    parser.add_argument("--layer", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--op", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3,
                        help="whole comparisons run, medians taken over them (default 3)")
    parser.add_argument("--device", default="cpu", help="PyTorch's device: cpu or cuda")
    parser.add_argument("--clcnn-device", default=None, help="clcnn's --device SPEC")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="PyTorch's CPU threads (default: every core)")
    parser.add_argument("--back-to-back", type=int, default=1, metavar="N",
                        help="each timed run makes N calls and waits once, on both sides (clcnn bench's "
                             "--back-to-back): an op's cost inside a network's step")
    parser.add_argument("--c-loop", default=None,
                        help="tools/c_loop_bench, for a plain C loop's time on the element-wise rows")
    parser.add_argument("--untuned", action="store_true",
                        help="also time clcnn with CLCNN_TUNING=off (before tuning) in every round")
    parser.add_argument("--plot", default=None, help="draw the ratios into this SVG file (python3-matplotlib)")
    args = parser.parse_args()
    if args.plot:
        import matplotlib  # noqa: F401 -- fail before the rounds, not after them

    command = [args.clcnn, "bench", "--json", "--no-reference", "--suite", args.suite,
               "--repeat", str(args.repeat), "--back-to-back", str(args.back_to_back)]
    command += [item for layer in args.layer for item in ("--layer", layer)]
    command += [item for op in args.op for item in ("--op", op)]
    if args.clcnn_device:
        command += ["--device", args.clcnn_device]

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        torch_name = "%s, cuDNN %s" % (torch.cuda.get_device_name(), torch.backends.cudnn.version())
    else:
        torch.set_num_threads(args.threads)
        torch_name = "CPU, %d threads, oneDNN %s" % (
            torch.get_num_threads(), "on" if torch.backends.mkldnn.is_available() else "off")
    time_fn = timer(device, args.repeat, args.back_to_back)

    rows = {}  # (layer, op, mode) -> {"row", "clcnn": [ms per round], "torch", "c", "untuned", "note"}
    for round_index in range(args.rounds):
        bench = run_bench(command)
        if args.untuned:
            for row in run_bench(command, {"CLCNN_TUNING": "off"})["rows"]:
                entry = rows.setdefault((row["layer"], row["op"], row["mode"]), new_entry(row))
                if not row["error"] and row["median_ms"] is not None:
                    entry["untuned"].append(row["median_ms"])
        for row in bench["rows"]:
            entry = rows.setdefault((row["layer"], row["op"], row["mode"]), new_entry(row))
            if row["error"] or row["median_ms"] is None:
                entry["note"] = "clcnn failed: %s" % row["error"]
                continue
            entry["clcnn"].append(row["median_ms"])
            if args.c_loop and row["op"] in C_LOOP_OPS:
                entry["c"].append(c_loop_ms(args.c_loop, row, args.repeat))
            try:
                entry["torch"].append(torch_ms(row, device, time_fn))
            except (ValueError, RuntimeError) as error:
                entry["note"] = str(error)
        print("round %d of %d done" % (round_index + 1, args.rounds), file=sys.stderr)

    print("clcnn %s on %s, %s; config %s" % (bench["version"], bench["device"], bench["dtype"],
                                             bench["config"]))
    print("PyTorch %s on %s; median of %d runs each, then the median over %d rounds; "
          "ratio = PyTorch ms / clcnn ms (above 1: clcnn is faster)\n" % (
              torch.__version__, torch_name, args.repeat, args.rounds))
    print("%-13s %-30s %-7s %-46s %10s %10s %7s  %-9s %s%s" % ("layer", "op", "mode", "shape", "clcnn ms",
                                                                "torch ms", "ratio", "rounds",
                                                                "C ms   of C" if args.c_loop else "",
                                                                "untuned ms  ratio" if args.untuned else ""))
    ratios, untuned_ratios, bars = {}, {}, []
    for (layer, op, mode), entry in rows.items():
        row = entry["row"]
        shape = "%s -> %s" % ("x".join(map(str, row["input"])), "x".join(map(str, row["output"])))
        if "conv" in row:
            p = row["conv"]
            shape += " f%dx%d s%d p%d d%d g%d" % (row["weights"][0], row["weights"][1], p["stride_h"],
                                                 p["pad_top"], p["dilation_h"], p["groups"])
        elif "pool" in row:
            p = row["pool"]
            shape += " f%dx%d s%d p%d" % (p["f_h"], p["f_w"], p["stride_h"], p["pad_top"])
        if entry["note"] or not entry["torch"]:
            ours = "%10.3f" % median(entry["clcnn"]) if entry["clcnn"] else "%10s" % "-"
            print("%-13s %-30s %-7s %-46s %s %10s   (%s)" % (layer, op, mode or "", shape, ours, "-",
                                                          entry["note"]))
            continue
        ours, theirs = median(entry["clcnn"]), median(entry["torch"])
        ratio = theirs / ours
        per_round = [t / c for c, t in zip(entry["clcnn"], entry["torch"])]
        ratios.setdefault(op + (" " + mode if mode else ""), []).append(ratio)
        c_loop, before, untuned_ratio = "", "", None
        if entry["c"]:
            c_loop = "%8.3f %5.2fx" % (median(entry["c"]), median(entry["c"]) / ours)
        if entry["untuned"]:
            untuned_ratio = theirs / median(entry["untuned"])
            untuned_ratios.setdefault(op + (" " + mode if mode else ""), []).append(untuned_ratio)
            before = "%10.3f %5.2fx" % (median(entry["untuned"]), untuned_ratio)
        bars.append(("%s %s%s" % (layer, op, " " + mode if mode else ""), ratio, untuned_ratio))
        print("%-13s %-30s %-7s %-46s %10.3f %10.3f %6.2fx  %.2f-%.2f %s%s" % (
            layer, op, mode or "", shape, ours, theirs, ratio, min(per_round), max(per_round), c_loop, before))
    print("\ngeometric mean of the ratio per op (rows)%s:" % (", untuned" if args.untuned else ""))
    for key, values in ratios.items():
        before = untuned_ratios.get(key)
        print("  %-28s %6.2fx  (%d)%s" % (key, geomean(values), len(values),
                                          "  %6.2fx" % geomean(before) if before else ""))
    if args.plot:
        plot(args.plot, "clcnn %s on %s, %s, next to PyTorch %s (%s)" % (
            bench["version"], bench["device"], bench["dtype"], torch.__version__, torch_name), bars, args.untuned)
        print("\nplot: %s" % args.plot)


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


if __name__ == "__main__":
    main()
