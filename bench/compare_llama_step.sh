#!/usr/bin/env bash
# Alternates model's BenchmarkTrainStepSmallLlama (forward and backward of a 4-layer, 128-wide
# Llama-family decoder with grouped KV heads, batch 12 × 64) with the same step in PyTorch
# (bench/torch_llama_step.py), ROUNDS times at THREADS threads, and prints each pair's ms/step.
#   bench/compare_llama_step.sh [rounds] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-1}
grep -m1 'model name' /proc/cpuinfo
grep -m1 -E '^cpu family' /proc/cpuinfo; grep -m1 -E '^model\s' /proc/cpuinfo
go test -c -o /tmp/model.test ./model >/dev/null
# Debian's OpenBLAS 0.3.21 does not know every new CPU: ask for its AVX-512 kernels explicitly
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE_TORCH:-SkylakeX}
unset OPENBLAS_L2_SIZE
for r in $(seq "$rounds"); do
  go_ns=$(GOMAXPROCS=$threads /tmp/model.test -test.run '^$' -test.bench 'TrainStepSmallLlama$' -test.benchtime 40x | awk '/BenchmarkTrainStepSmallLlama/ {print $3}')
  torch=$(OMP_NUM_THREADS=$threads /usr/bin/python3 bench/torch_llama_step.py --threads "$threads" --steps 40)
  torch_ms=$(echo "$torch" | /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["ms_per_step_median"], 2))')
  echo "round $r: goformer $(awk -v n="$go_ns" 'BEGIN {printf "%.2f", n/1e6}') ms/step, PyTorch $torch_ms ms/step (median), ratio $(awk -v g="$go_ns" -v t="$torch_ms" 'BEGIN {printf "%.2f", g/1e6/t}')"
done
