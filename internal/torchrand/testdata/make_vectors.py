#!/usr/bin/env python3
"""Writes vectors.json: values drawn by PyTorch's CPU generator, for torchrand's tests.

Run with Debian's PyTorch (../../../../shared/bench/README.md has the install line):
  /usr/bin/python3 make_vectors.py > vectors.json
Every case seeds a fresh torch.Generator, then makes the listed calls in order on it.
"""
import hashlib
import json

import torch


def bits(t):
    """float32 values as their IEEE bit patterns, so the test compares exactly."""
    return t.contiguous().view(torch.int32).tolist()


def case(seed, calls):
    g = torch.Generator().manual_seed(seed)
    out = []
    for kind, arg in calls:
        if kind == "randint":
            high, n = arg
            out.append({"kind": kind, "high": high, "n": n,
                        "ints": torch.randint(high, (n,), generator=g).tolist()})
        elif kind == "uniform":
            lo, hi, n = arg
            t = torch.empty(n).uniform_(lo, hi, generator=g)
            out.append({"kind": kind, "lo": lo, "hi": hi, "n": n, "bits": bits(t)})
        elif kind == "normal":
            mean, std, n = arg
            t = torch.empty(n).normal_(mean, std, generator=g)
            out.append({"kind": kind, "mean": mean, "std": std, "n": n, "bits": bits(t)})
    return {"seed": seed, "torch": torch.__version__, "calls": out}


cases = [
    case(1337, [("randint", (1003790, 12)), ("randint", (65, 7)), ("randint", (2**33, 5)),
                ("randint", (1, 3))]),
    case(0, [("uniform", (0.0, 1.0, 40)), ("uniform", (-0.088, 0.088, 33))]),
    # the normal fill works in blocks of 16, recomputing a last partial block
    case(42, [("normal", (0.0, 0.02, 8320)), ("normal", (0.0, 1.0, 37)),
              ("normal", (0.0, 0.02, 16))]),
    # fewer than 16 values take another path, which keeps a spare sample between calls
    case(7, [("normal", (0.0, 1.0, 5)), ("normal", (1.0, 2.0, 3)), ("normal", (0.0, 1.0, 20))]),
    case(2**40 + 5, [("randint", (1000, 4))]),
]
# a million normals, too many to list: their SHA-256 (little-endian float32 bytes) instead
g = torch.Generator().manual_seed(99)
big = torch.empty(1 << 20).normal_(0.0, 0.02, generator=g)
digest = {"seed": 99, "n": 1 << 20, "mean": 0.0, "std": 0.02,
          "sha256": hashlib.sha256(big.numpy().astype("<f4").tobytes()).hexdigest()}
print(json.dumps({"cases": cases, "normal_digest": digest}))
