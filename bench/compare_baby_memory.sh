#!/usr/bin/env bash
# Peak memory and speed of nanoGPT's "baby GPT" (6 layers, 6 heads, 384 wide, block 256, batch 64)
# for examples/shakespeare and the PyTorch reference (../shared/bench/torch_gpt.py), one after the
# other on the same machine: peak RSS from /usr/bin/time -v, and each program's median s/iter.
#
#   bench/compare_baby_memory.sh [iters] [threads]      (defaults: 13 2)
#
# TORCH_GPT overrides the path of torch_gpt.py. Where OpenBLAS does not recognise the CPU, the
# PyTorch runs get OPENBLAS_CORETYPE (bench/openblas_env.sh), and the output says so.
# Needs /usr/bin/time (Debian's "time" package).
set -euo pipefail
iters=${1:-13}
threads=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
torch_gpt=${TORCH_GPT:-$root/../shared/bench/torch_gpt.py}
[ -f "$torch_gpt" ] || { echo "torch_gpt.py not found at $torch_gpt (set TORCH_GPT)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/shakespeare" ./examples/shakespeare)
. "$root/bench/openblas_env.sh"   # OPENBLAS_CORETYPE where OpenBLAS falls back to Prescott

/usr/bin/time -v "$tmp/shakespeare" -n-layer 6 -n-head 6 -n-embd 384 -block-size 256 -batch-size 64 \
  -max-iters "$iters" -eval-interval 0 -eval-iters 0 -sample-len 0 -threads "$threads" \
  -out "$tmp/ckpt" -log-interval 1000000 > "$tmp/ours.log" 2> "$tmp/ours.time"
OMP_NUM_THREADS=$threads /usr/bin/time -v /usr/bin/python3 "$torch_gpt" --preset baby --threads "$threads" \
  --max_iters "$iters" --timing_warmup 3 --eval_iters 0 --eval_interval 0 --gen_tokens 0 \
  --json_out "$tmp/torch.json" > "$tmp/torch.log" 2> "$tmp/torch.time"

rss() { awk '/Maximum resident set size/ {printf "%.2f", $NF / 1048576}' "$1"; }
ours_ms=$(tail -n 1 "$tmp/ours.log" | sed -n 's/.*"ms_per_iter_median":\([0-9.]*\).*/\1/p')
torch_ms=$(sed -n 's/.*"ms_per_iter_median": \([0-9.]*\).*/\1/p' "$tmp/torch.json")
awk -v r="$(rss "$tmp/ours.time")" -v ms="$ours_ms" 'BEGIN {printf "goformer: %s GB peak RSS, %.2f s/iter\n", r, ms / 1000}'
awk -v r="$(rss "$tmp/torch.time")" -v ms="$torch_ms" 'BEGIN {printf "pytorch:  %s GB peak RSS, %.2f s/iter\n", r, ms / 1000}'

