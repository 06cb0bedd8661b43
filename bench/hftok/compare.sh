#!/bin/sh
# compare.sh — encode speed of tokenizer/hf beside Hugging Face's tokenizers (npm package tokenizers,
# Rust through its Node binding) on the same texts, one text at a time, one thread of work,
# alternated: node, Go, node, Go. Figures are CPU time (user+system), steadier than wall time on a
# shared machine; the token counts show both sides give the same ids' count.
#
# usage: bench/hftok/compare.sh NODE_DIR [ROUNDS]
#   NODE_DIR has node_modules/tokenizers (mkdir -p /tmp/hftok && cd /tmp/hftok && npm install tokenizers@0.23.2)
set -e
repo=$(cd "$(dirname "$0")/../.." && pwd)
node_dir=${1:?usage: compare.sh NODE_DIR [ROUNDS]}
rounds=${2:-2}
shared=${GOFORMER_HF_TOKENIZERS:-$repo/../shared/testdata/hf-tokenizers}
texts=$(mktemp -d)
trap 'rm -rf "$texts"' EXIT
go run "$repo/bench/hftok" "$texts"
cp "$repo/../shared/data/tinyshakespeare.txt" "$texts/shakespeare.txt"
grep -m1 'model name' /proc/cpuinfo || true
i=1
while [ "$i" -le "$rounds" ]; do
  echo "== round $i: Hugging Face tokenizers"
  (cd "$node_dir" && RUNS=3 node "$repo/bench/hftok/hf_tokenizers.mjs" "$shared" \
    "$texts/shakespeare.txt" "$texts/mixed.txt" "$texts/letter.txt" "$texts/spaces.txt" "$texts/digits.txt" "$texts/cjk.txt")
  echo "== round $i: goformer tokenizer/hf"
  (cd "$repo" && GOMAXPROCS=1 go test ./tokenizer/hf/ -run XXX -bench HFEncode -benchtime 3x | grep Benchmark)
  i=$((i + 1))
done
