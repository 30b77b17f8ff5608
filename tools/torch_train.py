#!/usr/bin/python3
"""`clcnn train`'s network and training in PyTorch on the CPU, to time side by side.

A tool, not a test (timings never go into ctest). The same ConvNet on
Fashion-MNIST as `clcnn train` (tools/train/), trained the same way, and
printed in the same lines, so that the two can be compared line by line:

  conv 5x5x32 pad 2 > ReLU > max pool 2 > conv 5x5x64 pad 2 > ReLU > max pool 2
  > fully connected 10 > mean softmax cross-entropy

The same for the same options: the batch (the last one of an epoch is
whatever is left), SGD with momentum as clcnn_sgd_update applies it (no
dampening, not Nesterov, weight decay on the weights only), the cosine
decay of the rate per step, the input normalisation, the test evaluation
in batches of 250. Even the numbers drawn are the same: the He
initialisation and each epoch's shuffle come from the kit's splitmix64
(kit/random.c) seeded as `clcnn train` seeds it, so that both start from the
same weights and see the images in the same order.

The epoch time is what `clcnn train` measures: from after the shuffle to
after the last step, including preparing each batch and reading its loss;
the test evaluation is timed apart (in brackets). PyTorch uses
--threads threads (default: every core, as POCL's CPU device does; PyTorch's
own default can be one), and by default runs the network as clcnn does: NHWC
(channels_last) tensors and the last layer as a 7x7 convolution, which were
also PyTorch's fastest here (--layout nchw and --fc linear for the others).

  /usr/bin/python3 tools/torch_train.py --epochs 1
  build/tools/clcnn train --epochs 1

Needs PyTorch (Debian's python3-torch) and numpy; reads the four gzipped
IDX files of Debian's dataset-fashion-mnist (or --data DIR) itself.
"""
import argparse
import gzip
import math
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as missing:
    sys.exit("torch_train: %s under %s; Debian's python3-torch and python3-numpy are for /usr/bin/python3 "
             "(run /usr/bin/python3 tools/torch_train.py)" % (missing, sys.executable))

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
# tools/train/train_network.h's INPUT_MEAN and INPUT_STD: the training set's pixel statistics.
INPUT_MEAN, INPUT_STD = 0.2860, 0.3530
SIDE, CLASSES = 28, 10
EVAL_BATCH = 250
MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
SHUFFLE_STREAM = 0x5851F42D4C957F2D


class SplitMix64:
    """kit/random.c's generator, number for number."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def block(self, count):
        """The next count numbers at once: the state only ever adds GAMMA."""
        with np.errstate(over="ignore"):
            z = np.uint64(self.state) + np.uint64(GAMMA) * np.arange(1, count + 1, dtype=np.uint64)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        self.state = (self.state + GAMMA * count) & MASK
        return z ^ (z >> np.uint64(31))

    def normals(self, count):
        """kit_rng_normal count times: Box-Muller, one value per two uniforms."""
        u = (self.block(2 * count) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
        return np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.cos(2.0 * math.pi * u[1::2])

    def below(self, n):
        limit = MASK - MASK % n
        while True:
            x = self.next()
            if x < limit:
                return x % n


def read_idx(directory, name):
    """An IDX file of unsigned bytes, gzipped or not, as a numpy array."""
    path = os.path.join(directory, name + ".gz")
    opener = gzip.open
    if not os.path.exists(path) and os.path.exists(os.path.join(directory, name)):
        path, opener = os.path.join(directory, name), open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as error:
        sys.exit("torch_train: cannot read the Fashion-MNIST data: %s\n  Install the Debian package "
                 "dataset-fashion-mnist or point --data at the four IDX files." % error)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or not 1 <= data[3] <= 4:
        sys.exit("torch_train: %s: not an IDX file of unsigned bytes" % path)
    dims = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(data[3])]
    start = 4 + 4 * len(dims)
    if len(data) - start != math.prod(dims):
        sys.exit("torch_train: %s: the header promises %d bytes of data, the file holds %d" % (
            path, math.prod(dims), len(data) - start))
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(dims)


def load(directory, split, limit):
    images = read_idx(directory, split + "-images-idx3-ubyte")
    labels = read_idx(directory, split + "-labels-idx1-ubyte")
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or labels.shape != images.shape[:1]:
        sys.exit("torch_train: %s/%s-*: expected N images of 28x28 and N labels" % (directory, split))
    return images[:limit], labels[:limit].astype(np.int64)


class Network(torch.nn.Module):
    def __init__(self, fc):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(32, 64, 5, padding=2)
        # A 7x7 window over a 7x7 input is a matrix product: the same sums either way.
        self.fc = torch.nn.Conv2d(64, CLASSES, 7) if fc == "conv" else torch.nn.Linear(64 * 7 * 7, CLASSES)

    def forward(self, x):
        # In place, as clcnn fuses each ReLU into its conv: no pre-activation tensor kept.
        x = F.max_pool2d(F.relu(self.conv1(x), inplace=True), 2)
        x = F.max_pool2d(F.relu(self.conv2(x), inplace=True), 2)
        return self.fc(x).flatten(1) if isinstance(self.fc, torch.nn.Conv2d) else self.fc(x.flatten(1))

    def init_he(self, seed):
        """tools/train/train_network.c's network_init_he: N(0, gain / fan_in) drawn
        in clcnn's (f_h, f_w, c_in, c_out) order, gain 2 before a ReLU and 1
        before the softmax; biases 0."""
        rng = SplitMix64(seed)
        for layer, f, c_in, gain in ((self.conv1, 5, 1, 2.0), (self.conv2, 5, 32, 2.0), (self.fc, 7, 64, 1.0)):
            c_out = layer.weight.shape[0]
            std = math.sqrt(gain / (f * f * c_in))
            hwio = (std * rng.normals(f * f * c_in * c_out)).reshape(f, f, c_in, c_out)
            oihw = torch.from_numpy(hwio).permute(3, 2, 0, 1)
            with torch.no_grad():
                layer.weight.copy_(oihw.reshape(layer.weight.shape))
                layer.bias.zero_()


class Batches:
    """Images and labels as tensors, normalised as tools/train/train_data.c does."""

    def __init__(self, images, labels, dtype, layout):
        self.images, self.labels, self.dtype, self.layout = images, labels, dtype, layout
        self.scale, self.shift = 1.0 / (255.0 * INPUT_STD), INPUT_MEAN / INPUT_STD

    def get(self, index):
        pixels = self.images[index] * self.scale - self.shift
        x = torch.from_numpy(pixels.astype(self.dtype)).view(len(index), 1, SIDE, SIDE)
        if self.layout == "nhwc":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, torch.from_numpy(self.labels[index])


class Progress:
    """train_progress.c's bar on a terminal, or a line at each tenth."""

    def __init__(self, epoch, epochs, total):
        self.epoch, self.epochs, self.total = epoch, epochs, total
        self.tty, self.start, self.last_draw, self.next_tenth = sys.stderr.isatty(), time.perf_counter(), 0.0, 1

    def show(self, done, loss):
        now = time.perf_counter()
        elapsed, final = now - self.start, done == self.total
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.tty:
            if not final and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            filled = 24 * done // self.total
            bar = "".join("=" if i < filled else ">" if i == filled else " " for i in range(24))
            print("\repoch %d/%d [%s] %6d/%d  loss %.4f  %4.0f images/s  %5.1f s " % (
                self.epoch, self.epochs, bar, done, self.total, loss, rate, elapsed),
                end="\n" if final else "", file=sys.stderr, flush=True)
            return
        tenth = 10 * done // self.total
        if tenth < self.next_tenth and not final or final and self.next_tenth > 10:
            return
        self.next_tenth = tenth + 1
        print("epoch %d/%d: %d/%d images, loss %.4f, %.0f images/s, %.1f s" % (
            self.epoch, self.epochs, done, self.total, loss, rate, elapsed), file=sys.stderr, flush=True)


def evaluate(model, test):
    start = time.perf_counter()
    count, loss_sum, correct = len(test.labels), 0.0, 0
    with torch.no_grad():
        for first in range(0, count, EVAL_BATCH):
            x, y = test.get(np.arange(first, min(first + EVAL_BATCH, count)))
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum())
    return "test loss %.4f  test accuracy %.2f%% (%d/%d)  [%.1f s]" % (
        loss_sum / count, 100.0 * correct / count, correct, count, time.perf_counter() - start)


def train(model, train_set, test, args):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    # clcnn_sgd_update: v = momentum * v + (g + decay * w); w -= lr * v, v starting at 0,
    # which is PyTorch's SGD without dampening; no weight decay on the biases.
    optimizer = torch.optim.SGD([{"params": weights, "weight_decay": args.weight_decay},
                                 {"params": biases, "weight_decay": 0.0}], lr=args.lr, momentum=args.momentum)
    count = len(train_set.labels)
    order = list(range(count))
    shuffle = SplitMix64(args.seed ^ SHUFFLE_STREAM)
    total_steps = math.ceil(count / args.batch) * args.epochs
    step, total_seconds = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        for i in range(count, 1, -1):
            j = shuffle.below(i)
            order[i - 1], order[j] = order[j], order[i - 1]
        indices = np.array(order)
        progress = Progress(epoch, args.epochs, count)
        loss_sum, done = 0.0, 0
        while done < count:
            n = min(args.batch, count - done)
            lr = args.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps)) if args.lr_decay == "cosine" \
                else args.lr
            step += 1
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = train_set.get(indices[done:done + n])
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            mean = loss.item()
            if not math.isfinite(mean):
                sys.exit("\ntorch_train: the loss became %g at image %d of epoch %d: training diverged; "
                         "try a smaller --lr (now %g)" % (mean, done, epoch, args.lr))
            loss_sum += mean * n
            done += n
            progress.show(done, loss_sum / done)
        seconds = time.perf_counter() - progress.start
        total_seconds += seconds
        print("epoch %d/%d  train loss %.4f  %.1f s (%.0f images/s)  %s" % (
            epoch, args.epochs, loss_sum / count, seconds, count / seconds, evaluate(model, test)), flush=True)
    print("training: %.1f s in all, %.1f s per epoch" % (total_seconds, total_seconds / args.epochs))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--epochs", type=int, metavar="N", default=5, help="passes over the training set (default 5)")
    add("--batch", type=int, metavar="N", default=64, help="images per SGD step (default 64)")
    add("--lr", type=float, metavar="X", default=0.01, help="learning rate (default 0.01)")
    add("--lr-decay", choices=("cosine", "none"), default="cosine",
        help="cosine: along a half cosine from --lr to 0 over the whole run (default)")
    add("--momentum", type=float, metavar="X", default=0.9, help="SGD momentum (default 0.9)")
    add("--weight-decay", type=float, metavar="X", default=0.0, help="L2 weight decay on the weights (default 0)")
    add("--seed", type=int, metavar="N", default=1, help="seed of the initialisation and the shuffle (default 1)")
    add("--limit", type=int, metavar="N", default=60000, help="train on the first N training images")
    add("--test-limit", type=int, metavar="N", default=10000, help="measure accuracy on the first N test images")
    add("--dtype", choices=("f32", "f64"), default="f32", help="precision (default f32)")
    add("--data", metavar="DIR", default=DEFAULT_DATA, help="the four Fashion-MNIST files (default %(default)s)")
    add("--threads", type=int, metavar="N", default=os.cpu_count(),
        help="PyTorch's CPU threads (default: every core, %(default)s here)")
    add("--layout", choices=("nhwc", "nchw"), default="nhwc",
        help="PyTorch's memory format: nhwc (channels_last, as clcnn; default) or nchw")
    add("--fc", choices=("conv", "linear"), default="conv",
        help="the last layer as a 7x7 nn.Conv2d (as clcnn; default) or as nn.Linear")
    args = parser.parse_args()
    for name, low, high in (("epochs", 1, 1000), ("batch", 1, 4096), ("limit", 1, 60000),
                            ("test_limit", 1, 10000), ("threads", 1, 4096)):
        if not low <= getattr(args, name) <= high:
            parser.error("--%s wants a number from %d to %d" % (name.replace("_", "-"), low, high))
    if not (0.0 <= args.lr <= 100.0 and 0.0 <= args.momentum <= 1.0 and 0.0 <= args.weight_decay <= 1.0):
        parser.error("--lr wants 0 to 100, --momentum and --weight-decay 0 to 1")
    if not 0 <= args.seed < 1 << 64:
        parser.error("--seed wants 0 to 2^64 - 1")
    return args


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    dtype = {"f32": (np.float32, torch.float32), "f64": (np.float64, torch.float64)}[args.dtype]
    torch.set_default_dtype(dtype[1])
    train_set = Batches(*load(args.data, "train", args.limit), dtype[0], args.layout)
    test = Batches(*load(args.data, "t10k", args.test_limit), dtype[0], args.layout)
    model = Network(args.fc)
    model.init_he(args.seed)
    if args.layout == "nhwc":
        model = model.to(memory_format=torch.channels_last)
    print("device: PyTorch %s on the CPU, %d threads, oneDNN %s, %s, %s" % (
        torch.__version__, torch.get_num_threads(), "on" if torch.backends.mkldnn.is_available() else "off",
        {"f32": "float32", "f64": "float64"}[args.dtype], args.layout.upper()))
    print("network: conv 5x5x32 pad 2 > relu > max pool 2 > conv 5x5x64 pad 2 > relu > max pool 2\n"
          "         > fully connected 10 (%s) > softmax; %d parameters, He initialisation" % (
              "conv 7x7x64x10" if args.fc == "conv" else "linear 3136x10",
              sum(p.numel() for p in model.parameters())))
    print("data: %s, %d training and %d test images" % (args.data, len(train_set.labels), len(test.labels)))
    print("training: %d epoch%s, batch %d, SGD lr %g%s momentum %g weight decay %g, seed %d" % (
        args.epochs, "" if args.epochs == 1 else "s", args.batch, args.lr,
        " (cosine decay to 0)" if args.lr_decay == "cosine" else "", args.momentum, args.weight_decay, args.seed),
        flush=True)
    train(model, train_set, test, args)


if __name__ == "__main__":
    main()
