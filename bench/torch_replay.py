#!/usr/bin/env python3
"""Replay: train PyTorch's char GPT and hand goformer the same start and the same batches.

Answers one question: when goformer trains from PyTorch's initial weights on PyTorch's batches,
does it follow the same loss curve? If it does, any difference left between the two libraries'
final losses comes from their random draws (initial weights, batch order), not from the maths.

It uses the model, data split, learning-rate schedule and optimiser set-up of
../shared/bench/torch_gpt.py (imported from there, not copied), and writes into OUT:

  init/config.json, init/model.safetensors  the untrained weights, as a Hugging Face GPT-2
                                            directory (goformer's model.LoadHF reads it)
  batches.bin                               little-endian int32 window starts: max_iters*batch
                                            training starts, then eval_iters*batch val starts
  torch.json                                loss at every iteration, the val loss at the end

bench/replay (Go) reads the same files and writes goformer.json; compare the two with
bench/compare_replay.py. Usage:

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_replay.py --out /tmp/replay --seed 1337
  go run ./bench/replay -dir /tmp/replay
  /usr/bin/python3 bench/compare_replay.py /tmp/replay
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F


def write_safetensors(path, tensors):
    """tensors: name -> contiguous float32 tensor. The safetensors layout: an 8-byte
    little-endian header length, a JSON header of dtype/shape/byte offsets, the raw data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def hf_tensors(model, n_layer):
    """The weights under GPT-2's Hugging Face names; Conv1D weights are stored [in, out], the
    transpose of nn.Linear's (out, in)."""
    out = {"wte.weight": model.tok_emb.weight, "wpe.weight": model.pos_emb.weight,
           "ln_f.weight": model.ln_f.weight, "ln_f.bias": model.ln_f.bias}
    for i, blk in enumerate(model.blocks):
        p = f"h.{i}."
        for ours, theirs in (("ln_1", blk.ln1), ("ln_2", blk.ln2)):
            out[p + ours + ".weight"] = theirs.weight
            out[p + ours + ".bias"] = theirs.bias
        for ours, lin in (("attn.c_attn", blk.attn.qkv), ("attn.c_proj", blk.attn.out),
                          ("mlp.c_fc", blk.mlp.up), ("mlp.c_proj", blk.mlp.down)):
            out[p + ours + ".weight"] = lin.weight.t()
            out[p + ours + ".bias"] = lin.bias
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--bench", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    os.pardir, os.pardir, "shared", "bench"),
                    help="the folder holding torch_gpt.py")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max_iters", type=int, default=2000)
    ap.add_argument("--eval_iters", type=int, default=200)
    args = ap.parse_args()

    sys.path.insert(0, os.path.abspath(args.bench))
    import torch_gpt as ref

    # torch_gpt's "small" preset and defaults: nanoGPT's CPU run of shakespeare_char
    cfg = argparse.Namespace(**ref.PRESETS["small"])
    cfg.max_iters = args.max_iters
    cfg.attn, cfg.gelu = "manual", "erf"
    cfg.lr, cfg.min_lr, cfg.warmup_iters, cfg.lr_decay_iters = 1e-3, 1e-4, 100, 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text, chars, train_data, val_data = ref.load_corpus(ref.DEFAULT_DATA)
    model = ref.CharGPT(cfg, len(chars))
    model.train()

    os.makedirs(os.path.join(args.out, "init"), exist_ok=True)
    write_safetensors(os.path.join(args.out, "init", "model.safetensors"),
                      hf_tensors(model, cfg.n_layer))
    with open(os.path.join(args.out, "init", "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
                   "vocab_size": len(chars), "n_positions": cfg.block_size,
                   "n_embd": cfg.n_embd, "n_layer": cfg.n_layer, "n_head": cfg.n_head,
                   "activation_function": "gelu", "layer_norm_epsilon": 1e-5,
                   "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}, f, indent=1)

    B, T = cfg.batch_size, cfg.block_size
    gen = torch.Generator().manual_seed(args.seed)
    train_starts = torch.randint(len(train_data) - T, (cfg.max_iters, B), generator=gen)
    val_starts = torch.randint(len(val_data) - T, (args.eval_iters, B), generator=gen)
    with open(os.path.join(args.out, "batches.bin"), "wb") as f:
        for s in train_starts.flatten().tolist() + val_starts.flatten().tolist():
            f.write(struct.pack("<i", s))

    def batch(data, starts):
        x = torch.stack([data[i:i + T] for i in starts.tolist()])
        y = torch.stack([data[i + 1:i + 1 + T] for i in starts.tolist()])
        return x, y

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.99))
    losses = []
    for it in range(cfg.max_iters):
        for g in opt.param_groups:
            g["lr"] = ref.lr_at(it, cfg)
        x, y = batch(train_data, train_starts[it])
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if (it + 1) % 250 == 0:
            print(f"iter {it + 1}: loss {loss.item():.4f}", flush=True)

    model.eval()
    with torch.no_grad():
        val = [model(*batch(val_data, s))[1].item() for s in val_starts]
    result = {"losses": losses, "val": sum(val) / len(val), "seed": args.seed,
              "torch": torch.__version__}
    print(f"val loss over {len(val)} batches: {result['val']:.4f}")
    with open(os.path.join(args.out, "torch.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
