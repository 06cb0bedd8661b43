#!/bin/sh
# Writes torch_small.json: the losses of the PyTorch reference (../shared/bench/torch_gpt.py) for
# a small configuration, for TestDefaultRunFollowsPyTorch. The test runs the example with the same
# flags and -rng pytorch, and must reproduce these losses. Run from this folder with Debian's
# PyTorch (see ../../../../shared/bench/README.md):  sh make_torch_reference.sh
set -e
bench=../../../../shared/bench
args="--n_layer 2 --n_head 2 --n_embd 32 --block_size 16 --batch_size 8 --max_iters 60
      --lr 3e-3 --min_lr 3e-4 --warmup_iters 10 --eval_interval 20 --eval_iters 4 --seed 1337"
OMP_NUM_THREADS=1 /usr/bin/python3 "$bench/torch_gpt.py" $args --threads 1 --gen_tokens 0 \
  --timing_warmup 0 --json_out /tmp/torch_small_full.json > /dev/null
/usr/bin/python3 - "$args" <<'PY'
import json, sys
full = json.load(open("/tmp/torch_small_full.json"))
keep = {k: full[k] for k in ("torch", "n_layer", "n_head", "n_embd", "block_size", "batch_size",
                             "max_iters", "eval_iters", "seed", "params", "evals")}
keep["args"] = " ".join(sys.argv[1].split())
json.dump(keep, open("torch_small.json", "w"), indent=1)
PY
