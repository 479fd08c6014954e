#!/usr/bin/env python3
"""PyTorch reference for Wengert's two zoo CNNs (`wengert train --model lenet5|convnet`): the same
architectures, the same bundled MNIST subset and split, the same recipe, so that Wengert's test accuracy can
be compared with PyTorch's.

Data: the 10,000 digits bundled with Wengert (models/src/main/resources/dev/wengert/models/data/mnist-subset,
see its README.md): all 8,000 training images are trained on (Wengert: --val-fraction 0), the 2,000 test
images measured once at the end. Pixels are scaled to [0, 1] (byte / 255) as MnistData.imagesAsFloats does;
no mean/std normalisation.

Models (the layer indices are Wengert's Sequential, so both state_dicts use the same names, e.g. 1.weight):
  lenet5   Unflatten(1, 28, 28), conv 6@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, Flatten,
           Linear 400-120, ReLU, Linear 120-84, ReLU, Linear 84-10
  convnet  Unflatten, conv 32@3x3 pad 1, [BatchNorm2d], ReLU, max-pool 2, conv 64@3x3 pad 1, [BatchNorm2d],
           ReLU, max-pool 2, Flatten, Linear 3136-128, [BatchNorm1d], ReLU, [Dropout p], Linear 128-10
Every layer has PyTorch's default initialisation.

Recipes:
  pytorch  the issue's recipe: Adam lr 1e-3, batch 64, 10 epochs, no schedule, no augmentation, plain models
  Anything else is given with the options (--epochs, --schedule cosine, --shift N, --bn, --dropout P,
  --val-fraction F), e.g. the candidates for Wengert's own convnet defaults.

Shift augmentation (--shift N): each training image, each epoch, is moved by (dy, dx) drawn uniformly from
[-N, N]^2, zero-filled at the border (what Wengert's BatchLoader does with --augment shift:N).

Runs with one thread (torch.set_num_threads(1)): the machine it was written on is shared. Prints one line per
run and a table of test accuracy (mean over seeds); --out FILE writes the figures as JSON.

Usage: python3 pytorch_cnn_reference.py [--models lenet5,convnet] [--seeds 0,1,2] [--epochs 10]
           [--schedule none|cosine] [--shift 0] [--bn] [--dropout 0] [--val-fraction 0] [--out FILE]
"""
import argparse
import gzip
import json
import math
import os
import statistics
import struct
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "models", "src", "main", "resources", "dev", "wengert", "models", "data",
                    "mnist-subset")


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">i", raw[:4])
    dims = magic & 0xff
    shape = struct.unpack(">" + "i" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load():
    xtr = read_idx("train-images-idx3-ubyte.gz").float().div(255).reshape(-1, 784)
    ytr = read_idx("train-labels-idx1-ubyte.gz").long()
    xte = read_idx("test-images-idx3-ubyte.gz").float().div(255).reshape(-1, 784)
    yte = read_idx("test-labels-idx1-ubyte.gz").long()
    return xtr, ytr, xte, yte


def build(model, bn, dropout):
    if model == "lenet5":
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    layers = [nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(32))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(64))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136, 128)]
    if bn:
        layers.append(nn.BatchNorm1d(128))
    layers.append(nn.ReLU())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(128, 10))
    return nn.Sequential(*layers)


def shift_batch(x, shift, gen):
    """Each image of x [B, 784] moved by its own (dy, dx) in [-shift, shift]^2, zero-filled."""
    if shift == 0:
        return x
    b = x.shape[0]
    img = x.reshape(b, 28, 28)
    pad = nn.functional.pad(img, (shift, shift, shift, shift))
    d = torch.randint(-shift, shift + 1, (b, 2), generator=gen)
    out = torch.empty_like(img)
    for i in range(b):
        dy, dx = int(d[i, 0]), int(d[i, 1])
        # output pixel (r, c) = input pixel (r - dy, c - dx)
        out[i] = pad[i, shift - dy:shift - dy + 28, shift - dx:shift - dx + 28]
    return out.reshape(b, 784)


def evaluate(net, x, y):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            correct += (net(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    net.train()
    return correct / x.shape[0]


def run(model, seed, args, data):
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    n = xtr.shape[0]
    held = round(args.val_fraction * n)
    if held:
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        keep = torch.ones(n, dtype=torch.bool)
        keep[perm[:held]] = False
        xtr, ytr = xtr[keep], ytr[keep]
        n = xtr.shape[0]
    net = build(model, args.bn, args.dropout)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = None
    if args.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda e: 0.5 * (1 + math.cos(math.pi * e / args.epochs)))
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed + 1)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            xb = shift_batch(xtr[idx], args.shift, gen)
            opt.zero_grad()
            loss = loss_fn(net(xb), ytr[idx])
            loss.backward()
            opt.step()
        if sched is not None:
            sched.step()
    seconds = time.perf_counter() - t0
    acc = evaluate(net, xte, yte)
    return acc, seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lenet5,convnet")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=["none", "cosine"], default="none")
    p.add_argument("--shift", type=int, default=0)
    p.add_argument("--bn", action="store_true", help="convnet with batch normalisation")
    p.add_argument("--dropout", type=float, default=0.0, help="convnet dropout before the last layer")
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="hold out this share of the training images (not measured; what Wengert's default does)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = load()
    recipe = (f"Adam lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs, schedule {args.schedule}, "
              f"shift {args.shift}, bn {args.bn}, dropout {args.dropout}, val-fraction {args.val_fraction}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {recipe}", flush=True)
    results = {}
    for model in args.models.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            acc, seconds = run(model, seed, args, data)
            results.setdefault(model, {})[seed] = {"test_accuracy": acc, "train_seconds": seconds}
            print(f"{model} seed {seed}: test accuracy {100 * acc:.2f}% ({seconds:.0f} s)", flush=True)
    print()
    print("| model | " + " | ".join(f"seed {s}" for s in args.seeds.split(",")) + " | mean |")
    print("|---|" + "---|" * (len(args.seeds.split(",")) + 1))
    for model, by_seed in results.items():
        accs = [r["test_accuracy"] for r in by_seed.values()]
        print(f"| {model} | " + " | ".join(f"{100 * a:.2f}" for a in accs) + f" | {100 * statistics.mean(accs):.2f} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "recipe": recipe, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
