#!/usr/bin/env python3
"""Writes torch-init/: the initial weights PyTorch draws for a small CharGPT after
torch.manual_seed(1337), as a Hugging Face GPT-2 directory, for TestNewLikePyTorch.

CharGPT is ../shared/bench/torch_gpt.py's model (nanoGPT's architecture and draw order). The
sizes are chosen so that the embeddings' lengths are not multiples of 16, which takes PyTorch's
normal_ through its last-partial-block path. Run with Debian's PyTorch on an x86 machine:

  /usr/bin/python3 make_torch_init.py
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, os.pardir, "shared", "bench"))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "bench"))
import torch_gpt  # noqa: E402
from torch_replay import hf_tensors, write_safetensors  # noqa: E402

cfg = argparse.Namespace(n_layer=2, n_head=2, n_embd=24, block_size=10, attn="manual", gelu="erf")
vocab = 37
torch.manual_seed(1337)
model = torch_gpt.CharGPT(cfg, vocab)
out = os.path.join(HERE, "torch-init")
os.makedirs(out, exist_ok=True)
write_safetensors(os.path.join(out, "model.safetensors"), hf_tensors(model, cfg.n_layer))
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({"model_type": "gpt2", "vocab_size": vocab, "n_positions": cfg.block_size,
               "n_embd": cfg.n_embd, "n_layer": cfg.n_layer, "n_head": cfg.n_head,
               "activation_function": "gelu", "layer_norm_epsilon": 1e-5,
               "torch_version": torch.__version__, "seed": 1337}, f, indent=1)

# torch-init-nobias: the same model with bias=False, nanoGPT's default, where the Linear layers
# draw no bias at construction. torch_gpt.py builds its Linears with biases, so they are swapped
# for bias-free ones here; the draws are still PyTorch's own. Stored under goformer's parameter
# names in PyTorch's (out, in) layout; the LayerNorms, which draw nothing, are left out.


class NoBiasLinear(torch.nn.Linear):
    def __init__(self, in_features, out_features, bias=True, **kw):
        super().__init__(in_features, out_features, bias=False, **kw)


torch_gpt.nn.Linear = NoBiasLinear
torch.manual_seed(1337)
model = torch_gpt.CharGPT(cfg, vocab)
weights = {"wte.weight": model.tok_emb.weight, "wpe.weight": model.pos_emb.weight}
for i, blk in enumerate(model.blocks):
    for name, lin in (("attn.c_attn", blk.attn.qkv), ("attn.c_proj", blk.attn.out),
                      ("mlp.c_fc", blk.mlp.up), ("mlp.c_proj", blk.mlp.down)):
        assert lin.bias is None
        weights[f"h.{i}.{name}.weight"] = lin.weight
out = os.path.join(HERE, "torch-init-nobias")
os.makedirs(out, exist_ok=True)
write_safetensors(os.path.join(out, "weights.safetensors"), weights)
