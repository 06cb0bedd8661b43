#!/usr/bin/env bash
# Alternates timing runs of examples/shakespeare and the PyTorch reference
# (../shared/bench/torch_gpt.py, referenced by path, not copied) on nanoGPT's small CPU config,
# and prints each run's median ms/iter, the medians of those, and the ratio ours/PyTorch.
#
#   bench/compare_shakespeare.sh [rounds] [iters] [threads]      (defaults: 5 300 2)
#
# TORCH_GPT overrides the path of torch_gpt.py. Where OpenBLAS does not recognise the CPU, the
# PyTorch runs get OPENBLAS_CORETYPE (bench/openblas_env.sh), and the output says so.
# Both sides time get_batch + forward + backward +
# clip + AdamW step, leave out the first 20 iterations and evaluation, and use the same threads.
set -euo pipefail
rounds=${1:-5}
iters=${2:-300}
threads=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
torch_gpt=${TORCH_GPT:-$root/../shared/bench/torch_gpt.py}
[ -f "$torch_gpt" ] || { echo "torch_gpt.py not found at $torch_gpt (set TORCH_GPT)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/shakespeare" ./examples/shakespeare)
. "$root/bench/openblas_env.sh"   # OPENBLAS_CORETYPE where OpenBLAS falls back to Prescott

ours=() theirs=()
for r in $(seq "$rounds"); do
  "$tmp/shakespeare" -max-iters "$iters" -eval-interval 0 -eval-iters 0 -sample-len 0 \
    -threads "$threads" -out "$tmp/ckpt" -log-interval 1000000 > "$tmp/ours.log"
  o=$(tail -n 1 "$tmp/ours.log" | sed -n 's/.*"ms_per_iter_median":\([0-9.]*\).*/\1/p')
  OMP_NUM_THREADS=$threads /usr/bin/python3 "$torch_gpt" --preset small --threads "$threads" \
    --max_iters "$iters" --eval_interval 0 --eval_iters 0 --gen_tokens 0 --json_out "$tmp/torch.json" > "$tmp/torch.log"
  t=$(sed -n 's/.*"ms_per_iter_median": \([0-9.]*\).*/\1/p' "$tmp/torch.json")
  printf 'round %d: goformer %8.2f ms/iter   pytorch %8.2f ms/iter\n' "$r" "$o" "$t"
  ours+=("$o") theirs+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "${ours[@]}")
mt=$(median "${theirs[@]}")
echo "goformer runs: ${ours[*]}"
echo "pytorch runs:  ${theirs[*]}"
awk -v o="$mo" -v t="$mt" 'BEGIN {printf "median: goformer %.2f ms/iter, pytorch %.2f ms/iter, ratio goformer/pytorch %.2f\n", o, t, o/t}'
