"""Forward and backward of a small Llama-family decoder in PyTorch, timed per step: the baseline of
model's BenchmarkTrainStepSmallLlama (same config, batch and sequence; no optimizer step in
either). RMSNorm, rotary positions (rotate half, theta 10000), SwiGLU, grouped KV heads, tied head.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_llama_step.py --threads 1 --steps 60
"""
import argparse, json, math, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--steps", type=int, default=60)
p.add_argument("--warmup", type=int, default=10)
p.add_argument("--vocab", type=int, default=65)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--kv_heads", type=int, default=2)
p.add_argument("--width", type=int, default=128)
p.add_argument("--ff", type=int, default=344)
p.add_argument("--batch", type=int, default=12)
p.add_argument("--seq", type=int, default=64)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.w, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        c, hs = a.width, a.width // a.heads
        self.hs = hs
        self.mask = torch.triu(torch.ones(a.seq, a.seq, dtype=torch.bool), diagonal=1)
        self.n1, self.n2 = RMSNorm(c), RMSNorm(c)
        self.q = nn.Linear(c, a.heads * hs, bias=False)
        self.k = nn.Linear(c, a.kv_heads * hs, bias=False)
        self.v = nn.Linear(c, a.kv_heads * hs, bias=False)
        self.o = nn.Linear(a.heads * hs, c, bias=False)
        self.gate = nn.Linear(c, a.ff, bias=False)
        self.up = nn.Linear(c, a.ff, bias=False)
        self.down = nn.Linear(a.ff, c, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, a.heads, self.hs).transpose(1, 2)
        k = self.k(h).view(b, t, a.kv_heads, self.hs).transpose(1, 2)
        v = self.v(h).view(b, t, a.kv_heads, self.hs).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = a.heads // a.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hs)  # torch 1.13 has no fused attention
        att = att.masked_fill(self.mask[:t, :t], float("-inf")).softmax(dim=-1)
        y = att @ v
        x = x + self.o(y.transpose(1, 2).reshape(b, t, -1))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(a.vocab, a.width)
        self.blocks = nn.ModuleList(Block() for _ in range(a.layers))
        self.norm = RMSNorm(a.width)
        hs = a.width // a.heads
        inv = 1.0 / (10000 ** (torch.arange(0, hs, 2).float() / hs))
        ang = torch.outer(torch.arange(a.seq).float(), inv)
        ang = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = ang.cos(), ang.sin()

    def forward(self, ids, targets):
        x = self.emb(ids)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin)
        logits = self.norm(x) @ self.emb.weight.t()
        return F.cross_entropy(logits.view(-1, a.vocab), targets.view(-1))


m = Model()
ids = torch.randint(0, a.vocab, (a.batch, a.seq))
tg = torch.randint(0, a.vocab, (a.batch, a.seq))
times = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    m.zero_grad(set_to_none=True)
    m(ids, tg).backward()
    if i >= a.warmup:
        times.append(time.perf_counter() - t0)
print(json.dumps({"torch": torch.__version__, "threads": a.threads, "ms_per_step_median": 1000 * statistics.median(times),
                  "ms_per_step_min": 1000 * min(times), "tokens_per_s": a.batch * a.seq / statistics.median(times)}))
