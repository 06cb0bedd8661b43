#!/usr/bin/env python3
"""Times one training step of PyTorch's nn.Transformer at the configurations of goformer's
BenchmarkTransformerTrainStep (model/transformer_bench_test.go): post-LN, ReLU, 2 + 2 layers,
wrapped with embeddings scaled by sqrt(d_model), sinusoidal positions and a Linear generator;
  translate: d_model 64, 4 heads, feed-forward 128, vocabularies of 40, batch 64, source length
             12, target length 11 (examples/translate's model)
  medium:    d_model 128, 4 heads, feed-forward 512, vocabularies of 1000, batch 32, lengths 32.
A step is forward, cross-entropy, backward, clip_grad_norm_(1.0) and AdamW.

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_transformer.py --preset translate --threads 2 --steps 30

Prints one line: the median wall and CPU ms/step over --steps timed steps after --warmup
untimed ones.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab, d, nhead, layers, ff, max_len):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, d)
        self.tgt_embed = nn.Embedding(vocab, d)
        self.transformer = nn.Transformer(d_model=d, nhead=nhead, num_encoder_layers=layers,
                                          num_decoder_layers=layers, dim_feedforward=ff, dropout=0.0,
                                          activation="relu", batch_first=True)
        self.generator = nn.Linear(d, vocab)
        pe = torch.zeros(max_len, d)
        pos = torch.arange(0, max_len).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe, persistent=False)
        self.scale = math.sqrt(d)

    def forward(self, src, tgt, causal):
        s = self.src_embed(src) * self.scale + self.pe[: src.shape[1]]
        t = self.tgt_embed(tgt) * self.scale + self.pe[: tgt.shape[1]]
        return self.generator(self.transformer(s, t, tgt_mask=causal))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=["translate", "medium"], default="translate")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    vocab, d, nhead, layers, ff, batch, ts, tt = {
        "translate": (40, 64, 4, 2, 128, 64, 12, 11),
        "medium": (1000, 128, 4, 2, 512, 32, 32, 32),
    }[a.preset]
    m = Seq2Seq(vocab, d, nhead, layers, ff, 64)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    src = torch.randint(3, vocab, (batch, ts))
    tgt_in = torch.randint(3, vocab, (batch, tt))
    tgt_in[:, 0] = 1
    tgt_out = torch.randint(3, vocab, (batch, tt))
    causal = torch.triu(torch.full((tt, tt), float("-inf")), diagonal=1)
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)
    times, cpu = [], []
    for i in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = loss_fn(m(src, tgt_in, causal).reshape(-1, vocab), tgt_out.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    # CPU time (all threads) is the steadier figure on a machine shared with other work
    print(f"ms_per_step_median {statistics.median(times):.2f} cpu_ms_per_step_median {statistics.median(cpu):.2f}")


if __name__ == "__main__":
    main()
