#!/usr/bin/env bash
# Alternates timing runs of one training step of the encoder–decoder Transformer: goformer's
# BenchmarkTransformerTrainStep (model/transformer_bench_test.go) and PyTorch's nn.Transformer at
# the same configuration (bench/torch_transformer.py), post-LN, ReLU, 2 + 2 layers:
#   translate  examples/translate's model: d_model 64, 4 heads, feed-forward 128, vocabularies
#              of 40, batch 64, source length 12, target length 11
#   medium     d_model 128, 4 heads, feed-forward 512, vocabularies of 1000, batch 32, lengths 32
# A step is forward, cross-entropy, backward, gradient clipping and AdamW. Prints each round's
# ms/step, the medians, and the ratio goformer/PyTorch.
#
#   bench/compare_transformer.sh [rounds] [steps] [threads] [preset]   (defaults: 7 20 2 translate)
#
# Set OPENBLAS_CORETYPE if OPENBLAS_VERBOSE=2 shows "Core: Prescott" (see ../shared/bench/README.md).
set -euo pipefail
rounds=${1:-7}
steps=${2:-20}
threads=${3:-2}
preset=${4:-translate}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go test -c -o "$tmp/model.test" ./model)
grep -m1 "model name" /proc/cpuinfo || true

ours=() theirs=() ourcpu=() theircpu=()
for r in $(seq "$rounds"); do
  line=$("$tmp/model.test" -test.run '^$' -test.bench "TransformerTrainStep/$preset\$" -test.benchtime "${steps}x" -test.cpu "$threads" | grep ms/step)
  o=$(echo "$line" | sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p')
  oc=$(echo "$line" | sed -n 's/.* \([0-9.]*\) cpu-ms\/step.*/\1/p')
  line=$(OMP_NUM_THREADS=$threads /usr/bin/python3 "$root/bench/torch_transformer.py" --preset "$preset" --threads "$threads" --steps "$steps")
  t=$(echo "$line" | sed -n 's/ms_per_step_median \([0-9.]*\) .*/\1/p')
  tc=$(echo "$line" | sed -n 's/.*cpu_ms_per_step_median \([0-9.]*\)/\1/p')
  printf 'round %d: goformer %8.2f ms/step (cpu %8.2f)   pytorch %8.2f ms/step (cpu %8.2f)\n' "$r" "$o" "$oc" "$t" "$tc"
  ours+=("$o") theirs+=("$t") ourcpu+=("$oc") theircpu+=("$tc")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
mco=$(median "${ourcpu[@]}") mct=$(median "${theircpu[@]}")
echo "goformer runs: ${ours[*]}"
echo "pytorch runs:  ${theirs[*]}"
awk -v o="$mo" -v t="$mt" -v co="$mco" -v ct="$mct" -v n="$threads" -v p="$preset" 'BEGIN {
  printf "median (%s, %d threads): goformer %.2f ms/step, pytorch %.2f ms/step, ratio goformer/pytorch %.2f\n", p, n, o, t, o/t
  printf "median CPU time:          goformer %.2f ms/step, pytorch %.2f ms/step, ratio goformer/pytorch %.2f\n", co, ct, co/ct }'
