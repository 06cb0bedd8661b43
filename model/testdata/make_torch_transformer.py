#!/usr/bin/env python3
"""Writes a PyTorch nn.Transformer fixture in the format of ../shared/testdata/torch-transformer-tiny
(see its README): config.json, model.safetensors, reference.safetensors, reference.json.

This one differs from the shared fixture wherever a configuration can: pre-LN (norm_first), exact
GELU, 1 encoder and 3 decoder layers, other widths, head count, vocabularies, epsilon and special
ids. It is trained for a few seconds to reverse short sequences so that greedy decoding has
something real to get right.

    apt-get install -y python3-torch python3-numpy libopenblas0-openmp
    /usr/bin/python3 make_torch_transformer.py torch-transformer-preln-gelu
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn

CFG = {
    "src_vocab_size": 19,
    "tgt_vocab_size": 23,
    "d_model": 16,
    "nhead": 2,
    "num_encoder_layers": 1,
    "num_decoder_layers": 3,
    "dim_feedforward": 24,
    "activation": "gelu",
    "norm_first": True,
    "max_len": 32,
    "layer_norm_eps": 1e-6,
    "dropout": 0.0,
    "pad_id": 1,
    "bos_id": 2,
    "eos_id": 0,
    "embedding_scale": "sqrt(d_model)",
    "positional_encoding": "sinusoidal",
}
FIRST = 3  # the first ordinary token id in both vocabularies


class Seq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.src_embed = nn.Embedding(c["src_vocab_size"], d)
        self.tgt_embed = nn.Embedding(c["tgt_vocab_size"], d)
        self.transformer = nn.Transformer(
            d_model=d, nhead=c["nhead"], num_encoder_layers=c["num_encoder_layers"],
            num_decoder_layers=c["num_decoder_layers"], dim_feedforward=c["dim_feedforward"],
            dropout=c["dropout"], activation=c["activation"], layer_norm_eps=c["layer_norm_eps"],
            batch_first=True, norm_first=c["norm_first"])
        self.generator = nn.Linear(d, c["tgt_vocab_size"])
        pe = torch.zeros(c["max_len"], d)
        position = torch.arange(0, c["max_len"]).unsqueeze(1).float()
        div_term = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe, persistent=False)
        self.c = c

    def embed(self, e, ids):
        return e(ids) * math.sqrt(self.c["d_model"]) + self.pe[: ids.shape[1]]

    def forward(self, src, tgt):
        pad = self.c["pad_id"]
        t = tgt.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.transformer(
            self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt), tgt_mask=causal,
            src_key_padding_mask=src == pad, tgt_key_padding_mask=tgt == pad,
            memory_key_padding_mask=src == pad)
        return self.generator(h)


def batch(gen, n, lo, hi):
    """n sources of random lengths in [lo, hi] and their reversals, padded on the right."""
    c = CFG
    srcs = []
    for _ in range(n):
        length = int(torch.randint(lo, hi + 1, (1,), generator=gen))
        srcs.append(torch.randint(FIRST, c["src_vocab_size"], (length,), generator=gen).tolist())
    ts = max(len(s) for s in srcs)
    tt = ts + 1
    src = torch.full((n, ts), c["pad_id"])
    tin = torch.full((n, tt), c["pad_id"])
    tout = torch.full((n, tt), c["pad_id"])
    for i, s in enumerate(srcs):
        y = list(reversed(s))
        src[i, : len(s)] = torch.tensor(s)
        tin[i, : len(y) + 1] = torch.tensor([c["bos_id"]] + y)
        tout[i, : len(y) + 1] = torch.tensor(y + [c["eos_id"]])
    return src, tin, tout, srcs


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(out):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    c = CFG
    model = Seq2Seq(c)
    gen = torch.Generator().manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=c["pad_id"])
    for step in range(2500):
        src, tin, tout, _ = batch(gen, 32, 2, 8)
        loss = loss_fn(model(src, tin).reshape(-1, c["tgt_vocab_size"]), tout.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    os.makedirs(out, exist_ok=True)
    names = [n for n, _ in model.named_parameters()]
    write_safetensors(os.path.join(out, "model.safetensors"), dict(model.named_parameters()), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(c, f, indent=2)

    # a padded batch: logits, loss and gradients
    src, tin, tout, _ = batch(torch.Generator().manual_seed(2), 4, 3, 9)
    model.zero_grad()
    logits = model(src, tin)
    loss = loss_fn(logits.reshape(-1, c["tgt_vocab_size"]), tout.reshape(-1))
    loss.backward()
    ref = {"src": src, "tgt_in": tin, "tgt_out": tout, "logits": logits, "loss": loss.reshape(1)}
    for n, p in model.named_parameters():
        ref["grad." + n] = p.grad

    # greedy decoding of each source alone
    _, _, _, srcs = batch(torch.Generator().manual_seed(3), 3, 3, 7)
    max_new = 10
    ls = max(len(s) for s in srcs)
    gsrc = torch.full((len(srcs), ls), c["pad_id"])
    gout = torch.full((len(srcs), max_new + 1), c["pad_id"])
    margin = float("inf")
    with torch.no_grad():
        model.eval()
        for i, s in enumerate(srcs):
            gsrc[i, : len(s)] = torch.tensor(s)
            y = [c["bos_id"]]
            for _ in range(max_new):
                last = model(torch.tensor([s]), torch.tensor([y]))[0, -1]
                top2 = torch.topk(last, 2).values
                margin = min(margin, float(top2[0] - top2[1]))
                y.append(int(last.argmax()))
                if y[-1] == c["eos_id"]:
                    break
            gout[i, : len(y)] = torch.tensor(y)
    ref["greedy.src"], ref["greedy.output"] = gsrc, gout
    write_safetensors(os.path.join(out, "reference.safetensors"), ref)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"config": c, "loss": loss.item(), "greedy_output": gout.tolist(),
                   "greedy_min_top2_margin": margin, "param_names": names, "torch": torch.__version__}, f, indent=1)
    print("loss", loss.item(), "greedy", gout.tolist(), "sources", srcs, "margin", margin)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "torch-transformer-preln-gelu")
