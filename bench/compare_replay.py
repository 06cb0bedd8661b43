#!/usr/bin/env python3
"""Lays goformer's replay loss curve over PyTorch's (see torch_replay.py): per-iteration loss
gaps, 100-iteration window means, and the final val losses. Usage: compare_replay.py DIR"""
import json
import sys


def main():
    d = sys.argv[1]
    with open(f"{d}/torch.json") as f:
        ref = json.load(f)
    with open(f"{d}/goformer.json") as f:
        ours = json.load(f)
    a, b = ref["losses"], ours["losses"]
    n = min(len(a), len(b))
    print(f"{'iters':>11} {'torch mean':>11} {'goformer':>11} {'max |gap|':>10}")
    for lo in range(0, n, max(1, n // 10)):
        hi = min(n, lo + max(1, n // 10))
        ma, mb = sum(a[lo:hi]) / (hi - lo), sum(b[lo:hi]) / (hi - lo)
        gap = max(abs(a[i] - b[i]) for i in range(lo, hi))
        print(f"{lo + 1:>5}-{hi:<5} {ma:11.4f} {mb:11.4f} {gap:10.2e}")
    print(f"first iteration: torch {a[0]:.6f}  goformer {b[0]:.6f}")
    print(f"final val loss: torch {ref['val']:.4f}  goformer {ours['val']:.4f}  "
          f"gap {ours['val'] - ref['val']:+.4f}")


if __name__ == "__main__":
    main()
