#!/usr/bin/env python3
"""torch.mm / torch.bmm float32 GFLOP/s on ../shared/bench/torch_sgemm.py's shapes, timed by wall
clock and by process CPU time.

The shapes (and their names) are read from torch_sgemm.py itself, so the two never drift apart.
Each shape is timed as torch_sgemm.py does (calibrated calls per sample, median sample), and also
as flops x threads / process CPU seconds: on a machine shared with other work that estimates the
rate without the time the threads waited for a core (time OpenMP threads spend spinning at a
barrier still counts). bench/compare_sgemm.sh runs it beside bench/sgemm, whose figures are the
same three.

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_sgemm_cpu.py --threads 2 --json_out t.json
"""
import argparse
import importlib.util
import json
import os
import statistics
import time

import torch


def load_shapes(path):
    spec = importlib.util.spec_from_file_location("torch_sgemm", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SQUARE, mod.SMALL_CONFIG


def bench(batch, M, K, N, trans_a, threads, min_ms, samples):
    g = torch.Generator().manual_seed(0)
    if batch == 1:
        a = torch.randn(K, M, generator=g).t() if trans_a else torch.randn(M, K, generator=g)
        b = torch.randn(K, N, generator=g)
        c = torch.empty(M, N)
        fn = lambda: torch.mm(a, b, out=c)
    else:
        a = torch.randn(batch, M, K, generator=g)
        b = torch.randn(batch, K, N, generator=g)
        c = torch.empty(batch, M, N)
        fn = lambda: torch.bmm(a, b, out=c)
    for _ in range(3):
        fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if (time.perf_counter() - t0) * 1000 >= min_ms:
            break
        n *= 2
    wall, cpu = [], []
    for _ in range(samples):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            fn()
        wall.append((time.perf_counter() - t0) / n)
        cpu.append((time.process_time() - c0) / n)
    flops = 2.0 * batch * M * K * N
    return {"batch": batch, "M": M, "K": K, "N": N, "trans_a": trans_a, "calls_per_sample": n,
            "us_median": statistics.median(wall) * 1e6,
            "gflops_median": flops / statistics.median(wall) / 1e9,
            "gflops_max": flops / min(wall) / 1e9,
            "gflops_cpu": flops * threads / statistics.median(cpu) / 1e9}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min_ms", type=float, default=20.0)
    ap.add_argument("--samples", type=int, default=15)
    ap.add_argument("--square", default="256,512,1024,2048")
    ap.add_argument("--shapes_from", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..", "..", "shared", "bench", "torch_sgemm.py"))
    ap.add_argument("--json_out", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    _, small = load_shapes(args.shapes_from)
    rows = []
    for s in [int(x) for x in args.square.split(",") if x]:
        r = bench(1, s, s, s, False, args.threads, args.min_ms, args.samples)
        r["name"] = f"square {s}"
        rows.append(r)
    for name, batch, M, K, N, ta in small:
        r = bench(batch, M, K, N, ta, args.threads, args.min_ms, args.samples)
        r["name"] = name
        rows.append(r)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for r in rows:
        print(f"{r['name']:<22} {r['gflops_median']:8.2f} GFLOP/s median  {r['gflops_max']:8.2f} best"
              f"  {r['gflops_cpu']:8.2f} by CPU time")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
