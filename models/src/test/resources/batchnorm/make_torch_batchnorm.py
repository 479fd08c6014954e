#!/usr/bin/env python3
"""Writes torch_batchnorm.json: PyTorch's own BatchNorm1d/BatchNorm2d numbers for BatchNormTorchTest.

Run once, by hand, with Debian's python3-torch (1.13.1, CPU):  /usr/bin/python3 make_torch_batchnorm.py
Every case builds the module in float64, runs `steps` training batches (recording, per step, the output,
the running statistics, num_batches_tracked, and the gradients of sum(y * g) with respect to the input,
weight and bias), then one evaluation batch (output and input gradient). Values are float64, written with
repr() so they round-trip exactly.
"""
import json
import torch

torch.manual_seed(20261201)
torch.set_default_dtype(torch.float64)


def case(name, module, shape, steps, scale=1.0, shift=0.0):
    m = module
    if m.weight is not None:  # non-trivial affine parameters, so their gradients and effect are visible
        with torch.no_grad():
            m.weight.copy_(torch.randn(m.num_features) * 0.5 + 1.0)
            m.bias.copy_(torch.randn(m.num_features) * 0.5)
    out = {"name": name, "module": type(m).__name__, "features": m.num_features, "eps": m.eps,
           "momentum": m.momentum, "affine": m.affine, "track_running_stats": m.track_running_stats,
           "shape": list(shape),
           "weight": m.weight.detach().flatten().tolist() if m.affine else None,
           "bias": m.bias.detach().flatten().tolist() if m.affine else None, "steps": []}
    m.train()
    for s in range(steps + 1):
        if s == steps:
            m.eval()
        x = (torch.randn(*shape) * scale + shift).requires_grad_(True)
        g = torch.randn(*shape)
        if m.affine:
            m.weight.grad = None
            m.bias.grad = None
        y = m(x)
        (y * g).sum().backward()
        rec = {"training": s < steps, "x": x.detach().flatten().tolist(), "g": g.flatten().tolist(),
               "y": y.detach().flatten().tolist(), "grad_x": x.grad.flatten().tolist()}
        if m.affine:
            rec["grad_weight"] = m.weight.grad.flatten().tolist()
            rec["grad_bias"] = m.bias.grad.flatten().tolist()
        if m.track_running_stats:
            rec["running_mean"] = m.running_mean.flatten().tolist()
            rec["running_var"] = m.running_var.flatten().tolist()
            rec["num_batches_tracked"] = int(m.num_batches_tracked.item())
        out["steps"].append(rec)
    return out


nn = torch.nn
cases = [
    case("1d [N, C], defaults", nn.BatchNorm1d(3), (5, 3), 2, scale=2.0, shift=1.0),
    case("1d [N, C, L], momentum 0.3", nn.BatchNorm1d(3, momentum=0.3), (4, 3, 6), 2),
    case("2d, defaults, odd sizes", nn.BatchNorm2d(4), (3, 4, 5, 7), 3, scale=3.0, shift=-2.0),
    case("2d, momentum None (cumulative average)", nn.BatchNorm2d(2, momentum=None), (2, 2, 3, 3), 3),
    case("2d, eps 1e-3, not affine", nn.BatchNorm2d(3, eps=1e-3, affine=False), (2, 3, 4, 4), 2),
    case("2d, no running statistics", nn.BatchNorm2d(2, track_running_stats=False), (3, 2, 2, 5), 1),
    case("1d, batch of 2", nn.BatchNorm1d(4), (2, 4), 2),
]
with open("torch_batchnorm.json", "w") as f:
    json.dump({"generator": "make_torch_batchnorm.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", len(cases), "cases with torch", torch.__version__)
