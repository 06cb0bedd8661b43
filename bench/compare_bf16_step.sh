#!/usr/bin/env bash
# Alternates the default Shakespeare run's training step with bf16 products
# (examples/shakespeare -precision bf16) with PyTorch's same step in float32 and under its bf16
# autocast (../shared/bench/torch_gpt.py, preset small), ROUNDS times at THREADS threads, and
# prints each round's median ms/step and the ratios. The autocast variant is the shared script
# with the loss computed inside torch.autocast("cpu", dtype=torch.bfloat16), written to a
# temporary directory beside a link to ../shared/data.
#   bench/compare_bf16_step.sh [rounds] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-2}
shared=$(cd ../shared && pwd)
grep -m1 'model name' /proc/cpuinfo
grep -m1 -E '^cpu family' /proc/cpuinfo; grep -m1 -E '^model\s' /proc/cpuinfo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/shakespeare" ./examples/shakespeare
mkdir -p "$tmp/bench"
ln -s "$shared/data" "$tmp/data"
sed 's/^\(\s*\)_, loss = model(x, y)$/\1with torch.autocast("cpu", dtype=torch.bfloat16):\n\1    _, loss = model(x, y)/' \
  "$shared/bench/torch_gpt.py" > "$tmp/bench/torch_gpt_autocast.py"
grep -q 'torch.autocast' "$tmp/bench/torch_gpt_autocast.py" || { echo "could not write the autocast variant" >&2; exit 1; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE_TORCH:-SkylakeX} OMP_NUM_THREADS=$threads
unset OPENBLAS_L2_SIZE
median() { /usr/bin/python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["ms_per_iter_median"], 2))' "$1"; }
torch_step() {
  /usr/bin/python3 "$1" --preset small --threads "$threads" --max_iters 200 --eval_interval 0 \
    --eval_iters 0 --gen_tokens 0 --json_out "$tmp/t.json" >/dev/null 2>&1
  median "$tmp/t.json"
}
for r in $(seq "$rounds"); do
  f32=$(torch_step "$shared/bench/torch_gpt.py")
  ac=$(torch_step "$tmp/bench/torch_gpt_autocast.py")
  "$tmp/shakespeare" -max-iters 200 -eval-interval 0 -eval-iters 0 -sample-len 0 -threads "$threads" \
    -out "$tmp/ckpt" -log-interval 1000000 -precision bf16 2>/dev/null | tail -1 > "$tmp/g.json"
  go=$(median "$tmp/g.json")
  echo "round $r: goformer bf16 $go ms/step, PyTorch float32 $f32, autocast $ac; ratios $(awk -v g="$go" -v f="$f32" -v a="$ac" 'BEGIN {printf "%.2f / %.2f", g/f, g/a}')"
done
