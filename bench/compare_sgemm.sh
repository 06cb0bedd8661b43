#!/usr/bin/env bash
# Alternates bench/sgemm (goformer's internal/gemm) and bench/torch_sgemm_cpu.py (torch.mm,
# torch.bmm, on the shapes of ../shared/bench/torch_sgemm.py, timed the same way) at 1 and 2
# threads, several rounds, then prints per shape, for each side, the median over rounds of the
# median sample (wall clock), the best sample, and the rate by process CPU time (which leaves out
# the time the threads waited for a core on a busy machine); goformer's share of the FMA peak
# measured in the same runs (internal/machine); and the ratios goformer/PyTorch.
#
#   bench/compare_sgemm.sh [rounds] [threads...]      (defaults: 3 1 2)
#
# TORCH_SGEMM overrides the path of torch_sgemm.py (where the shapes come from). Where OpenBLAS does not recognise the CPU, the
# PyTorch runs get OPENBLAS_CORETYPE (bench/openblas_env.sh), and the output says so.
set -euo pipefail
rounds=${1:-3}
shift || true
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
root=$(cd "$(dirname "$0")/.." && pwd)
torch_sgemm=${TORCH_SGEMM:-$root/../shared/bench/torch_sgemm.py}
[ -f "$torch_sgemm" ] || { echo "torch_sgemm.py not found at $torch_sgemm (set TORCH_SGEMM)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/sgemm" ./bench/sgemm)
. "$root/bench/openblas_env.sh"
echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for t in "${threads[@]}"; do
    "$tmp/sgemm" -threads "$t" -json > "$tmp/ours_${t}_$r.json"
    OMP_NUM_THREADS=$t /usr/bin/python3 "$root/bench/torch_sgemm_cpu.py" --shapes_from "$torch_sgemm" \
      --threads "$t" --json_out "$tmp/torch_${t}_$r.json" > /dev/null
    echo "round $r, $t thread(s) done (loadavg $(cut -d' ' -f1 /proc/loadavg))"
  done
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tmp" "${threads[@]}" <<'PY'
import glob, json, statistics, sys
tmp, threads = sys.argv[1], [int(t) for t in sys.argv[2:]]
for t in threads:
    ours = [json.load(open(f)) for f in sorted(glob.glob(f"{tmp}/ours_{t}_*.json"))]
    theirs = [json.load(open(f)) for f in sorted(glob.glob(f"{tmp}/torch_{t}_*.json"))]
    peak = max(o["peak_gflops"][str(t)] for o in ours)
    print(f"\n{ours[0]['cpu']}")
    print(f"{t} thread(s), kernel {ours[0]['kernel']}, measured {ours[0]['peak_width']} FMA peak {peak:.1f} GFLOP/s; "
          f"{len(ours)} rounds, medians of the per-round medians, best = best sample of all rounds")
    print(f"{'shape':<24} {'ours':>6} {'best':>6} {'CPU':>6} {'%peak':>6} {'best':>5} {'CPU':>5}"
          f" {'torch':>6} {'best':>6} {'CPU':>6} {'ratio':>6} {'best':>5} {'CPU':>5}")
    names = [r["name"] for r in ours[0]["rows"]]
    for name in names:
        o = [r for run in ours for r in run["rows"] if r["name"] == name]
        th = [r for run in theirs for r in run["rows"] if r["name"] == name]
        med = lambda rows, key: statistics.median(r[key] for r in rows)
        om, ob, oc = med(o, "gflops_median"), max(r["gflops_max"] for r in o), med(o, "gflops_cpu")
        line = f"{name:<24} {om:6.1f} {ob:6.1f} {oc:6.1f} {100*om/peak:5.0f}% {100*ob/peak:4.0f}% {100*oc/peak:4.0f}%"
        if th:
            tm, tb, tc = med(th, "gflops_median"), max(r["gflops_max"] for r in th), med(th, "gflops_cpu")
            line += f" {tm:6.1f} {tb:6.1f} {tc:6.1f} {om/tm:6.2f} {ob/tb:5.2f} {oc/tc:5.2f}"
        print(line)
PY
