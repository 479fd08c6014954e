#!/usr/bin/env python3
"""PyTorch reference for Wengert's throughput table: exactly the same workloads as
dev.wengert.bench.Workload (MLP widths, ReLU, softmax cross-entropy over int64 labels, plain SGD,
float32, TF32 off), timed as median milliseconds per training step after warm-up.

Modes: 'eager' (always) and, on CUDA, 'graph': the whole step (forward, loss, backward, SGD) captured
by hand once with torch.cuda.graph and replayed, the fastest PyTorch gets.

Writes JSON that `ThroughputRunner --reference FILE` merges into its table:
  {"device": ..., "torch": ..., "results": {"<workload>": {"pytorch-eager": {"ms": .., "peak_mb": ..}, ...}}}

Usage: python3 pytorch_reference.py [--device cpu|cuda] [--workloads a,b] [--steps N] [--seconds S] [--out FILE]
"""
import argparse
import json
import os
import statistics
import time

import torch

WORKLOADS = {
    "logreg-b512": ([784, 10], 512),
    "logreg-b65536": ([784, 10], 65536),
    "mlp-b512": ([784, 1024, 1024, 10], 512),
    "mlp-b8192": ([784, 1024, 1024, 10], 8192),
    "mlp4096-b4096": ([4096, 4096, 4096, 4096], 4096),
}


def build(widths, device):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(run, device, warmup, steps, seconds):
    for _ in range(warmup):
        run()
    sync(device)
    times = []
    start = time.perf_counter()
    while len(times) < steps and (len(times) < 3 or time.perf_counter() - start < seconds):
        t0 = time.perf_counter()
        run()
        sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def measure(name, device, warmup, steps, seconds, mode):
    widths, batch = WORKLOADS[name]
    torch.manual_seed(1)
    model = build(widths, device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, widths[0], device=device)
    y = torch.randint(0, widths[-1], (batch,), device=device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = step
    if mode == "graph":
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # warm up on a side stream before capture, as the PyTorch docs require
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        run = graph.replay
    ms = time_steps(run, device, warmup, steps, seconds)
    peak = torch.cuda.max_memory_allocated() / 1e6 if device.type == "cuda" else None
    return {"ms": ms, "peak_mb": peak}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    results = {}
    for name in a.workloads.split(","):
        name = name.strip()
        row = {"pytorch-eager": measure(name, device, a.warmup, a.steps, a.seconds, "eager")}
        if device.type == "cuda":
            row["pytorch-graph"] = measure(name, device, a.warmup, a.steps, a.seconds, "graph")
        results[name] = row
        print(name, json.dumps(row), flush=True)
    doc = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
           "torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
